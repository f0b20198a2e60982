import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamSessionContext } from '@cdktf/provider-aws/lib/data-aws-iam-session-context';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretPolicy } from '@cdktf/provider-aws/lib/secretsmanager-secret-policy';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { Fn, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { allInAccount, denyReadsExcept } from './secret-read-guard';
import { isNotEmpty } from './util/plan-time';

export const ADMIN_PASSWORD_LENGTH = 32;

/**
 * Version of the value Terraform writes. Terraform writes the write-only value only when this
 * number changes (it is the only trace of the password in state and plan).
 */
export const ADMIN_PASSWORD_WO_VERSION = 1;

/** The ephemeral resource type that generates the password (escape hatch: cdktf 0.21 has none). */
export const PASSWORD_EPHEMERAL_TYPE = 'aws_secretsmanager_random_password';

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
   * IAM role ARNs of this account allowed to read the secret (besides the instance and
   * reconciler roles, which read it through their own IAM policies). Another account's role
   * fails the plan.
   */
  readonly readerRoleArns: string[];
}

export interface AdminSecretReaders {
  /** The PMM instance role. */
  readonly hostRoleArn: string;
  /** The reconciler Lambda's role; null when there is no reconciler. */
  readonly reconcilerRoleArn: string;
}

/**
 * The PMM admin password: 32 random alphanumeric characters in a Secrets Manager secret.
 * Terraform generates it with the ephemeral `aws_secretsmanager_random_password` (Secrets
 * Manager's GetRandomPassword) and writes it through the write-only `secret_string_wo`, so
 * the password is in neither the plan nor the state (Terraform >= 1.11). The host reads it at
 * boot with its role. The resource policy (see `restrictReaders`) denies GetSecretValue to
 * every principal but the instance role, the reconciler role, `secret_readers` and the
 * identity running Terraform (the provider reads the version back on every refresh).
 */
export class AdminSecret extends Construct {
  public readonly secretArn: string;
  private readonly secret: SecretsmanagerSecret;
  private readonly readerRoleArns: string[];

  constructor(scope: Construct, id: string, props: AdminSecretProps) {
    super(scope, id);
    this.readerRoleArns = props.readerRoleArns;
    this.secret = new SecretsmanagerSecret(this, 'secret', {
      namePrefix: `${props.namePrefix}-admin-`,
      description: `PMM admin password (user "admin") for ${props.namePrefix}`,
    });
    const stack = TerraformStack.of(this);
    const passwordName = `${stack.getLogicalId(this.node)}_password`;
    stack.addOverride(`ephemeral.${PASSWORD_EPHEMERAL_TYPE}.${passwordName}`, {
      password_length: ADMIN_PASSWORD_LENGTH,
      // Alphanumeric: safe in URLs (pmm-admin --server-url) and shell without quoting games;
      // at least one lower case letter, one upper case letter and one digit.
      exclude_punctuation: true,
      include_space: false,
      require_each_included_type: true,
    });
    new SecretsmanagerSecretVersion(this, 'version', {
      secretId: this.secret.id,
      secretStringWo: `\${ephemeral.${PASSWORD_EPHEMERAL_TYPE}.${passwordName}.random_password}`,
      secretStringWoVersion: ADMIN_PASSWORD_WO_VERSION,
    });
    this.secretArn = this.secret.arn;
  }

  /**
   * The secret's resource policy, once the roles that read it exist: only they,
   * `secret_readers` and Terraform's own identity may get the value; the readers may never
   * write. Fails the plan when a `secret_readers` role is in another account.
   */
  public restrictReaders(readers: AdminSecretReaders): void {
    const account = new DataAwsCallerIdentity(this, 'account');
    // The role behind Terraform's session (aws:PrincipalArn of an assumed-role session is
    // the role's ARN); an IAM user's own ARN.
    const terraform = new DataAwsIamSessionContext(this, 'terraform_identity', {
      arn: account.arn,
    });
    const secretReaders = this.readerRoleArns;
    const readerStatements = [
      {
        Sid: 'SecretReadersRead',
        Effect: 'Allow',
        Principal: { AWS: secretReaders },
        Action: [...SECRET_READ_ACTIONS],
        Resource: '*',
      },
      {
        Sid: 'SecretReadersNeverWrite',
        Effect: 'Deny',
        Principal: { AWS: secretReaders },
        Action: [...SECRET_WRITE_ACTIONS],
        Resource: '*',
      },
    ];
    new SecretsmanagerSecretPolicy(this, 'policy', {
      secretArn: this.secret.arn,
      blockPublicPolicy: true,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: Fn.concat([
          [
            denyReadsExcept({
              sid: 'OnlyPmmRolesReadTheValue',
              allowedPrincipalArns: Fn.concat([
                [readers.hostRoleArn, readers.reconcilerRoleArn, terraform.issuerArn],
                secretReaders,
              ]),
            }),
          ],
          // A principal list may not be empty: the reader statements exist only with readers.
          Fn.conditional(isNotEmpty(secretReaders), readerStatements, []),
        ]),
      }),
      lifecycle: {
        precondition: [
          {
            condition: allInAccount(secretReaders, account.accountId),
            errorMessage: `secret_readers must list IAM roles of this account (${account.accountId}): the secret's resource policy admits only same-account readers.`,
          },
        ],
      },
    });
  }
}
