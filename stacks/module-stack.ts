import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Construct } from 'constructs';
import { PmmDeployment } from '../constructs/pmm-deployment';
import {
  declareModuleOutputs,
  declareModuleVariables,
  propsFromVariables,
} from './module-interface';
import { ReadableIdStack } from './readable-ids';

/**
 * Terraform versions the module and the root stack accept: 1.11 brought write-only
 * attributes (`secret_string_wo`), which keep the admin password out of plan and state.
 */
export const TERRAFORM_REQUIRED_VERSION = '>= 1.11';

/**
 * Provider version ranges the published module claims. `npm run verify` validates and applies
 * the module on the lowest (5.100.0, the mirror on the CI image); the cdktf bindings describe
 * 6.25.0, which the root stack pins.
 */
export const MODULE_PROVIDER_VERSIONS = {
  aws: '>= 5.100, < 7',
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
    const vars = declareModuleVariables(this);
    this.pmm = new PmmDeployment(this, 'pmm', propsFromVariables(vars));
    declareModuleOutputs(this, this.pmm);

    this.addOverride('provider', undefined);
    this.addOverride('terraform.backend', undefined);
    this.addOverride('terraform.required_providers.aws.version', MODULE_PROVIDER_VERSIONS.aws);
    this.addOverride('terraform.required_version', TERRAFORM_REQUIRED_VERSION);
  }
}
