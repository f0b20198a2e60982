import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONFIG_SCHEMA_FILE } from './config-schema';
import { configProblems } from './config-validator';
import { ModuleVariableName } from './module-variables';

/** Where the root stack keeps its state. */
export type BackendConfig =
  | { readonly type: 'local'; readonly path?: string }
  | {
      readonly type: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly region: string;
      /** @default - S3 native locking (use_lockfile) */
      readonly dynamodbTable?: string;
      /** @default true */
      readonly encrypt?: boolean;
    };

/** The root stack's deployment config (`pmm.config.json`, see examples/pmm.config.example.json). */
export interface RootStackConfig {
  /** Module variable values, by their module names; they become the variables' defaults. */
  readonly variables?: Partial<Record<ModuleVariableName, unknown>>;
  /** @default - AWS_REGION / the provider's own resolution */
  readonly region?: string;
  /** @default { type: 'local' } */
  readonly backend?: BackendConfig;
}

/**
 * A config the user must fix: printed as is (no stack trace) by main.ts, which exits 1.
 * The message names the file, each key path, what is wrong and, for an unknown key, the
 * nearest known one.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The config file synth reads: PMM_CONFIG, else ./pmm.config.json when it exists. */
export function configSource(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string | undefined {
  const path = resolve(cwd, env.PMM_CONFIG ?? 'pmm.config.json');
  return existsSync(path) ? path : undefined;
}

/** Reads `PMM_CONFIG` (or ./pmm.config.json when present); missing file = empty config. */
export function loadRootStackConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): RootStackConfig {
  const explicit = env.PMM_CONFIG;
  const path = resolve(cwd, explicit ?? 'pmm.config.json');
  if (!existsSync(path)) {
    if (explicit !== undefined) throw new ConfigError(`PMM_CONFIG=${explicit}: no such file`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return validateRootStackConfig(parsed, path);
}

/** Validates a parsed config against the schema generated from the module variables. */
export function validateRootStackConfig(raw: unknown, source = 'config'): RootStackConfig {
  const problems = configProblems(raw);
  if (problems.length > 0) {
    const n = problems.length;
    throw new ConfigError(
      `${source}: ${n} problem${n === 1 ? '' : 's'} (schema: ${CONFIG_SCHEMA_FILE})\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return raw as RootStackConfig;
}
