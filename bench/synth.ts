/**
 * `npm run bench:synth`: wall time and peak RSS of synthesizing both stacks, median of
 * BENCH_RUNS runs (default 5); and the same app with barrel imports (`@cdktf/provider-aws`
 * package root) as the baseline the deep imports are measured against: same number of runs,
 * same runner, deep and barrel runs alternating. Each run is exactly what `npm run synth`
 * runs: a fresh `node` process executing the esbuild bundle of main.ts (bundled as
 * `npm run build:app` does), which synthesizes once into CDKTF_OUTDIR (a temporary folder).
 * (The previous runner imported buildApp from the bundled main.ts, whose `require.main ===
 * module` guard is true inside a bundle, so every run synthesized twice.) Peak RSS comes from a tiny `--require` hook that prints
 * `process.resourceUsage().maxRSS` at exit. Targets (2-core machine): < 1.5 s, < 200 MB,
 * >= 5x faster than the barrel baseline.
 */
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Sample {
  wallMs: number;
  maxRssMiB: number;
}

/** Prints the process's peak RSS as the last line of stdout when it exits. */
const RSS_HOOK =
  "process.on('exit', () => console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })));\n";

/** Bundles a project's main.ts the way `npm run build:app` does. */
function bundle(projectDir: string): string {
  const outfile = join(projectDir, '.cache', 'bench', 'main.js');
  buildSync({
    entryPoints: [join(projectDir, 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * The synth process's environment, as `npm run synth` sets it: without NODE_EXTRA_CA_CERTS
 * (node 20 parses that CA bundle at startup, ~50 ms here; synth makes no TLS connection).
 */
function synthEnv(out: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', CDKTF_OUTDIR: out };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

function runOnce(entry: string, rssHook: string): Sample {
  const out = mkdtempSync(join(tmpdir(), 'pmm-bench-'));
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', rssHook, entry], {
    encoding: 'utf8',
    env: synthEnv(out),
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const wrote = readdirSync(out).length > 0;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`synth failed (${entry}):\n${r.stderr}`);
  if (!wrote) throw new Error(`synth wrote nothing to CDKTF_OUTDIR (${entry})`);
  const last = r.stdout.trim().split('\n').pop()!;
  return { wallMs, maxRssMiB: (JSON.parse(last) as { maxRssKiB: number }).maxRssKiB / 1024 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Bundles a project and writes its RSS hook; returns a function that runs one synth. */
function prepare(projectDir: string): () => Sample {
  const entry = bundle(projectDir);
  const rssHook = join(projectDir, '.cache', 'bench', 'report-rss.js');
  writeFileSync(rssHook, RSS_HOOK);
  runOnce(entry, rssHook); // warm the file cache
  return () => runOnce(entry, rssHook);
}

const summarize = (samples: Sample[]): Sample => ({
  wallMs: median(samples.map((s) => s.wallMs)),
  maxRssMiB: median(samples.map((s) => s.maxRssMiB)),
});

const camel = (file: string): string =>
  file.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A copy of the app's sources with every deep provider import turned into a barrel import. */
function barrelCopy(): string {
  const dir = join(root, '.cache', 'bench-barrel');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of [
    'main.ts',
    'stacks',
    'constructs',
    'templates',
    'functions',
    'package.json',
  ]) {
    cpSync(join(root, entry), join(dir, entry), {
      recursive: true,
      filter: (src) => !relative(root, src).includes('node_modules'),
    });
  }
  const rewrite = (file: string): void => {
    const src = readFileSync(file, 'utf8');
    const out = src.replace(
      /import \{([^}]+)\} from '@cdktf\/provider-(aws|random)\/lib\/([a-z0-9-]+)';/g,
      (_, names: string, pkg: string, mod: string) =>
        `import { ${camel(mod)} as __${pkg}_${camel(mod)} } from '@cdktf/provider-${pkg}';\nconst {${names}} = __${pkg}_${camel(mod)};`,
    );
    writeFileSync(file, out);
  };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) rewrite(p);
    }
  };
  walk(dir);
  return dir;
}

// Deep and barrel runs alternate, so both see the same load on a shared machine.
const runDeep = prepare(root);
const runBarrel = prepare(barrelCopy());
const deepSamples: Sample[] = [];
const barrelSamples: Sample[] = [];
for (let i = 0; i < RUNS; i++) {
  deepSamples.push(runDeep());
  barrelSamples.push(runBarrel());
}
const deep = summarize(deepSamples);
const barrel = summarize(barrelSamples);
const speedup = barrel.wallMs / deep.wallMs;

const row = (name: string, s: Sample): string =>
  `| ${name.padEnd(22)} | ${s.wallMs.toFixed(0).padStart(8)} | ${s.maxRssMiB.toFixed(0).padStart(13)} |`;
console.log(`synth of both stacks, median of ${RUNS} runs each`);
console.log('| imports                | wall (ms) | peak RSS (MiB) |');
console.log('|------------------------|----------:|---------------:|');
console.log(row('deep (this project)', deep));
console.log(row('barrel (baseline)', barrel));
console.log(`speedup over barrel: ${speedup.toFixed(1)}x`);

const failures = [
  deep.wallMs >= 1500 && `wall ${deep.wallMs.toFixed(0)} ms >= 1500 ms`,
  deep.maxRssMiB >= 200 && `peak RSS ${deep.maxRssMiB.toFixed(0)} MiB >= 200 MiB`,
  speedup < 5 && `speedup ${speedup.toFixed(1)}x < 5x`,
].filter(Boolean);
if (failures.length > 0) {
  console.error(`targets missed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('targets met: < 1500 ms, < 200 MiB, >= 5x');
