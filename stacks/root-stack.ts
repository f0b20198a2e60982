import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LocalBackend, S3Backend, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { PmmDeployment } from '../constructs/pmm-deployment';
import {
  declareModuleOutputs,
  declareModuleVariables,
  propsFromVariables,
} from './module-interface';
import { ROUTE53_PROVIDER_ALIAS, TERRAFORM_REQUIRED_VERSION } from './module-stack';
import { ReadableIdStack } from './readable-ids';
import { BackendConfig, RootStackConfig } from './stack-config';

/**
 * The deployable stack (`cdktf deploy`, or `cdktf synth` + `terraform apply` in
 * cdktf.out/stacks/pmm): the module interface plus providers and a backend.
 */
export class PmmRootStack extends ReadableIdStack {
  public readonly pmm: PmmDeployment;

  constructor(scope: Construct, id: string, config: RootStackConfig = {}) {
    super(scope, id);
    const region = new TerraformVariable(this, 'region', {
      type: 'string',
      description: 'AWS region; null uses AWS_REGION / AWS_DEFAULT_REGION or the profile.',
      nullable: true,
    });
    region.addOverride('default', config.region ?? null);

    const vars = declareModuleVariables(this, config.variables);
    new AwsProvider(this, 'aws', {
      region: region.stringValue,
      defaultTags: [{ tags: vars.tags.value }],
    });
    // The Route53 provider of the module interface (aws.dns): the same account and settings as
    // the main provider. For zones in another account, give this block credentials or an
    // assume_role for that account (an override in cdktf.out, or a Terraform module caller).
    const route53Provider = new AwsProvider(this, 'aws_dns', {
      alias: ROUTE53_PROVIDER_ALIAS,
      region: region.stringValue,
      defaultTags: [{ tags: vars.tags.value }],
    });
    configureBackend(this, config.backend ?? { type: 'local' });
    this.addOverride('terraform.required_version', TERRAFORM_REQUIRED_VERSION);

    this.pmm = new PmmDeployment(this, 'pmm', { ...propsFromVariables(vars), route53Provider });
    declareModuleOutputs(this, this.pmm);
  }
}

function configureBackend(stack: Construct, backend: BackendConfig): void {
  if (backend.type === 's3') {
    new S3Backend(stack, {
      bucket: backend.bucket,
      key: backend.key,
      region: backend.region,
      encrypt: backend.encrypt ?? true,
      ...(backend.dynamodbTable ? { dynamodbTable: backend.dynamodbTable } : { useLockfile: true }),
    });
    return;
  }
  // Relative to cdktf.out/stacks/<stack>, where terraform runs: the state lives in the
  // project root, survives re-synth and holds no machine-specific path.
  new LocalBackend(stack, { path: backend.path ?? '../../../terraform.pmm.tfstate' });
}
