import { resource, resourcesOf, synthModule, TfJson } from './helpers/synth';
import { terraformEval } from './helpers/terraform';
import {
  ADMIN_PASSWORD_LENGTH,
  PASSWORD_EPHEMERAL_TYPE,
  SECRET_WRITE_ACTIONS,
} from '../constructs/admin-secret';

const tf = synthModule();

const HOST_ROLE = 'arn:aws:iam::111111111111:role/pmm-host-abc';
const RECONCILER_ROLE = 'arn:aws:iam::111111111111:role/pmm-reconciler-abc';
const TERRAFORM_ROLE = 'arn:aws:iam::111111111111:role/ci/terraform';

/**
 * Evaluates the synthesized policy expression with real Terraform, the references to other
 * objects replaced by literals (the variable stays a variable).
 */
function evalPolicy(
  expression: string,
  secretReaders: string[],
  reconcilerRole: string | null,
): TfJson {
  const hcl = expression
    .replace('aws_iam_role.pmm_host_iam_role.arn', JSON.stringify(HOST_ROLE))
    .replace('one(aws_iam_role.pmm_reconciler_role[*].arn)', JSON.stringify(reconcilerRole))
    .replace(
      'data.aws_iam_session_context.pmm_admin_secret_terraform_identity.issuer_arn',
      JSON.stringify(TERRAFORM_ROLE),
    );
  expect(hcl).not.toMatch(/aws_iam_role|aws_iam_session_context/);
  const json = terraformEval(hcl, {
    variables: { secret_readers: { type: 'list(string)' } },
    values: { secret_readers: JSON.stringify(secretReaders) },
  });
  return JSON.parse(json as string) as TfJson;
}

describe('admin secret: no password in plan or state', () => {
  it('generates the password with the ephemeral aws_secretsmanager_random_password', () => {
    expect(tf.ephemeral[PASSWORD_EPHEMERAL_TYPE].pmm_admin_secret_password).toEqual({
      password_length: ADMIN_PASSWORD_LENGTH,
      exclude_punctuation: true,
      include_space: false,
      require_each_included_type: true,
    });
  });

  it('writes it only through the write-only secret_string_wo, versioned by a constant', () => {
    const version = resource(tf, 'aws_secretsmanager_secret_version', 'admin_secret_version');
    expect(version).toEqual({
      secret_id: '${aws_secretsmanager_secret.pmm_admin_secret_secret.id}',
      secret_string_wo: `\${ephemeral.${PASSWORD_EPHEMERAL_TYPE}.pmm_admin_secret_password.random_password}`,
      secret_string_wo_version: 1,
    });
  });

  it('keeps no stored random resource or reference to one anywhere in the module', () => {
    const text = JSON.stringify(tf);
    expect(Object.keys(tf.resource).filter((t) => t.startsWith('random_'))).toEqual([]);
    expect(text.match(/(?<![a-z_])random_[a-z]+\.|hashicorp\/random/g)).toBeNull();
    // The ephemeral value is referenced exactly once: by the write-only attribute.
    expect(text.match(/ephemeral\.aws_secretsmanager_random_password/g)).toHaveLength(1);
    // No other resource (user data, outputs, Lambda environment) can read the value.
    for (const [type, byName] of Object.entries(tf.resource as Record<string, TfJson>)) {
      if (type === 'aws_secretsmanager_secret_version') continue;
      expect(JSON.stringify(byName)).not.toMatch(/secret_string|ephemeral\./);
    }
  });

  it('is exposed only as an ARN, never as a value', () => {
    expect(tf.output.admin_password_secret_arn.value).toBe(
      '${aws_secretsmanager_secret.pmm_admin_secret_secret.arn}',
    );
    expect(JSON.stringify(tf.output)).not.toMatch(/random_password|secret_string|ephemeral/);
  });
});

