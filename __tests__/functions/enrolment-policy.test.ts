import {
  ALLOW_SID,
  accountOf,
  allowedInstanceIds,
  buildEnrolmentPolicy,
  DENY_SID,
  fitEnrolmentPolicy,
  instancePattern,
  MAX_POLICY_CHARS,
  PolicyInputs,
} from '../../functions/asg-reconciler/src/enrolment-policy';

const ACCOUNT = '123456789012';
const SECRET = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:pmm-enrolment-token-AbC`;
const RECONCILER = `arn:aws:iam::${ACCOUNT}:role/pmm-reconciler-abc`;
const READER = `arn:aws:iam::${ACCOUNT}:role/dba`;
const INPUTS: PolicyInputs = {
  reconcilerRoleArn: RECONCILER,
  readerArns: [READER],
  accountId: ACCOUNT,
};
const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
/** What ec2:SourceInstanceARN holds for instance n's credentials. */
const arn = (n: number) => `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/${id(n)}`;
const glob = (pattern: string, v: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(v);

interface Request {
  /** aws:PrincipalArn (the role ARN of a role session). */
  readonly principalArn: string;
  readonly principalAccount: string;
  /** ec2:SourceInstanceARN: present only with instance role credentials. */
  readonly sourceInstanceArn?: string;
  /** The caller's identity policy allows GetSecretValue on the secret. */
  readonly identityAllows: boolean;
}

type Statement = {
  Effect: 'Allow' | 'Deny';
  Principal: unknown;
  Action: string;
  Condition: Record<string, Record<string, string | string[]>>;
};

/**
 * The IAM evaluation of this policy's statements for a same-account GetSecretValue, for the
 * operators the policy uses (StringEquals / StringNotEquals / ArnNotEquals; a missing key
 * makes a positive operator false and a negated one true; a list value is an OR).
 */
function decide(policy: string, r: Request): 'allow' | 'deny' {
  const keys: Record<string, string | undefined> = {
    'aws:PrincipalArn': r.principalArn,
    'aws:PrincipalAccount': r.principalAccount,
    'ec2:SourceInstanceARN': r.sourceInstanceArn,
  };
  const holds = (s: Statement) =>
    Object.entries(s.Condition ?? {}).every(([op, block]) =>
      Object.entries(block).every(([key, want]) => {
        const values = Array.isArray(want) ? want : [want];
        const v = keys[key];
        if (!(key in keys)) throw new Error(`unknown key ${key}`);
        switch (op) {
          case 'StringEquals':
          case 'ArnEquals':
            return v !== undefined && values.includes(v);
          case 'StringNotEquals':
          case 'ArnNotEquals':
            return v === undefined || !values.includes(v);
          case 'StringLike':
            return v !== undefined && values.some((p) => glob(p, v));
          case 'StringNotLike':
            return v === undefined || !values.some((p) => glob(p, v));
          default:
            throw new Error(`unexpected operator ${op}`);
        }
      }),
    );
  const statements = (JSON.parse(policy) as { Statement: Statement[] }).Statement;
  for (const s of statements) {
    expect(s.Action).toBe('secretsmanager:GetSecretValue');
  }
  if (statements.some((s) => s.Effect === 'Deny' && holds(s))) return 'deny';
  if (r.identityAllows || statements.some((s) => s.Effect === 'Allow' && holds(s))) {
    return 'allow';
  }
  return 'deny';
}

describe('enrolment secret policy (pure)', () => {
  it('allows exactly the batch instances of this account, never others; never locks out the reconciler or readers', () => {
    const batch = [id(1), id(2)];
    const policy = buildEnrolmentPolicy(INPUTS, batch);
    const monitoredRole = `arn:aws:iam::${ACCOUNT}:role/db-hosts`;
    const cases: [Request, 'allow' | 'deny'][] = [
      // A batch instance reads with its role, no identity grant needed.
      [
        {
          principalArn: monitoredRole,
          principalAccount: ACCOUNT,
          sourceInstanceArn: arn(1),
          identityAllows: false,
        },
        'allow',
      ],
      [
        {
          principalArn: monitoredRole,
          principalAccount: ACCOUNT,
          sourceInstanceArn: arn(2),
          identityAllows: false,
        },
        'allow',
      ],
      // Another instance of the same role, even with an identity grant: denied.
      [
        {
          principalArn: monitoredRole,
          principalAccount: ACCOUNT,
          sourceInstanceArn: arn(3),
          identityAllows: true,
        },
        'deny',
      ],
      // The same role's credentials used off the instance (no ec2:SourceInstanceARN): denied.
      [{ principalArn: monitoredRole, principalAccount: ACCOUNT, identityAllows: true }, 'deny'],
      // A user or role with secretsmanager:* on *: denied.
      [
        {
          principalArn: `arn:aws:iam::${ACCOUNT}:user/ops`,
          principalAccount: ACCOUNT,
          identityAllows: true,
        },
        'deny',
      ],
      // The batch instance ARN claimed from another account: no allow there.
      [
        {
          principalArn: 'arn:aws:iam::210987654321:role/x',
          principalAccount: '210987654321',
          sourceInstanceArn: arn(1),
          identityAllows: false,
        },
        'deny',
      ],
      // The reconciler and the readers keep their access (through their identity policies).
      [{ principalArn: RECONCILER, principalAccount: ACCOUNT, identityAllows: true }, 'allow'],
      [{ principalArn: READER, principalAccount: ACCOUNT, identityAllows: true }, 'allow'],
      // ... even on an instance that is not in the batch.
      [
        {
          principalArn: READER,
          principalAccount: ACCOUNT,
          sourceInstanceArn: arn(9),
          identityAllows: true,
        },
        'allow',
      ],
    ];
    for (const [request, expected] of cases)
      expect([request, decide(policy, request)]).toEqual([request, expected]);
  });

  it('with no instance in flight: only the deny, nobody but the reconciler and the readers', () => {
    const policy = buildEnrolmentPolicy(INPUTS, []);
    const doc = JSON.parse(policy);
    expect(doc.Statement).toEqual([
      {
        Sid: DENY_SID,
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [RECONCILER, READER] } },
      },
    ]);
    expect(allowedInstanceIds(policy)).toEqual([]);
    const anyInstance = {
      principalArn: `arn:aws:iam::${ACCOUNT}:role/db-hosts`,
      principalAccount: ACCOUNT,
      sourceInstanceArn: arn(1),
      identityAllows: true,
    };
    expect(decide(policy, anyInstance)).toBe('deny');
    expect(
      decide(policy, { principalArn: RECONCILER, principalAccount: ACCOUNT, identityAllows: true }),
    ).toBe('allow');
  });

  it('is not "public": the "*" allow is restricted to this account (aws:PrincipalAccount)', () => {
    const doc = JSON.parse(buildEnrolmentPolicy(INPUTS, [id(1)]));
    const allow = doc.Statement.find((s: { Sid: string }) => s.Sid === ALLOW_SID);
    expect(allow.Principal).toEqual({ AWS: '*' });
    expect(allow.Condition).toEqual({
      StringEquals: { 'aws:PrincipalAccount': ACCOUNT },
      StringLike: { 'ec2:SourceInstanceARN': [`*:instance/${id(1)}`] },
    });
    // The only Allow, and only for GetSecretValue.
    expect(doc.Statement.filter((s: { Effect: string }) => s.Effect === 'Allow')).toHaveLength(1);
  });

  it('round-trips the instance list through allowedInstanceIds; unknown text is undefined', () => {
    const list = [id(3), id(1), id(2), id(1)];
    expect(allowedInstanceIds(buildEnrolmentPolicy(INPUTS, list))).toEqual([id(1), id(2), id(3)]);
    expect(allowedInstanceIds(undefined)).toEqual([]);
    expect(allowedInstanceIds('not json')).toBeUndefined();
    // Pretty-printed (as GetResourcePolicy may answer) reads the same.
    const pretty = JSON.stringify(JSON.parse(buildEnrolmentPolicy(INPUTS, [id(5)])), null, 2);
    expect(allowedInstanceIds(pretty)).toEqual([id(5)]);
  });

  it('caps the instances so the policy stays within 20 KB, in the order given', () => {
    const wanted = Array.from({ length: 600 }, (_, n) => id(n));
    const fit = fitEnrolmentPolicy(INPUTS, wanted);
    expect(fit.policy.length).toBeLessThanOrEqual(MAX_POLICY_CHARS);
    // About 300 real (17-hex-digit) instance IDs fit beside a reader.
    expect(fit.included.length).toBeGreaterThan(250);
    expect(fit.included.length).toBeLessThan(600);
    expect(fit.included).toEqual(wanted.slice(0, fit.included.length));
    expect(fit.excluded).toEqual(wanted.slice(fit.included.length));
    // One more would not fit.
    expect(
      buildEnrolmentPolicy(INPUTS, wanted.slice(0, fit.included.length + 1)).length,
    ).toBeGreaterThan(MAX_POLICY_CHARS);
    // Everything fits when it can.
    expect(fitEnrolmentPolicy(INPUTS, wanted.slice(0, 10)).excluded).toEqual([]);
    // Readers are never dropped to make room: too many of them is an error.
    const many = Array.from(
      { length: 400 },
      (_, n) => `arn:aws:iam::${ACCOUNT}:role/reader-with-a-long-name-${n}`,
    );
    expect(() => fitEnrolmentPolicy({ ...INPUTS, readerArns: many }, [arn(1)])).toThrow(/20 KB/);
  });

  it('refuses what is not an instance ID or a secret ARN', () => {
    expect(() => instancePattern('i-1"}]')).toThrow(/not an instance ID/);
    expect(() => buildEnrolmentPolicy(INPUTS, ['i-1', '*'])).toThrow(/not an instance ID/);
    expect(() => accountOf('arn:aws:iam::123456789012:role/x')).toThrow(/not a Secrets Manager/);
    expect(accountOf(SECRET)).toBe(ACCOUNT);
    expect(instancePattern('i-0abc')).toBe('*:instance/i-0abc');
    expect(() =>
      buildEnrolmentPolicy({ ...INPUTS, reconcilerRoleArn: '', readerArns: [] }, []),
    ).toThrow(/reconciler role ARN/);
  });
});
