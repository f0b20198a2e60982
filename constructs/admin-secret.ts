import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { Password } from '@cdktf/provider-random/lib/password';
import { Construct } from 'constructs';

export interface AdminSecretProps {
  readonly namePrefix: string;
  /** IAM role ARNs allowed to read the secret (besides the instance role). */
  readonly readerRoleArns: string[];
}

/** The PMM admin password in Secrets Manager (issue #3 fills this in). */
export class AdminSecret extends Construct {
  public readonly secretArn: string;

  constructor(scope: Construct, id: string, props: AdminSecretProps) {
    super(scope, id);
    const password = new Password(this, 'password', { length: 32, special: false });
    const secret = new SecretsmanagerSecret(this, 'secret', {
      namePrefix: `${props.namePrefix}-admin-`,
    });
    new SecretsmanagerSecretVersion(this, 'version', {
      secretId: secret.id,
      secretString: password.result,
    });
    this.secretArn = secret.arn;
  }
}
