import { AsgConfig } from './types';

/** Settings of one run, from the Lambda environment (no secret values in there). */
export interface ReconcilerConfig {
  readonly asgs: AsgConfig[];
  /** Private IP of the PMM instance: agents connect to it on 443. */
  readonly pmmServerAddress: string;
  /** PMM API base URL: `https://<pmmServerAddress>:443`, verified against PMM's CA. */
  readonly pmmApiUrl: string;
  /** SSM parameter the PMM host publishes its CA certificate (PEM) to (pmm-ca.ts). */
  readonly caParameterName: string;
  /** Secrets Manager ARN of the PMM admin password (read by the Lambda only). */
  readonly adminSecretArn: string;
  /** Secrets Manager ARN of the enrolment credential the Lambda writes and the instances read. */
  readonly enrolmentSecretArn: string;
  /** The Lambda's own role ARN: never locked out of the enrolment secret by its policy. */
  readonly reconcilerRoleArn: string;
  /** `secret_readers`: keep read access to the enrolment secret (its policy is the Lambda's). */
  readonly secretReaderArns: string[];
  /** SSM parameter holding the reconciler's state (when each missing ASG was first missed). */
  readonly stateParameterName: string;
  /** How long a monitored ASG may be missing before its marked services are removed. */
  readonly missingGraceMs: number;
}

interface RawAsg {
  asg_name?: unknown;
  service_type?: unknown;
  port?: unknown;
  username?: unknown;
  password_secret_arn?: unknown;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

/** Parses the Terraform-shaped `monitored_asgs` JSON (snake_case, as the module variable). */
export function parseMonitoredAsgs(json: string): AsgConfig[] {
  const raw = JSON.parse(json) as RawAsg[] | null;
  if (!Array.isArray(raw)) throw new Error('MONITORED_ASGS must be a JSON list');
  return raw.map((a, i) => {
    if (typeof a.asg_name !== 'string' || a.asg_name === '') {
      throw new Error(`MONITORED_ASGS[${i}].asg_name must be a non-empty string`);
    }
    if (typeof a.username !== 'string' || a.username === '') {
      throw new Error(`MONITORED_ASGS[${i}].username must be a non-empty string`);
    }
    const port = a.port === undefined || a.port === null ? 3306 : Number(a.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`MONITORED_ASGS[${i}].port must be 1..65535`);
    }
    const type = a.service_type ?? 'mysql';
    if (type !== 'mysql') throw new Error(`MONITORED_ASGS[${i}].service_type must be "mysql"`);
    const arn = a.password_secret_arn;
    return {
      asgName: a.asg_name,
      serviceType: 'mysql',
      port,
      username: a.username,
      passwordSecretArn: typeof arn === 'string' && arn !== '' ? arn : null,
    };
  });
}

/** Default grace period for a missing ASG (module variable reconciler_missing_asg_grace_hours). */
export const DEFAULT_MISSING_GRACE_HOURS = 6;

function graceHours(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_MISSING_GRACE_HOURS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`MISSING_ASG_GRACE_HOURS must be a whole number of hours >= 1, got ${raw}`);
  }
  return n;
}

/** `SECRET_READER_ARNS`: a JSON list of role ARNs (empty or unset: none). */
export function parseReaderArns(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const v = JSON.parse(raw) as unknown;
  if (!Array.isArray(v) || v.some((a) => typeof a !== 'string' || !a.startsWith('arn:'))) {
    throw new Error('SECRET_READER_ARNS must be a JSON list of ARNs');
  }
  return (v as string[]).filter((a) => a !== '');
}

export function loadConfig(env: NodeJS.ProcessEnv): ReconcilerConfig {
  const address = required(env, 'PMM_SERVER_ADDRESS');
  return {
    asgs: parseMonitoredAsgs(required(env, 'MONITORED_ASGS')),
    pmmServerAddress: address,
    pmmApiUrl: `https://${address}:443`,
    caParameterName: required(env, 'PMM_CA_PARAMETER'),
    adminSecretArn: required(env, 'PMM_ADMIN_SECRET_ARN'),
    enrolmentSecretArn: required(env, 'PMM_ENROLMENT_SECRET_ARN'),
    reconcilerRoleArn: required(env, 'RECONCILER_ROLE_ARN'),
    secretReaderArns: parseReaderArns(env.SECRET_READER_ARNS),
    stateParameterName: required(env, 'RECONCILER_STATE_PARAMETER'),
    missingGraceMs: graceHours(env.MISSING_ASG_GRACE_HOURS) * 3_600_000,
  };
}
