import { randomBytes } from 'node:crypto';
import { AwsIo } from './aws';
import {
  allowedInstanceIds,
  fitEnrolmentPolicy,
  PolicyInputs,
  samePolicy,
} from './enrolment-policy';
import { PmmApi } from './pmm-api';
import { Redactor } from './redact';
import { errorMessage, errorName } from './util';

/**
 * The enrolment credential (issue 13; docs/reconciler.md, "The enrolment credential").
 *
 * Instances register with the login and password of one dedicated Grafana user, not with a
 * service-account token: pmm-managed's RegisterNode hands a token-authenticated caller its
 * own token back as the node's credential (managed/services/management/node.go, `if token
 * != "" { res.Token = token }`), so a node registered with a shared token would keep it in
 * pmm-agent.yaml for good and break when it expires or is revoked. With a user's password,
 * PMM creates the node's own service account and token (client.go CreateServiceAccount).
 *
 * Lifecycle (runs never overlap: reserved concurrency 1):
 * - before a run sends installs, the secret's resource policy is set to exactly the instances
 *   with an install in flight plus the ones about to be sent (enrolment-policy.ts), then the
 *   stored password is reused if Grafana still accepts it, otherwise a new random password
 *   is set and stored (PutSecretValue);
 * - after the run (`settle`), if no install of the reconciler is in flight (this run's or an
 *   earlier run's, `ListCommands`), the credential is revoked: the secret's value is cleared,
 *   the password replaced by a random one nobody stores and the user's sessions ended, and
 *   the policy goes back to "no instance". While installs are in flight the password stays
 *   valid (an instance reads the secret when it registers) and the policy is narrowed to them.
 * Only the user whose login is exactly {@link ENROLMENT_LOGIN} is ever touched.
 */

/** Login of the Grafana user the instances register as. */
export const ENROLMENT_LOGIN = 'pmm-asg-reconciler-enrolment';
/**
 * Its role in the default organisation. Registration needs Admin: auth_server.go maps
 * `/v1/management/` to admin, and RegisterNode creates the node's service account with the
 * caller's credentials (client.go createServiceAccount), which takes an org Admin.
 */
export const ENROLMENT_ROLE = 'Admin';

export type CredentialSource = 'reused' | 'issued';
/** What the end of a run did with the credential. */
export type SettleResult = 'revoked' | 'kept' | 'deferred' | 'unknown';

interface StoredCredential {
  readonly username: string;
  readonly password: string;
}

function parseStored(raw: string): StoredCredential | undefined {
  try {
    const v = JSON.parse(raw) as Partial<StoredCredential>;
    if (typeof v.username === 'string' && typeof v.password === 'string' && v.password !== '') {
      return { username: v.username, password: v.password };
    }
  } catch {
    // a cleared or foreign value: no credential
  }
  return undefined;
}

/**
 * A password nobody stores (revocation) or the one the instances get: 192 random bits as 48
 * hex characters, plus `-Aa1` so it passes Grafana's password policy when an operator turns
 * it on (upper and lower case, a digit, a symbol). Shell- and JSON-safe.
 */
function randomPassword(): string {
  return `${randomBytes(24).toString('hex')}-Aa1`;
}

export interface EnrolmentAccessDeps {
  /** PMM with the admin credential. */
  readonly pmm: PmmApi;
  /** PMM with another credential (to check whether the stored one is still accepted). */
  readonly pmmAs: (username: string, password: string) => PmmApi;
  readonly aws: AwsIo;
  readonly secretArn: string;
  readonly policy: PolicyInputs;
  readonly now: () => number;
  readonly log: (entry: Record<string, unknown>) => void;
  /** Every password set or read is added, so nothing printed can carry it. */
  readonly redactor: Redactor;
  /** Comment prefix and look-back of the reconciler's install commands (ListCommands). */
  readonly commandComment: string;
  readonly lookBackMs: number;
}

export class EnrolmentAccess {
  /** Instance IDs the policy allows, as read at the start or last written; undefined: unknown. */
  private allowed: string[] | undefined;
  private credential?: Promise<CredentialSource>;
  /** This run changed the policy or the credential: `settle` must look. */
  private touched = false;
  /**
   * The policy in place is not what this Lambda would write for the instances it allows
   * (secret_readers changed in Terraform, a policy of an earlier version, none at all): the
   * next write happens even for the same instances, and a steady-state run makes it.
   */
  private stale = false;
  public source: CredentialSource | undefined;

  constructor(private readonly d: EnrolmentAccessDeps) {}

  /** Reads the current policy (GetResourcePolicy, one call a run). A failure leaves it unknown. */
  async load(): Promise<void> {
    try {
      const current = await this.d.aws.secretPolicy(this.d.secretArn);
      this.allowed = allowedInstanceIds(current);
      this.stale =
        this.allowed === undefined ||
        !samePolicy(current, fitEnrolmentPolicy(this.d.policy, this.allowed).policy);
    } catch (e) {
      this.allowed = undefined;
      this.d.log({
        level: 'warn',
        message: `reading the enrolment secret policy: ${errorName(e)}: ${errorMessage(e)}`,
      });
    }
  }

  /**
   * Lets `ids` (instances about to be sent) read the secret, keeping `inFlight` (installs
   * still running; undefined: unknown, then what the policy allows now is kept). Returns
   * the IDs that did not fit in the 20 KB policy (not to be sent this run). Throws when the
   * policy cannot be written.
   */
  async allow(ids: readonly string[], inFlight: readonly string[] | undefined): Promise<string[]> {
    const keep = inFlight ?? this.allowed ?? [];
    const wanted = [...keep, ...(this.touched ? (this.allowed ?? []) : [])];
    const { policy, included, excluded } = fitEnrolmentPolicy(this.d.policy, [...wanted, ...ids]);
    await this.write(policy, included);
    return excluded.filter((id) => ids.includes(id));
  }

