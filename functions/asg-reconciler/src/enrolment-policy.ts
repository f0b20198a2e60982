/**
 * The enrolment secret's resource policy, as the Lambda writes it (issue 13): only the
 * instances whose install is in flight may read the value, besides the reconciler and
 * `secret_readers`. Pure functions; the Lambda writes the result with PutResourcePolicy
 * (BlockPublicPolicy on) and Terraform only creates the first, instance-free version.
 *
 * - `DenyReadsExceptReconcilerReadersAndBatch`: Deny `GetSecretValue` to every principal
 *   (`"*"`, any account) unless its `aws:PrincipalArn` (for a role session: the role ARN) is
 *   the reconciler or a reader, or the request is signed with the instance credentials of a
 *   listed instance (`ec2:SourceInstanceARN` matching `*:instance/<id>`). Conditions are ANDed:
 *   a caller without instance credentials has no `ec2:SourceInstanceARN`, so `StringNotLike`
 *   holds for it.
 *   An explicit deny wins over any identity policy of this account.
 * - `AllowBatchInstancesOfThisAccount`: Allow `GetSecretValue` to a role session of this
 *   account (`aws:PrincipalAccount`) on a listed instance, so the monitored ASG roles need no
 *   identity grant. Access Analyzer / BlockPublicPolicy count a `"*"` principal restricted by
 *   `aws:PrincipalAccount` to a known account as not public.
 * With no instance listed, only the deny exists (nobody but the reconciler and the readers).
 * Instances are listed as `*:instance/<id>` rather than full ARNs (half the characters, so
 * twice as many fit in 20 KB): instance IDs are unique, and the allow is pinned to this
 * account by `aws:PrincipalAccount`.
 */

export const READ_ACTION = 'secretsmanager:GetSecretValue';
/** Secrets Manager's limit for a resource policy (characters). */
export const MAX_POLICY_CHARS = 20_480;
export const DENY_SID = 'DenyReadsExceptReconcilerReadersAndBatch';
export const ALLOW_SID = 'AllowBatchInstancesOfThisAccount';

export interface PolicyInputs {
  /** The reconciler's role ARN (never locked out). */
  readonly reconcilerRoleArn: string;
  /** `secret_readers` (never locked out). */
  readonly readerArns: readonly string[];
  /** The account of the secret (and of the monitored instances). */
  readonly accountId: string;
}

/** The account of a Secrets Manager secret, from its ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:...). */
export function accountOf(secretArn: string): string {
  const p = secretArn.split(':');
  if (p.length < 7 || p[0] !== 'arn' || p[2] !== 'secretsmanager' || !/^\d{12}$/.test(p[4])) {
    throw new Error(`not a Secrets Manager secret ARN: ${secretArn}`);
  }
  return p[4];
}

const INSTANCE_ID = /^i-[0-9A-Za-z]+$/;

/** The `ec2:SourceInstanceARN` pattern of one instance (`*:instance/<id>`). */
export function instancePattern(instanceId: string): string {
  if (!INSTANCE_ID.test(instanceId)) throw new Error(`not an instance ID: ${instanceId}`);
  return `*:instance/${instanceId}`;
}

/** The policy document (compact JSON) allowing exactly `instanceIds` besides the principals. */
export function buildEnrolmentPolicy(inputs: PolicyInputs, instanceIds: readonly string[]): string {
  const principals = [...new Set([inputs.reconcilerRoleArn, ...inputs.readerArns])].filter(
    (a) => a !== '',
  );
  if (principals.length === 0) throw new Error('the reconciler role ARN is required');
  const instances = [...new Set(instanceIds)].sort().map(instancePattern);
  const deny: Record<string, unknown> = {
    Sid: DENY_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: READ_ACTION,
    Resource: '*',
    Condition: {
      ArnNotEquals: { 'aws:PrincipalArn': principals },
      ...(instances.length > 0 ? { StringNotLike: { 'ec2:SourceInstanceARN': instances } } : {}),
    },
  };
  const statements: Record<string, unknown>[] = [deny];
  if (instances.length > 0) {
    statements.push({
      Sid: ALLOW_SID,
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: READ_ACTION,
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalAccount': inputs.accountId },
        StringLike: { 'ec2:SourceInstanceARN': instances },
      },
    });
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/**
 * The largest prefix of `wanted` (instance IDs, in the caller's priority order) whose policy
 * stays within {@link MAX_POLICY_CHARS}: `included` go into `policy`, `excluded` wait for a
 * later run. Throws when even the instance-free policy does not fit (too many readers).
 */
export function fitEnrolmentPolicy(
  inputs: PolicyInputs,
  wanted: readonly string[],
  maxChars = MAX_POLICY_CHARS,
): { policy: string; included: string[]; excluded: string[] } {
  const unique = [...new Set(wanted)];
  const fits = (n: number) => buildEnrolmentPolicy(inputs, unique.slice(0, n)).length <= maxChars;
  if (!fits(0)) throw new Error('the enrolment secret policy exceeds 20 KB without any instance');
  let lo = 0;
  let hi = unique.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  const included = unique.slice(0, lo);
  return {
    policy: buildEnrolmentPolicy(inputs, included),
    included,
    excluded: unique.slice(lo),
  };
}

/**
 * The instance IDs a policy (as GetResourcePolicy returns it) allows; [] for a policy without
 * our allow statement (Terraform's first version, or none); undefined when the text is not
 * JSON (unknown).
 */
export function allowedInstanceIds(policy: string | undefined): string[] | undefined {
  if (policy === undefined || policy.trim() === '') return [];
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return undefined;
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  const out = new Set<string>();
  for (const s of statements as { Sid?: string; Effect?: string; Condition?: unknown }[]) {
    if (s?.Sid !== ALLOW_SID || s.Effect !== 'Allow') continue;
    const v = (s.Condition as { StringLike?: Record<string, unknown> } | undefined)?.StringLike?.[
      'ec2:SourceInstanceARN'
    ];
    for (const a of Array.isArray(v) ? v : [v]) {
      if (typeof a === 'string') out.add(a.slice(a.lastIndexOf('/') + 1));
    }
  }
  return [...out].sort();
}

/** JSON with object keys and string lists sorted (a policy's meaning, not its layout). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonical);
    return items.every((x) => typeof x === 'string') ? [...(items as string[])].sort() : items;
  }
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * Whether `current` (as GetResourcePolicy returns it, possibly Terraform's layout) says the
 * same as `wanted`; false for no policy or text that is not JSON.
 */
export function samePolicy(current: string | undefined, wanted: string): boolean {
  if (current === undefined) return false;
  try {
    return (
      JSON.stringify(canonical(JSON.parse(current))) ===
      JSON.stringify(canonical(JSON.parse(wanted)))
    );
  } catch {
    return false;
  }
}
