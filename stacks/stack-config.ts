import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MODULE_VARIABLES, ModuleVariableName } from './module-variables';

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

/** Reads `PMM_CONFIG` (or ./pmm.config.json when present); missing file = empty config. */
export function loadRootStackConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): RootStackConfig {
  const explicit = env.PMM_CONFIG;
  const path = resolve(cwd, explicit ?? 'pmm.config.json');
  if (!existsSync(path)) {
    if (explicit !== undefined) throw new Error(`PMM_CONFIG=${explicit}: no such file`);
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return validateRootStackConfig(parsed, path);
}

export function validateRootStackConfig(raw: unknown, source = 'config'): RootStackConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${source}: must be a JSON object with "variables", "region" and "backend"`);
  }
  const cfg = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(cfg).filter(
    (k) => !['variables', 'region', 'backend', '$comment'].includes(k),
  );
  if (unknownKeys.length > 0) {
    throw new Error(
      `${source}: unknown key(s) ${unknownKeys.join(', ')}; allowed: variables, region, backend`,
    );
  }
  const variables = (cfg.variables ?? {}) as Record<string, unknown>;
  const unknownVars = Object.keys(variables).filter((k) => !(k in MODULE_VARIABLES));
  if (unknownVars.length > 0) {
    throw new Error(
      `${source}: unknown variable(s) ${unknownVars.join(', ')}; allowed: ${Object.keys(MODULE_VARIABLES).join(', ')}`,
    );
  }
  const backend = cfg.backend as BackendConfig | undefined;
  if (backend !== undefined) {
    if (backend.type === 's3') {
      for (const k of ['bucket', 'key', 'region'] as const) {
        if (typeof backend[k] !== 'string' || backend[k] === '') {
          throw new Error(`${source}: backend.${k} is required for the s3 backend`);
        }
      }
    } else if (backend.type !== 'local') {
      throw new Error(`${source}: backend.type must be "local" or "s3"`);
    }
  }
  return cfg as RootStackConfig;
}
