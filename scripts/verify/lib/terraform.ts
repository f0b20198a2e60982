/** Terraform CLI configuration, emulator provider config and caller-file helpers. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PLUGIN_MIRROR = '/opt/tf-plugins';

/** Orders dotted version numbers numerically (5.99.0 before 5.100.0). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Provider versions present in the filesystem mirror, e.g. { 'hashicorp/aws': ['5.100.0'] }. */
export function mirrorProviders(mirror = PLUGIN_MIRROR): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const base = join(mirror, 'registry.terraform.io');
  if (!existsSync(base)) return out;
  for (const ns of readdirSync(base)) {
    for (const type of readdirSync(join(base, ns))) {
      out[`${ns}/${type}`] = readdirSync(join(base, ns, type)).sort(compareVersions);
    }
  }
  return out;
}

/**
 * A CLI config that installs providers only from the local mirror (no registry access).
 * No plugin_cache_dir: an unpacked mirror is symlinked into each .terraform/ anyway, and a
 * shared cache races when several `terraform init` run at once.
 */
export function writeCliConfig(path: string, mirror = PLUGIN_MIRROR): void {
  writeFileSync(
    path,
    `# Written by scripts/verify: providers come only from the local filesystem mirror.
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "${mirror}"
    include = ["registry.terraform.io/*/*"]
  }
}
`,
  );
}

/**
 * Endpoint names of the AWS provider (5.100 and 6.x) for the services the module may use;
 * AWS_ENDPOINT_URL (set in the environment too) catches any service not listed.
 */
const ENDPOINT_SERVICES = [
  'acm',
  'autoscaling',
  'backup',
  'cloudwatch',
  'dynamodb',
  'ec2',
  'elb',
  'elbv2',
  'events',
  'iam',
  'kms',
  'lambda',
  'logs',
  'route53',
  's3',
  'scheduler',
  'secretsmanager',
  'sns',
  'sqs',
  'ssm',
  'sts',
];

/** A `provider "aws"` block pointed at the emulator with fake credentials. */
export function emulatorProvider(url: string): Record<string, unknown> {
  return {
    region: 'us-east-1',
    access_key: 'mock-access-key',
    secret_key: 'mock-secret-key',
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    // moto answers sts:GetCallerIdentity (account 123456789012), so ARNs the provider builds
    // itself (e.g. the EBS volume's) are well-formed; skipping it would leave them empty.
    skip_requesting_account_id: false,
    s3_use_path_style: true,
    endpoints: [Object.fromEntries(ENDPOINT_SERVICES.map((s) => [s, url]))],
  };
}

/** Environment for terraform processes. */
export function terraformEnv(cliConfig: string, motoUrl?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  if (motoUrl) {
    Object.assign(env, {
      AWS_ENDPOINT_URL: motoUrl,
      AWS_ACCESS_KEY_ID: 'mock-access-key',
      AWS_SECRET_ACCESS_KEY: 'mock-secret-key',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    });
  }
  delete env.AWS_PROFILE;
  // The caller's own Terraform inputs and CLI flags must not change what verify plans.
  for (const k of Object.keys(env)) {
    if (k.startsWith('TF_VAR_') || k.startsWith('TF_CLI_ARGS')) delete env[k];
  }
  return env;
}

/** Names of `module "<name>" { source = "<source>" ... }` blocks in HCL text. */
export function moduleBlocksWithSource(hcl: string, source: string): string[] {
  const out: string[] = [];
  const re = /module\s+"([^"]+)"\s*\{([\s\S]*?)\n\}/g;
  for (const m of hcl.matchAll(re)) {
    const src = /source\s*=\s*"([^"]+)"/.exec(m[2]);
    if (src && src[1] === source) out.push(m[1]);
  }
  return out;
}

/** True when the HCL text has a `provider "<name>"` block. */
export function hasProviderBlock(hcl: string, name: string): boolean {
  return new RegExp(`provider\\s+"${name}"\\s*\\{`).test(hcl);
}