describe('admin secret: resource policy', () => {
  const policy = resource(tf, 'aws_secretsmanager_secret_policy', 'admin_secret_policy');

  it('always exists (it carries the deny), with public policies blocked', () => {
    expect(policy.count).toBeUndefined();
    expect(policy.block_public_policy).toBe(true);
    expect(Object.keys(resourcesOf(tf, 'aws_secretsmanager_secret_policy'))).toContain(
      'pmm_admin_secret_policy',
    );
  });

  it('denies GetSecretValue to everyone but the host, the reconciler, Terraform and the readers', () => {
    const reader = 'arn:aws:iam::111111111111:role/dba';
    const doc = evalPolicy(policy.policy, [reader], RECONCILER_ROLE);
    const deny = doc.Statement.find((s: TfJson) => s.Sid === 'OnlyPmmRolesReadTheValue');
    expect(deny).toEqual({
      Sid: 'OnlyPmmRolesReadTheValue',
      Effect: 'Deny',
      Principal: '*',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: {
        ArnNotEquals: {
          'aws:PrincipalArn': [HOST_ROLE, RECONCILER_ROLE, TERRAFORM_ROLE, reader],
        },
      },
    });
  });

  it('without a reconciler or readers: only the deny, and no null or empty principal', () => {
    const doc = evalPolicy(policy.policy, [], null);
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0].Condition.ArnNotEquals['aws:PrincipalArn']).toEqual([
      HOST_ROLE,
      TERRAFORM_ROLE,
    ]);
  });

  it('lets the readers read and denies them every write action', () => {
    const reader = 'arn:aws:iam::111111111111:role/dba';
    const doc = evalPolicy(policy.policy, [reader], null);
    const allow = doc.Statement.find((s: TfJson) => s.Effect === 'Allow');
    expect(allow.Principal).toEqual({ AWS: [reader] });
    expect(allow.Action).toEqual([
      'secretsmanager:GetSecretValue',
      'secretsmanager:DescribeSecret',
    ]);
    const neverWrite = doc.Statement.find((s: TfJson) => s.Sid === 'SecretReadersNeverWrite');
    expect(neverWrite).toMatchObject({ Effect: 'Deny', Principal: { AWS: [reader] } });
    expect(neverWrite.Action).toEqual([...SECRET_WRITE_ACTIONS]);
    expect(JSON.stringify(doc.Statement.filter((s: TfJson) => s.Effect === 'Allow'))).not.toMatch(
      /PutSecretValue|UpdateSecret|Delete/,
    );
  });
});

describe('admin secret: secret_readers must be roles of this account', () => {
  const precondition = resource(tf, 'aws_secretsmanager_secret_policy', 'admin_secret_policy')
    .lifecycle.precondition[0];
  const check = (readers: string[]) =>
    terraformEval(
      precondition.condition.replace(
        'data.aws_caller_identity.pmm_admin_secret_account.account_id',
        '"111111111111"',
      ),
      {
        variables: { secret_readers: { type: 'list(string)' } },
        values: { secret_readers: JSON.stringify(readers) },
      },
    );

  it('passes for none, one or several roles of the account (paths included)', () => {
    expect(check([])).toBe(true);
    expect(
      check(['arn:aws:iam::111111111111:role/dba', 'arn:aws:iam::111111111111:role/team/a/reader']),
    ).toBe(true);
  });

  it('fails the plan for a role in another account, even among same-account roles', () => {
    expect(check(['arn:aws:iam::222222222222:role/dba'])).toBe(false);
    expect(
      check(['arn:aws:iam::111111111111:role/dba', 'arn:aws:iam::222222222222:role/dba']),
    ).toBe(false);
    // A name that embeds the account string does not fool the count...
    expect(check(['arn:aws:iam::222222222222:role/x111111111111'])).toBe(false);
    expect(precondition.error_message).toMatch(
      /^secret_readers must list IAM roles of this account/,
    );
  });

  it('and the variable validation rejects ARNs that could embed a second ":iam::"', () => {
    const rule = tf.variable.secret_readers.validation[0].condition as string;
    const valid = (v: string[]) =>
      terraformEval(rule, {
        variables: { secret_readers: { type: 'list(string)' } },
        values: { secret_readers: JSON.stringify(v) },
      });
    expect(valid(['arn:aws:iam::111111111111:role/a/b-c_d+e=f,g.h@i'])).toBe(true);
    expect(valid(['arn:aws:iam::222222222222:role/x:iam::111111111111:role/y'])).toBe(false);
    expect(valid(['arn:aws:iam::111111111111:user/bob'])).toBe(false);
  });
});
