/**
 * Verify step "4. terraform test": runs the module folder's own tests (tests/*.tftest.hcl:
 * the plan-time switches and the validations generated from the bad-input table) with the
 * AWS provider mocked and installed from the filesystem mirror: offline, no emulator.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunResult } from './lib/proc';

export interface ModuleTestResult {
  readonly passed: number;
  readonly failed: number;
  readonly files: readonly { file: string; runs: number }[];
  /** What the test copy changed (ephemeral resources, which mock providers cannot serve). */
  readonly substituted: readonly string[];
}

/** The input that stands in for an ephemeral resource's attribute in the test copy. */
export const EPHEMERAL_STAND_IN_VARIABLE = 'verify_ephemeral_stand_in';

/**
 * Terraform 1.11's `mock_provider` serves no ephemeral resource types ("No ephemeral resource
 * types in mock providers"), so the test copy (never the published module) replaces every
 * ephemeral block by a sensitive input with a default: each reference
 * `ephemeral.TYPE.NAME.ATTR` becomes `var.verify_ephemeral_stand_in`. Returns what changed.
 */
export function substituteEphemeral(dir: string): string[] {
  const mainPath = join(dir, 'main.tf.json');
  const main = JSON.parse(readFileSync(mainPath, 'utf8')) as Record<string, unknown>;
  const eph = main.ephemeral as Record<string, Record<string, unknown>> | undefined;
  if (!eph) return [];
  const names = Object.entries(eph).flatMap(([type, blocks]) =>
    Object.keys(blocks).map((name) => `${type}.${name}`),
  );
  delete main.ephemeral;
  let text = JSON.stringify(main, null, 2);
  for (const n of names) {
    const ref = new RegExp(`ephemeral\\.${n.replace(/\./g, '\\.')}\\.[a-z_]+`, 'g');
    text = text.replace(ref, `var.${EPHEMERAL_STAND_IN_VARIABLE}`);
  }
  if (text.includes('ephemeral.'))
    throw new Error('an ephemeral reference was left in the test copy');
  writeFileSync(mainPath, text);
  const varsPath = join(dir, 'variables.tf.json');
  const vars = JSON.parse(readFileSync(varsPath, 'utf8')) as { variable: Record<string, unknown> };
  vars.variable[EPHEMERAL_STAND_IN_VARIABLE] = {
    type: 'string',
    sensitive: true,
    default: 'verify-stand-in-not-a-password',
  };
  writeFileSync(varsPath, JSON.stringify(vars, null, 2));
  return names.map((n) => `ephemeral.${n} -> var.${EPHEMERAL_STAND_IN_VARIABLE} (test copy only)`);
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
  const substituted = substituteEphemeral(dir);
  const init = await tf(dir, ['init', '-backend=false', '-input=false', '-no-color']);
  if (init.code !== 0)
    return { result: { passed: 0, failed: 0, files, substituted }, output: init };
  const test = await tf(dir, ['test', '-no-color']);
  const summary = parseTestSummary(test.output) ?? { passed: 0, failed: 0 };
  return { result: { ...summary, files, substituted }, output: test };
}
