import type { RdsPhaseConfig } from './rds-reconcile';
import { RDS_QUERY_SOURCES, RdsEngineFamily, RdsInput } from './rds-types';

interface RawRds {
  identifier?: unknown;
  engine?: unknown;
  username?: unknown;
  password_secret_arn?: unknown;
  port?: unknown;
  query_source?: unknown;
  custom_labels?: unknown;
}

/** Custom label names the reconciler sets itself (the module variable rejects them too). */
export const RESERVED_RDS_LABELS = [
  'managed_by',
  'aws_rds_instance',
  'aws_rds_input',
  'rds_fingerprint',
] as const;

const DEFAULT_QUERY_SOURCE: Record<RdsEngineFamily, string> = {
  mysql: 'perfschema',
  postgresql: 'pgstatements',
};

/**
 * Parses the Terraform-shaped `monitored_rds` JSON (env MONITORED_RDS; absent or empty = no
 * RDS phase). The module variable validates the same rules at plan time; this is the
 * Lambda's own guard.
 */
export function parseMonitoredRds(json: string | undefined): RdsInput[] {
  if (json === undefined || json.trim() === '') return [];
  const raw = JSON.parse(json) as RawRds[] | null;
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw new Error('MONITORED_RDS must be a JSON list');
  const seen = new Set<string>();
  return raw.map((r, i) => {
    const at = `MONITORED_RDS[${i}]`;
    if (typeof r.identifier !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(r.identifier)) {
      throw new Error(`${at}.identifier must be an RDS DB instance or cluster identifier`);
    }
    if (seen.has(r.identifier)) throw new Error(`${at}.identifier ${r.identifier} is listed twice`);
    seen.add(r.identifier);
    if (r.engine !== 'mysql' && r.engine !== 'postgresql') {
      throw new Error(`${at}.engine must be "mysql" or "postgresql"`);
    }
    const engine: RdsEngineFamily = r.engine;
    if (typeof r.username !== 'string' || r.username === '') {
      throw new Error(`${at}.username must be a non-empty string`);
    }
    if (typeof r.password_secret_arn !== 'string' || !r.password_secret_arn.startsWith('arn:')) {
      throw new Error(`${at}.password_secret_arn must be a Secrets Manager secret ARN`);
    }
    let port: number | null = null;
    if (r.port !== undefined && r.port !== null) {
      port = Number(r.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`${at}.port must be 1..65535`);
      }
    }
    const qs = r.query_source ?? DEFAULT_QUERY_SOURCE[engine];
    if (typeof qs !== 'string' || !RDS_QUERY_SOURCES[engine].includes(qs)) {
      throw new Error(
        `${at}.query_source must be one of ${RDS_QUERY_SOURCES[engine].join(', ')} for ${engine}`,
      );
    }
    const labels: Record<string, string> = {};
    if (r.custom_labels !== undefined && r.custom_labels !== null) {
      if (typeof r.custom_labels !== 'object' || Array.isArray(r.custom_labels)) {
        throw new Error(`${at}.custom_labels must be a map of strings`);
      }
      for (const [k, v] of Object.entries(r.custom_labels as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`${at}.custom_labels.${k} must be a string`);
        if ((RESERVED_RDS_LABELS as readonly string[]).includes(k)) {
          throw new Error(`${at}.custom_labels must not set ${k} (the reconciler sets it)`);
        }
        labels[k] = v;
      }
    }
    return {
      identifier: r.identifier,
      engine,
      username: r.username,
      passwordSecretArn: r.password_secret_arn,
      port,
      querySource: qs,
      customLabels: labels,
    };
  });
}

/**
 * The RDS phase's settings from the Lambda environment: MONITORED_RDS, RDS_STATE_PARAMETER
 * (required when MONITORED_RDS is non-empty), AWS_REGION (set by Lambda). PMM's URL, its CA
 * parameter and the grace period are the reconciler's (config.ts).
 */
export function loadRdsConfig(
  env: NodeJS.ProcessEnv,
  base: {
    pmmApiUrl: string;
    caParameterName: string;
    adminSecretArn: string;
    missingGraceMs: number;
  },
): RdsPhaseConfig {
  const inputs = parseMonitoredRds(env.MONITORED_RDS);
  const stateParameterName = env.RDS_STATE_PARAMETER ?? '';
  if (inputs.length > 0 && stateParameterName === '') {
    throw new Error('environment variable RDS_STATE_PARAMETER is required with MONITORED_RDS');
  }
  return {
    inputs,
    pmmApiUrl: base.pmmApiUrl,
    caParameterName: base.caParameterName,
    adminSecretArn: base.adminSecretArn,
    stateParameterName,
    missingGraceMs: base.missingGraceMs,
    region: env.AWS_REGION ?? '',
  };
}
