/**
 * checkov over any plan JSON (`terraform show -json <planfile>`), classified against
 * verify/checkov-skips.yaml like the verify pipeline's own scans:
 *
 *   npx tsx scripts/verify/checkov-plan.ts <plan.json> [<plan.json> ...]
 *
 * Uses the checkov venv `npm run verify` installs (.cache/verify/checkov). Prints one summary
 * line per file and every unexplained finding; exits 1 when any file has one (or cannot be
 * scanned), 2 on a usage error. Day-2 plans (a second apply, a rename, an upgrade) are
 * scanned with this.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CheckovSummary,
  CheckovTools,
  findingLines,
  loadSkipsFile,
  scanPlanJson,
} from './lib/checkov';

const ROOT = resolve(__dirname, '..', '..');
const VENV = join(ROOT, '.cache', 'verify', 'checkov', 'bin');
export const SKIPS_FILE = join(ROOT, 'verify', 'checkov-skips.yaml');

/** Scans each plan file; returns the printed lines and whether every finding was explained. */
export async function checkPlans(
  tools: CheckovTools,
  files: readonly string[],
  skipsFile = SKIPS_FILE,
): Promise<{ ok: boolean; lines: string[]; summaries: CheckovSummary[] }> {
  const skips = await loadSkipsFile(tools, skipsFile);
  const lines: string[] = [];
  const summaries: CheckovSummary[] = [];
  let ok = true;
  for (const file of files) {
    try {
      const sum = await scanPlanJson(tools, file, skips);
      summaries.push(sum);
      const findings = findingLines(sum);
      lines.push(
        `${file}: ${sum.passed} passed, ${sum.failed.length} failed, ${sum.skipped.length} skipped`,
        ...findings,
      );
      if (findings.length) ok = false;
    } catch (e) {
      ok = false;
      lines.push(`${file}: NOT SCANNED: ${(e as Error).message}`);
    }
  }
  return { ok, lines, summaries };
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.some((a) => a.startsWith('-'))) {
    console.error('usage: npx tsx scripts/verify/checkov-plan.ts <plan.json> [<plan.json> ...]');
    return 2;
  }
  const missing = argv.filter((f) => !existsSync(f));
  if (missing.length) {
    console.error(`no such file: ${missing.join(', ')}`);
    return 2;
  }
  const tools = { checkov: join(VENV, 'checkov'), python: join(VENV, 'python') };
  if (!existsSync(tools.checkov)) {
    console.error(`checkov is not installed at ${tools.checkov}: run npm run verify once`);
    return 2;
  }
  const { ok, lines } = await checkPlans(tools, argv);
  console.log(lines.join('\n'));
  console.log(ok ? 'checkov: every finding explained' : 'checkov: UNEXPLAINED FINDINGS (above)');
  return ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
}
