import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** scripts/run-bundle.cjs: what `npm run synth` runs the app bundle with. */
const RUNNER = resolve(__dirname, '..', 'scripts', 'run-bundle.cjs');
const dir = mkdtempSync(join(tmpdir(), 'pmm-run-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = join(dir, 'main.js');
const run = () => spawnSync(process.execPath, [RUNNER, bundle], { encoding: 'utf8' });
const caches = () => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));

describe('run-bundle.cjs', () => {
  it('runs the bundle as the main module, with require and __dirname of the bundle', () => {
    writeFileSync(
      bundle,
      "console.log(JSON.stringify({ main: require.main === module, dir: __dirname, path: typeof require('node:path').join }));\n",
    );
    const r = run();
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ main: true, dir, path: 'function' });
  });

  it('keeps one code cache named by the bundle content and replaces it when the bundle changes', () => {
    writeFileSync(bundle, "console.log('first');\n");
    expect(run().stdout).toBe('first\n');
    const [first] = caches();
    expect(first).toMatch(/^main\.js\.[0-9a-f]{16}\.v8cache$/);
    expect(run().stdout).toBe('first\n'); // from the cache
    expect(caches()).toEqual([first]);

    // Same length, other content: V8 alone would accept the old cache.
    writeFileSync(bundle, "console.log('other');\n");
    expect(run().stdout).toBe('other\n');
    expect(caches()).toHaveLength(1);
    expect(caches()[0]).not.toBe(first);
  });

  it('fails like node when the bundle throws', () => {
    writeFileSync(bundle, "throw new Error('synth failed');\n");
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('synth failed');
  });
});
