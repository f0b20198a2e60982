/**
 * Verify step "4. terraform test": runs the module folder's own tests (tests/*.tftest.hcl:
 * the plan-time switches and the validations generated from the bad-input table) with the
 * AWS provider mocked and installed from the filesystem mirror: offline, no emulator.
 */
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunResult } from './lib/proc';

export interface ModuleTestResult {
  readonly passed: number;
  readonly failed: number;
  readonly files: readonly { file: string; runs: number }[];
}

/** `Success! 11 passed, 0 failed.` / `Failure! 9 passed, 2 failed.` */
export function parseTestSummary(output: string): { passed: number; failed: number } | undefined {
  const m = /(Success|Failure)! ([0-9]+) passed, ([0-9]+) failed/.exec(output);
  return m ? { passed: Number(m[2]), failed: Number(m[3]) } : undefined;
}

/**
 * Copies the module working copy to `dir` and runs `terraform init` and
 * `terraform test` there with `tf` (the pipeline's terraform runner).
 */
export async function runModuleTests(
  moduleDir: string,
  dir: string,
  tf: (dir: string, args: string[]) => Promise<RunResult>,
): Promise<{ result: ModuleTestResult; output: RunResult }> {
  cpSync(moduleDir, dir, {
    recursive: true,
    filter: (src) =>
      !src.includes(`${moduleDir}/.terraform`) && !src.endsWith('.terraform.lock.hcl'),
  });
  const files = readdirSync(join(dir, 'tests'))
    .filter((f) => f.endsWith('.tftest.hcl'))
    .sort()
    .map((file) => ({
      file,
      runs: (readFileSync(join(dir, 'tests', file), 'utf8').match(/^run "/gm) ?? []).length,
    }));
  const init = await tf(dir, ['init', '-backend=false', '-input=false', '-no-color']);
  if (init.code !== 0) return { result: { passed: 0, failed: 0, files }, output: init };
  const test = await tf(dir, ['test', '-no-color']);
  const summary = parseTestSummary(test.output) ?? { passed: 0, failed: 0 };
  return { result: { ...summary, files }, output: test };
}
