/**
 * Terraform's own tests for the module folder (`terraform test`, run offline with a mocked AWS
 * provider). tests/validations.tftest.hcl is GENERATED from the bad-input table
 * (scripts/verify/bad-inputs.ts): one `run` per row, expecting that variable's validation to
 * fail, so a row another change adds is tested without touching this file. The hand-written
 * files in the repository's tests/ folder cover the plan-time switches.
 */
import { BAD_INPUTS, BadInput, BadInputCase, badInputCases } from './verify/bad-inputs';
import { TfJson, requiredVariables } from './verify/lib/tf-json';

/** Values for the required variables that pass every validation (no AWS lookups: mocked). */
export const TEST_REQUIRED_VALUES: Readonly<Record<string, unknown>> = {
  public_subnet_ids: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
  private_subnet_ids: ['subnet-0a1b2c3d4e5f60003', 'subnet-0a1b2c3d4e5f60004'],
  zone_id: 'Z0123456789ABCDEFGHIJ',
  environment: 'test',
  alarm_emails: ['dba-oncall@example.com'],
};

/**
 * The mocked AWS providers (the default and the aws.dns alias): data sources answer with
 * fixed, well-formed values (partition, account, region, policy documents as JSON, an x86
 * instance type with 8 GiB, a VPC with two CIDR blocks, a public zone's name), so plan-time
 * expressions over them evaluate as they would against AWS.
 */
export const MOCK_PROVIDER_HCL = `mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition          = "aws"
      dns_suffix         = "amazonaws.com"
      reverse_dns_prefix = "com.amazonaws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/test"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name   = "us-east-1"
      region = "us-east-1"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json          = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}"
      minified_json = "{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}"
    }
  }
  mock_data "aws_subnet" {
    defaults = {
      vpc_id            = "vpc-0123456789abcdef0"
      availability_zone = "us-east-1a"
    }
  }
  mock_data "aws_ec2_instance_type" {
    defaults = {
      memory_size             = 8192
      supported_architectures = ["x86_64"]
      default_vcpus           = 2
    }
  }
  mock_data "aws_ami" {
    defaults = {
      id           = "ami-0123456789abcdef0"
      architecture = "x86_64"
    }
  }
  mock_data "aws_elb_service_account" {
    defaults = {
      arn = "arn:aws:iam::127311923021:root"
    }
  }
  mock_data "aws_vpc" {
    defaults = {
      cidr_block = "10.0.0.0/16"
      cidr_block_associations = [
        { association_id = "vpc-cidr-assoc-1", cidr_block = "10.0.0.0/16", state = "associated" },
        { association_id = "vpc-cidr-assoc-2", cidr_block = "100.64.0.0/20", state = "associated" },
      ]
    }
  }
}

# The Route53 provider (aws.dns, configuration_aliases): every zone lookup and record.
mock_provider "aws" {
  alias = "dns"
  mock_data "aws_route53_zone" {
    defaults = {
      name         = "example.com"
      private_zone = false
    }
  }
}
`;

/** A JSON value as an HCL expression (objects as `{ "k" = v }`, `\${`/`%{` escaped). */
export function hclValue(v: unknown, indent = ''): string {
  if (v === null) return 'null';
  if (typeof v === 'string')
    return JSON.stringify(v)
      .replace(/\$\{/g, () => '$${')
      .replace(/%\{/g, () => '%%{');
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => hclValue(x, indent)).join(', ')}]`;
  const inner = `${indent}  `;
  const body = Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${inner}${JSON.stringify(k)} = ${hclValue(x, inner)}`)
    .join('\n');
  return `{\n${body}\n${indent}}`;
}

function variablesBlock(values: Readonly<Record<string, unknown>>, indent: string): string {
  const lines = Object.entries(values).map(
    ([k, v]) => `${indent}  ${k} = ${hclValue(v, `${indent}  `)}`,
  );
  return `${indent}variables {\n${lines.join('\n')}\n${indent}}`;
}

/**
 * tests/validations.tftest.hcl: every bad-input row must make `terraform plan` fail on that
 * variable's validation. Validations are independent, so one run holds at most one row per
 * variable and lists all of them in expect_failures (each must fail, and nothing else may):
 * a handful of plans instead of one per row. Throws when the table is incomplete or stale.
 */
export function renderValidationTests(
  tf: TfJson,
  table: Readonly<Record<string, readonly BadInput[]>> = BAD_INPUTS,
): string {
  const { cases, problems } = badInputCases(tf, table);
  const missing = requiredVariables(tf).filter((v) => !(v in TEST_REQUIRED_VALUES));
  if (missing.length) {
    problems.push(
      `required variables without a value in TEST_REQUIRED_VALUES (scripts/module-tests.ts): ${missing.join(', ')}`,
    );
  }
  if (problems.length) {
    throw new Error(`the module tests cannot be generated:\n${problems.join('\n')}`);
  }
  const batches: BadInputCase[][] = [];
  for (const c of cases) {
    let b = batches.find((x) => !x.some((y) => y.variable === c.variable));
    if (!b) batches.push((b = []));
    b.push(c);
  }
  const runs = batches.map((batch, i) =>
    [
      ...batch.map(
        (c) =>
          `# ${c.variable} = ${JSON.stringify(c.value)}: breaks validation #${c.rule} ("${c.expectedMessage.replace(/\n/g, ' ').slice(0, 120)}")`,
      ),
      `run "bad_inputs_${i + 1}" {`,
      '  command = plan',
      variablesBlock(Object.fromEntries(batch.map((c) => [c.variable, c.value])), '  '),
      '  expect_failures = [',
      ...batch.map((c) => `    var.${c.variable},`),
      '  ]',
      '}',
    ].join('\n'),
  );
  return [
    '# GENERATED by `npm run build:module` from scripts/verify/bad-inputs.ts; do not edit.',
    `# ${cases.length} bad values of ${new Set(cases.map((c) => c.variable)).size} validated variables in ${batches.length} plans: each run`,
    '# expects the validation of every variable it sets to fail (mocked AWS provider: no',
    '# credentials, no network).',
    '',
    MOCK_PROVIDER_HCL,
    variablesBlock(TEST_REQUIRED_VALUES, ''),
    '',
    `run "defaults_and_required_values_plan" {\n  command = plan\n}`,
    '',
    runs.join('\n\n'),
    '',
  ].join('\n');
}
