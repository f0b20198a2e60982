import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EnrolTarget } from './decide';

/** Inlined by the esbuild bundle (see build.ts); read from templates/ when running from source. */
declare const __INSTALL_SCRIPT__: string | undefined;

const PARAMETERS_MARKER = '# @@PARAMETERS@@';

let cached: string | undefined;

/** The install script template (templates/reconciler/install.sh). */
export function installScriptTemplate(): string {
  if (cached !== undefined) return cached;
  cached =
    typeof __INSTALL_SCRIPT__ === 'string'
      ? __INSTALL_SCRIPT__
      : readFileSync(resolve(__dirname, '../../../templates/reconciler/install.sh'), 'utf8');
  return cached;
}

/** `value` as one single-quoted POSIX shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const SAFE_FIELD = /^[A-Za-z0-9._:/@+=,-]+$/;

/** A target value that cannot go into the install command (the batch is split to isolate it). */
export class UnsafeValueError extends Error {
  constructor(what: string, value: string) {
    super(`unsafe ${what} for the install command: ${value}`);
    this.name = 'UnsafeValueError';
  }
}

function field(value: string, what: string): string {
  if (!SAFE_FIELD.test(value)) throw new UnsafeValueError(what, value);
  return value;
}

const PEM_CERTIFICATE =
  /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/;

/** A PEM certificate (base64 lines between the markers): nothing else reaches the script. */
function pemField(value: string): string {
  if (!PEM_CERTIFICATE.test(value))
    throw new UnsafeValueError('CA certificate', '(not a PEM certificate)');
  return value.trimEnd();
}

export interface InstallParameters {
  /** Private IP of the PMM instance. */
  readonly pmmServerAddress: string;
  /** PEM of PMM's private CA (public): the one CA the script trusts for PMM. */
  readonly pmmCaCertificate: string;
  /** Secrets Manager ARN of the enrolment credential (never the admin secret). */
  readonly enrolmentSecretArn: string;
  readonly targets: readonly EnrolTarget[];
  /** `managed_by` label value the script puts on the services it adds (the ownership marker). */
  readonly managedBy: string;
}

/**
 * The script for one SSM command: the template with its parameters line replaced by
 * non-secret assignments (secret ARNs, never secret values). One command serves a whole
 * batch; each instance finds its own line in PMM_TARGETS by instance ID.
 */
export function renderInstallScript(params: InstallParameters, template?: string): string {
  const lines = params.targets.map((t) =>
    [
      field(t.instanceId, 'instance ID'),
      field(t.serviceName, 'service name'),
      field(t.nodeAddress, 'node address'),
      String(t.port),
      field(t.username, 'user name'),
      t.passwordSecretArn ? field(t.passwordSecretArn, 'secret ARN') : '-',
    ].join(' '),
  );
  const assignments = [
    `PMM_SERVER_ADDRESS=${shellQuote(params.pmmServerAddress)}`,
    `PMM_CA_CERTIFICATE=${shellQuote(pemField(params.pmmCaCertificate))}`,
    `PMM_ENROLMENT_SECRET_ARN=${shellQuote(params.enrolmentSecretArn)}`,
    `PMM_MANAGED_BY=${shellQuote(field(params.managedBy, 'managed_by label'))}`,
    `PMM_TARGETS=${shellQuote(lines.join('\n'))}`,
  ].join('\n');
  const body = template ?? installScriptTemplate();
  if (!body.includes(PARAMETERS_MARKER)) throw new Error('install script has no parameters marker');
  return body.replace(PARAMETERS_MARKER, assignments);
}

/** Exit codes of the install script. */
export const EXIT = { ok: 0, notATarget: 10, busy: 11, alreadyExists: 17 } as const;
