import { randomBytes } from 'node:crypto';
import { AwsIo } from './aws';
import { PmmApi } from './pmm-api';
import { Redactor } from './redact';
import { errorMessage, errorName } from './util';

/**
 * The enrolment token: a short-lived Grafana service-account token the instances register
 * with (`pmm-agent setup --server-username=service_token`), so they never read the PMM
 * admin password. The Lambda mints it with the admin credential and writes it to the
 * enrolment secret, which only the monitored ASG roles may read.
 */
export interface EnrolmentTokenOptions {
  /** Grafana service account that owns the tokens. @default 'pmm-asg-reconciler-enrolment' */
  readonly serviceAccountName?: string;
  /**
   * Lifetime of a minted token. It must cover SSM delivery (SendCommand TimeoutSeconds 600)
   * plus the install (executionTimeout 1200) with margin. @default 3600
   */
  readonly ttlSeconds?: number;
  /**
   * The stored token is reused while it has at least this long to live, so runs that enrol
   * do not write a new secret version every 5 minutes (Secrets Manager keeps at most about
   * 100 versions created in the last 24 hours). @default 2400
   */
  readonly minRemainingSeconds?: number;
  /** Expired tokens deleted per mint, at most. @default 10 */
  readonly maxExpiredDeletions?: number;
}

/**
 * Role of the enrolment service account. Node registration needs it (Percona's own
 * "Install PMM Client" wizard mints 15-minute Admin tokens for the same purpose).
 */
export const ENROLMENT_ROLE = 'Admin';

/** What the enrolment secret holds (JSON). */
interface StoredToken {
  readonly token: string;
  /** ISO 8601. */
  readonly expires_at: string;
}

export type TokenSource = 'reused' | 'minted';

export interface EnsuredToken {
  readonly source: TokenSource;
  /** The service account a token was minted for (for the expired-token cleanup). */
  readonly accountId?: number;
}

function parseStored(raw: string): StoredToken | undefined {
  try {
    const v = JSON.parse(raw) as Partial<StoredToken>;
    if (typeof v.token === 'string' && v.token !== '' && typeof v.expires_at === 'string') {
      return { token: v.token, expires_at: v.expires_at };
    }
  } catch {
    // not ours (e.g. a placeholder): mint
  }
  return undefined;
}

/**
 * Makes sure the enrolment secret holds a token valid for at least `minRemainingSeconds`:
 * reuses the stored one, or mints a new one and writes it (PutSecretValue). The token value
 * is never logged or returned.
 */
export async function ensureEnrolmentToken(deps: {
  readonly pmm: PmmApi;
  readonly aws: AwsIo;
  readonly secretArn: string;
  readonly now: () => number;
  readonly log: (entry: Record<string, unknown>) => void;
  /** The minted token is added to it, so nothing printed can carry it. */
  readonly redactor?: Redactor;
  readonly options?: EnrolmentTokenOptions;
}): Promise<EnsuredToken> {
  const o = deps.options ?? {};
  const ttl = o.ttlSeconds ?? 3600;
  const minRemaining = o.minRemainingSeconds ?? 2400;
  if (minRemaining >= ttl) throw new Error('minRemainingSeconds must be below ttlSeconds');

  // Only "no version yet" means "no token": any other failed read is unknown, and minting
  // then would write a new secret version (and a new Admin token) on every run.
  let stored: StoredToken | undefined;
  try {
    stored = parseStored(await deps.aws.secretString(deps.secretArn));
  } catch (e) {
    if (errorName(e) !== 'ResourceNotFoundException') {
      throw new Error(
        `reading the enrolment secret failed (${errorName(e)}: ${errorMessage(e)}); no new token minted`,
      );
    }
  }
  const now = deps.now();
  if (stored && Date.parse(stored.expires_at) - now >= minRemaining * 1000)
    return { source: 'reused' };

  const accountId = await deps.pmm.ensureServiceAccount(
    o.serviceAccountName ?? 'pmm-asg-reconciler-enrolment',
    ENROLMENT_ROLE,
  );
  const stamp = new Date(now).toISOString().replace(/[-:.]/g, '');
  const name = `enrol-${stamp}-${randomBytes(4).toString('hex')}`;
  const minted = await deps.pmm.createServiceAccountToken(accountId, name, ttl);
  deps.redactor?.add(minted.key);
  const value: StoredToken = {
    token: minted.key,
    expires_at: new Date(now + ttl * 1000).toISOString(),
  };
  try {
    await deps.aws.putSecretString(deps.secretArn, JSON.stringify(value));
  } catch (e) {
    // Not stored, so never used: revoke it rather than leave an Admin token alive for an hour.
    if (minted.id !== undefined) {
      await deps.pmm.deleteServiceAccountToken(accountId, minted.id).catch((d: unknown) =>
        deps.log({
          level: 'warn',
          message: `revoking the unstored token ${name}: ${errorMessage(d)}`,
        }),
      );
    }
    throw e;
  }
  deps.log({
    level: 'info',
    message: 'minted an enrolment token',
    tokenName: name,
    ttlSeconds: ttl,
  });
  return { source: 'minted', accountId };
}

/**
 * Deletes expired tokens of the enrolment service account: at most `max`, none once `stop()`
 * says the Lambda deadline is near; failures are only logged. Run after the installs were
 * sent, so a slow PMM here cannot delay enrolment.
 */
export async function deleteExpiredTokens(
  pmm: PmmApi,
  accountId: number,
  max: number,
  log: (entry: Record<string, unknown>) => void,
  stop: () => boolean,
): Promise<void> {
  if (stop()) return;
  try {
    const expired = (await pmm.listServiceAccountTokens(accountId)).filter((t) => t.hasExpired);
    for (const t of expired.slice(0, max)) {
      if (stop()) return;
      try {
        await pmm.deleteServiceAccountToken(accountId, t.id);
      } catch (e) {
        log({ level: 'warn', message: `deleting expired token ${t.name}: ${errorMessage(e)}` });
      }
    }
  } catch (e) {
    log({ level: 'warn', message: `listing enrolment tokens: ${errorMessage(e)}` });
  }
}
