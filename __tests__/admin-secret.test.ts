import { resource, synthModule } from './helpers/synth';
import { SECRET_WRITE_ACTIONS } from '../constructs/admin-secret';

const tf = synthModule();

describe('admin secret', () => {
  it('is a 32-character random password stored as the secret value', () => {
    const password = resource(tf, 'random_password', 'admin_secret_password');
    expect(password.length).toBe(32);
    expect(resource(tf, 'aws_secretsmanager_secret_version', 'admin_secret_version')).toMatchObject(
      {
        secret_id: '${aws_secretsmanager_secret.pmm_admin_secret_secret.id}',
        secret_string: '${random_password.pmm_admin_secret_password.result}',
      },
    );
  });

  it('is exposed only as an ARN, never as a value', () => {
    expect(tf.output.admin_password_secret_arn.value).toBe(
      '${aws_secretsmanager_secret.pmm_admin_secret_secret.arn}',
    );
    expect(JSON.stringify(tf.output)).not.toMatch(/random_password|secret_string/);
  });

  it('lets secret_readers read, with a policy that exists only when the list is not empty', () => {
    const policy = resource(tf, 'aws_secretsmanager_secret_policy', 'admin_secret_policy');
    expect(policy.count).toBe('${(length(var.secret_readers) >= 1) ? 1 : 0}');
    expect(policy.block_public_policy).toBe(true);
    expect(policy.policy).toContain(
      '"Effect" = "Allow", "Principal" = {"AWS" = var.secret_readers}, "Action" = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]',
    );
  });

  it('denies the readers every write action, whatever their own IAM policies allow', () => {
    const policy = resource(tf, 'aws_secretsmanager_secret_policy', 'admin_secret_policy').policy;
    expect(policy).toContain(
      `"Effect" = "Deny", "Principal" = {"AWS" = var.secret_readers}, "Action" = [${SECRET_WRITE_ACTIONS.map((a) => `"${a}"`).join(', ')}]`,
    );
    expect(SECRET_WRITE_ACTIONS).toEqual(
      expect.arrayContaining(['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret']),
    );
    expect(policy).not.toMatch(/"Effect" = "Allow"[^}]*PutSecretValue/);
  });
});
