import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { terraformEnv } from '../../scripts/verify/lib/terraform';

/**
 * Environment for tests that run a real `terraform` (no providers beyond the builtin one, no
 * network): the verify pipeline's own terraform environment with an empty CLI config, so the
 * machine's TF_CLI_CONFIG_FILE / ~/.terraformrc and the caller's TF_VAR_* / TF_CLI_ARGS* do
 * not change a result.
 */
export function terraformTestEnv(): NodeJS.ProcessEnv {
  return terraformEnv('/dev/null');
}

export interface TerraformEvalOptions {
  /** Variable blocks to declare, as in `*.tf.json` (name -> { type, default, ... }). */
  readonly variables?: Record<string, unknown>;
  /** Their values: HCL literals (`'["a"]'`, `'null'`) or numbers, passed as `-var`. */
  readonly values?: Readonly<Record<string, string | number>>;
  /** Locals to declare (name -> value, as in `*.tf.json`). */
  readonly locals?: Record<string, unknown>;
}

/**
 * Evaluates `expression` (HCL; a synthesized `${...}` wrapper is removed) with real Terraform
 * (`terraform console` in a scratch folder) and returns its value, JSON-decoded (`null` for
 * null, numbers as numbers).
 */
export function terraformEval(expression: string, options: TerraformEvalOptions = {}): unknown {
  const hcl =
    expression.startsWith('${') && expression.endsWith('}') ? expression.slice(2, -1) : expression;
  const dir = mkdtempSync(join(tmpdir(), 'pmm-tf-eval-'));
  try {
    if (options.variables !== undefined) {
      writeFileSync(join(dir, 'vars.tf.json'), JSON.stringify({ variable: options.variables }));
    }
    if (options.locals !== undefined) {
      writeFileSync(join(dir, 'locals.tf.json'), JSON.stringify({ locals: options.locals }));
    }
    const args = Object.entries(options.values ?? {}).map(([k, v]) => `-var=${k}=${v}`);
    let out: string;
    try {
      out = execFileSync('terraform', ['console', '-no-color', ...args], {
        cwd: dir,
        input: `jsonencode(${hcl})\n`,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
        env: terraformTestEnv(),
      });
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr ?? '';
      throw new Error(`terraform console failed (is terraform on PATH?): ${stderr || String(e)}`);
    }
    return JSON.parse(JSON.parse(out.trim()) as string);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
