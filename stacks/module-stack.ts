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
 * Alias of the AWS provider configuration every Route53 record and zone lookup uses, as in the
 * reference module (`aws.dns`): the zones may live in another account. A module's
 * configuration_aliases must be passed explicitly by every caller:
 * `providers = { aws = aws, aws.dns = aws }` when the zones are in the same account.
 */
export const ROUTE53_PROVIDER_ALIAS = 'dns';

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
    const route53Provider = new AwsProvider(this, 'aws_dns', { alias: ROUTE53_PROVIDER_ALIAS });
    const vars = declareModuleVariables(this);
    this.pmm = new PmmDeployment(this, 'pmm', { ...propsFromVariables(vars), route53Provider });
    declareModuleOutputs(this, this.pmm);

    this.addOverride('provider', undefined);
    this.addOverride('terraform.backend', undefined);
    this.addOverride('terraform.required_providers.aws.version', MODULE_PROVIDER_VERSIONS.aws);
    this.addOverride('terraform.required_providers.aws.configuration_aliases', [
      `aws.${ROUTE53_PROVIDER_ALIAS}`,
    ]);
    this.addOverride('terraform.required_version', TERRAFORM_REQUIRED_VERSION);
  }
}