  private async write(policy: string, included: string[]): Promise<void> {
    const sorted = [...included].sort();
    if (!this.stale && this.allowed && sorted.join(' ') === this.allowed.join(' ')) return;
    await this.d.aws.putSecretPolicy(this.d.secretArn, policy);
    this.allowed = sorted;
    this.stale = false;
    this.touched = true;
  }

  /** Makes the secret hold an accepted credential (once per run). */
  ensureCredential(): Promise<CredentialSource> {
    this.credential ??= this.obtain().then((s) => (this.source = s));
    return this.credential;
  }

  private async obtain(): Promise<CredentialSource> {
    // Only "no version yet" means "nothing stored": any other failed read is unknown.
    let stored: StoredCredential | undefined;
    try {
      stored = parseStored(await this.d.aws.secretString(this.d.secretArn));
    } catch (e) {
      if (errorName(e) !== 'ResourceNotFoundException') {
        throw new Error(
          `reading the enrolment secret failed (${errorName(e)}: ${errorMessage(e)}); no new credential issued`,
        );
      }
    }
    if (stored) this.d.redactor.add(stored.password);
    // Reused only while Grafana accepts it: an install in flight may be about to register with it.
    if (stored?.username === ENROLMENT_LOGIN) {
      if (await this.d.pmmAs(stored.username, stored.password).credentialAccepted()) {
        return 'reused';
      }
    }
    const userId =
      (await this.d.pmm.findUser(ENROLMENT_LOGIN)) ??
      (await this.d.pmm.createUser(ENROLMENT_LOGIN, this.burnt(), ENROLMENT_ROLE));
    const password = randomPassword();
    this.d.redactor.add(password);
    await this.d.pmm.setUserPassword(userId, password);
    this.touched = true;
    try {
      await this.d.aws.putSecretString(
        this.d.secretArn,
        JSON.stringify({
          username: ENROLMENT_LOGIN,
          password,
          issued_at: new Date(this.d.now()).toISOString(),
        }),
      );
    } catch (e) {
      // Not stored, so never usable: replace it rather than leave an Admin password alive.
      await this.d.pmm.setUserPassword(userId, this.burnt()).catch((d: unknown) =>
        this.d.log({
          level: 'warn',
          message: `replacing the unstored enrolment password: ${errorMessage(d)}`,
        }),
      );
      throw e;
    }
    this.d.log({ level: 'info', message: 'issued an enrolment credential', user: ENROLMENT_LOGIN });
    return 'issued';
  }

  /** A random password that is never stored (redacted all the same). */
  private burnt(): string {
    const p = randomPassword();
    this.d.redactor.add(p);
    return p;
  }

  /**
   * After the run: revokes the credential when no install of the reconciler is in flight,
   * else narrows the policy to the installs in flight. `pending` are this run's installs it
   * left running (ListCommands may not list a command sent a moment ago). Nothing to do in a
   * steady state (the policy allows no instance and this run changed nothing). Throws when
   * the revocation failed (the next run tries again).
   */
  async settle(pending: readonly string[], stop: () => boolean): Promise<SettleResult | undefined> {
    if (!this.touched && this.allowed !== undefined && this.allowed.length === 0) {
      // Nothing live. A policy that says something else (secret_readers changed, an earlier
      // version's policy) is replaced by the instance-free one; nothing else to do.
      if (this.stale && !stop()) {
        await this.write(fitEnrolmentPolicy(this.d.policy, []).policy, []);
        this.d.log({ level: 'info', message: 'enrolment secret policy updated (no instance)' });
      }
      return undefined;
    }
    if (stop()) {
      this.d.log({
        level: 'warn',
        message: 'enrolment credential check deferred: Lambda deadline near',
      });
      return 'deferred';
    }
    const flying = await this.d.aws.inFlightInstalls(
      this.d.now() - this.d.lookBackMs,
      this.d.commandComment,
    );
    if (flying === undefined) {
      // Unknown: an install may still need the password. The next run looks again.
      this.d.log({
        level: 'warn',
        message: 'enrolment credential kept: installs in flight unknown (ListCommands failed)',
      });
      return 'unknown';
    }
    const inFlight = [...new Set([...flying.keys(), ...pending])];
    if (inFlight.length > 0) {
      const { policy, included } = fitEnrolmentPolicy(this.d.policy, inFlight);
      await this.write(policy, included);
      return 'kept';
    }
    await this.revoke();
    return 'revoked';
  }

  /** Clears the stored value, replaces the password, ends sessions, allows no instance. */
  private async revoke(): Promise<void> {
    try {
      const held = parseStored(await this.d.aws.secretString(this.d.secretArn));
      if (held) {
        this.d.redactor.add(held.password);
        await this.d.aws.putSecretString(
          this.d.secretArn,
          JSON.stringify({ revoked_at: new Date(this.d.now()).toISOString() }),
        );
      }
    } catch (e) {
      // The value is dead once the password is replaced below; only logged.
      if (errorName(e) !== 'ResourceNotFoundException') {
        this.d.log({
          level: 'warn',
          message: `clearing the enrolment secret: ${errorName(e)}: ${errorMessage(e)}`,
        });
      }
    }
    const userId = await this.d.pmm.findUser(ENROLMENT_LOGIN);
    if (userId !== undefined) {
      await this.d.pmm.setUserPassword(userId, this.burnt());
      await this.d.pmm.logoutUser(userId);
    }
    const { policy } = fitEnrolmentPolicy(this.d.policy, []);
    await this.write(policy, []);
    this.d.log({ level: 'info', message: 'enrolment credential revoked', user: ENROLMENT_LOGIN });
  }
}
