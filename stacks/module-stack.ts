import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { Construct } from 'constructs';
import { PmmDeployment } from '../constructs/pmm-deployment';
import {
  declareModuleOutputs,
  declareModuleVariables,
  propsFromVariables,
} from './module-interface';
import { ReadableIdStack } from './readable-ids';

/**
 * Provider version ranges the published module claims. `npm run verify` validates and applies
 * the module on the lowest (5.100.0, the mirror on the CI image); the cdktf bindings describe
 * 6.25.0, which the root stack pins.
 */
export const MODULE_PROVIDER_VERSIONS = {
  aws: '>= 5.100, < 7',
  random: '~> 3.6',
} as const;

/**
 * The publishable Terraform module: the same interface and resources as the root stack,
 * with no provider or backend blocks (the caller configures those) and provider
 * version ranges instead of exact pins.
 */
export class PmmModuleStack extends ReadableIdStack {
  public readonly pmm: PmmDeployment;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Provider constructs are needed for cdktf's required_providers and its validation;
    // their blocks and the default local backend are removed below.
    new AwsProvider(this, 'aws', {});
    new RandomProvider(this, 'random', {});
    const vars = declareModuleVariables(this);
    this.pmm = new PmmDeployment(this, 'pmm', propsFromVariables(vars));
    declareModuleOutputs(this, this.pmm);

    this.addOverride('provider', undefined);
    this.addOverride('terraform.backend', undefined);
    this.addOverride('terraform.required_providers.aws.version', MODULE_PROVIDER_VERSIONS.aws);
    this.addOverride(
      'terraform.required_providers.random.version',
      MODULE_PROVIDER_VERSIONS.random,
    );
    this.addOverride('terraform.required_version', '>= 1.5');
  }
}
