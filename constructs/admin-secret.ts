import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretPolicy } from '@cdktf/provider-aws/lib/secretsmanager-secret-policy';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { Password } from '@cdktf/provider-random/lib/password';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { countWhenNotEmpty } from './util/plan-time';

export const ADMIN_PASSWORD_LENGTH = 32;

/** What a reader may do with the secret. */
export const SECRET_READ_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
] as const;

/** Everything that changes the secret or its policy: only Terraform's own identity does that. */
export const SECRET_WRITE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
] as const;

export interface AdminSecretProps {
  /** Prefix for names (`<service>-<environment>`). */
  readonly namePrefix: string;
  /**
   * IAM role ARNs allowed to read the secret (besides the instance role, which reads it
   * through its own IAM policy).
   */
  readonly readerRoleArns: string[];
}

/**
 * The PMM admin password: 32 random characters in a Secrets Manager secret. Terraform writes
 * it; the instance role and `secret_readers` may only read it (the resource policy also
 * denies the readers every write action, whatever their IAM policies say). The password
 * never appears in user data or outputs: the host reads it at boot with its role.
 */
export class AdminSecret extends Construct {
  public readonly secretArn: string;

  constructor(scope: Construct, id: string, props: AdminSecretProps) {
    super(scope, id);
    const password = new Password(this, 'password', {
      length: ADMIN_PASSWORD_LENGTH,
      // Alphanumeric: safe in URLs (pmm-admin --server-url) and shell without quoting games.
      special: false,
      minLower: 1,
      minUpper: 1,
      minNumeric: 1,
    });
    const secret = new SecretsmanagerSecret(this, 'secret', {
      namePrefix: `${props.namePrefix}-admin-`,
      description: `PMM admin password (user "admin") for ${props.namePrefix}`,
    });
    new SecretsmanagerSecretVersion(this, 'version', {
      secretId: secret.id,
      secretString: password.result,
    });
    new SecretsmanagerSecretPolicy(this, 'policy', {
      count: countWhenNotEmpty(props.readerRoleArns),
      secretArn: secret.arn,
      blockPublicPolicy: true,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'SecretReadersRead',
            Effect: 'Allow',
            Principal: { AWS: props.readerRoleArns },
            Action: [...SECRET_READ_ACTIONS],
            Resource: '*',
          },
          {
            Sid: 'SecretReadersNeverWrite',
            Effect: 'Deny',
            Principal: { AWS: props.readerRoleArns },
            Action: [...SECRET_WRITE_ACTIONS],
            Resource: '*',
          },
        ],
      }),
    });
    this.secretArn = secret.arn;
  }
}
