/**
 * PMM tuning (issue 16) at synth and at plan: the SSM configuration carries the tuning lines;
 * the synthesized expressions, evaluated by real Terraform, choose ClickHouse's low-memory
 * profile below 16 GiB and size swap from the instance type's memory and the root volume;
 * the variables' rules accept exactly the Go durations PMM accepts in whole days/seconds; and
 * literal construct props are refused at synth.
 */
import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { PmmConfig } from '../constructs/pmm-config';
import { extraEnvProblem, PmmTuning, validateTuning } from '../constructs/pmm-tuning';
import { PropValidationError } from '../constructs/util/validate';
import { configProblems } from '../stacks/config-validator';
import { translate } from '../stacks/rule-schema';
import { resource, synthModule, TfJson } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const MEMORY = 'data.aws_ec2_instance_type.pmm_host_instance_type.memory_size';

const tf = synthModule();
const config = resource(tf, 'aws_ssm_parameter', 'pmm_config_config');
const value: string = config.value;

/** The expression of one `NAME=${...}` line of the configuration. */
function lineExpr(name: string): string {
  const line = value.split('\n').find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name} line`);
  return line.slice(name.length + 1);
}

/** Evaluates `expr` with real Terraform, each `var.<name>` replaced by an HCL literal. */
function evalWith(expr: string, literals: Record<string, string | number>): unknown {
  let hcl = expr.replace(new RegExp(MEMORY.replace(/\./g, '\\.'), 'g'), 'var.memory');
  for (const [name, lit] of Object.entries(literals)) {
    hcl = hcl.replace(new RegExp(`\\bvar\\.${name}\\b`, 'g'), `(${lit})`);
  }
  expect(hcl).not.toMatch(/\bvar\./);
  return terraformEval(hcl);
}

describe('the SSM configuration', () => {
  it('carries every tuning line, in a fixed order, after the existing ones', () => {
    const names = value
      .split('\n')
      .map((l) => /^([A-Z_]+)=/.exec(l)?.[1])
      .filter(Boolean);
    expect(names.slice(-6)).toEqual([
      'PMM_DATA_RETENTION',
      'PMM_METRICS_RESOLUTION_HR',
      'PMM_METRICS_RESOLUTION_MR',
      'PMM_METRICS_RESOLUTION_LR',
      'PMM_CLICKHOUSE_CONFIG',
      'PMM_HOST_SWAP_MIB',
    ]);
    expect(value).toContain(
      '${join("\\n", formatlist("PMM_EXTRA_ENV_%s=%s", keys(var.pmm_extra_env), values(var.pmm_extra_env)))}',
    );
  });

  it('never changes the user data: tuning stays out of the instance (applied in place)', () => {
    const userData = JSON.stringify(tf.locals);
    for (const v of ['data_retention', 'pmm_extra_env', 'swap_size_mib', 'clickhouse_config']) {
      expect(userData).not.toContain(`var.${v}`);
    }
  });

  it.each([
    [4096, 'auto', 'low-memory'],
    [8192, 'auto', 'low-memory'],
    [16383, 'auto', 'low-memory'],
    [16384, 'auto', ''],
    [65536, 'auto', ''],
    [65536, 'low-memory', 'low-memory'],
    [8192, 'default', 'default'],
  ])('ClickHouse profile for %i MiB and clickhouse_config %j: %j', (memory, chosen, want) => {
    expect(
      evalWith(lineExpr('PMM_CLICKHOUSE_CONFIG'), { memory, clickhouse_config: `"${chosen}"` }),
    ).toBe(want);
  });

  it.each([
    // memory MiB, root GiB, swap_size_mib, expected
    [4096, 20, 'null', '2048'], // t3.medium: half the memory
    [8192, 20, 'null', '4096'], // m5.large (default): 4 GiB
    [32768, 20, 'null', '4096'], // capped at 4 GiB
    [8192, 16, 'null', '0'], // the smallest root volume has no room for swap
    [8192, 18, 'null', '2048'], // only what the root volume has beyond 16 GiB
    [8192, 20, '0', '0'],
    [8192, 40, '16384', '16384'],
  ])('swap for %i MiB, root %i GiB, swap_size_mib %s: %s MiB', (memory, root, swap, want) => {
    expect(
      evalWith(lineExpr('PMM_HOST_SWAP_MIB'), {
        memory,
        root_volume_size: root,
        swap_size_mib: swap,
      }),
    ).toBe(want);
  });

  it('refuses at plan a swap_size_mib the root volume cannot hold', () => {
    const cond = (config.lifecycle.precondition as TfJson[]).find((p) =>
      String(p.error_message).startsWith('swap_size_mib'),
    )!.condition as string;
    const check = (root: number, swap: string) =>
      evalWith(cond, { memory: 8192, root_volume_size: root, swap_size_mib: swap });
    expect(check(20, '4096')).toBe(true);
    expect(check(20, '4097')).toBe(false);
    expect(check(16, 'null')).toBe(true);
    expect(check(16, '1')).toBe(false);
  });

  it('refuses at plan a configuration longer than an SSM standard parameter', () => {
    const pre = (config.lifecycle.precondition as TfJson[]).find((p) =>
      String(p.error_message).includes('shorten pmm_extra_env'),
    )!;
    expect(pre.condition).toMatch(/^\$\{\(length\(".*"\) <= 4096\)\}$/s);
  });
});

describe('variable rules (evaluated by Terraform)', () => {
  const rules = (name: string): string[] =>
    (tf.variable[name].validation as TfJson[]).map((v) => v.condition as string);
  const passes = (name: string, literal: string) =>
    rules(name).every((cond) => evalWith(cond, { [name]: literal }) === true);

  it.each([
    ['"720h"', true],
    ['"24h"', true],
    ['"1440m"', true],
    ['"86400s"', true],
    ['"87600h"', true], // 3650 days
    ['null', true],
    ['"30d"', false],
    ['"36h"', false],
    ['"12h"', false],
    ['"0h"', false],
    ['"87624h"', false],
    ['"720h0m0s"', false],
    ['"-24h"', false],
    ['""', false],
  ])('data_retention %s: %s', (v, ok) => {
    expect(passes('data_retention', v)).toBe(ok);
  });

  it.each([
    ['"1s"', true],
    ['"60s"', true],
    ['"2m"', true],
    ['"0s"', false],
    ['"1.5s"', false],
    ['"500ms"', false],
    ['"5"', false],
  ])('metrics_resolution_low %s: %s', (v, ok) => {
    expect(passes('metrics_resolution_low', v)).toBe(ok);
  });

  it.each([
    ['{ GF_SMTP_ENABLED = "true", PMM_DEBUG = "1" }', true],
    ['{ GF_AUTH_GENERIC_OAUTH_SCOPES = "openid email" }', true],
    ['{}', true],
    ['{ PMM_PUBLIC_ADDRESS = "x" }', false],
    ['{ PMM_CUSTOM_QUERIES_HIGH_SHA256 = "x" }', false],
    ['{ GF_SECURITY_ADMIN_USER = "root" }', false],
    ['{ LD_PRELOAD = "/tmp/x.so" }', false],
    ['{ GF_X = "a\\nb" }', false],
    ['{ GF_X = "tab\\there" }', false],
  ])('pmm_extra_env %s: %s', (v, ok) => {
    expect(passes('pmm_extra_env', v)).toBe(ok);
  });
});

describe('synth-time validation of literal props', () => {
  const bad: [string, PmmTuning][] = [
    ['dataRetention', { dataRetention: '30d' }],
    ['dataRetention', { dataRetention: '36h' }],
    ['dataRetention', { dataRetention: '87624h' }],
    ['metricsResolutionHigh', { metricsResolutionHigh: '0s' }],
    ['metricsResolutionLow', { metricsResolutionLow: '1.5s' }],
    ['clickhouseConfig', { clickhouseConfig: 'huge' }],
    ['swapSizeMiB', { swapSizeMiB: -1 }],
    ['swapSizeMiB', { swapSizeMiB: 1.5 }],
    ['extraEnv', { extraEnv: { PMM_DATA_RETENTION: '720h' } }],
    ['extraEnv', { extraEnv: { GF_SECURITY_ADMIN_PASSWORD: 'x' } }],
    ['extraEnv', { extraEnv: { path: 'x' } }],
    ['extraEnv', { extraEnv: { GF_X: 'line\nPMM_IMAGE_TAG=evil' } }],
  ];
  it.each(bad)('refuses a bad %s', (prop, t) => {
    expect(() => validateTuning('PmmConfig', t)).toThrow(PropValidationError);
    expect(() => validateTuning('PmmConfig', t)).toThrow(`"${prop}"`);
  });

  it('accepts good literals', () => {
    expect(() =>
      validateTuning('PmmConfig', {
        dataRetention: '2160h',
        metricsResolutionHigh: '1s',
        metricsResolutionMedium: '10s',
        metricsResolutionLow: '1m',
        clickhouseConfig: 'low-memory',
        swapSizeMiB: 0,
        extraEnv: { GF_SMTP_ENABLED: 'true' },
      }),
    ).not.toThrow();
    expect(extraEnvProblem('GF_SMTP_HOST', 'smtp.example.com:587')).toBeUndefined();
  });

  it('a PmmConfig with a bad literal fails synth, naming the prop', () => {
    const stack = new TerraformStack(new App(), 'tuning');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    expect(
      () =>
        new PmmConfig(stack, 'config', {
          namePrefix: 'pmm-server-test',
          pmmVersion: '3',
          disableTelemetry: true,
          publicAddress: 'pmm.example.com',
          dataVolumeId: 'vol-0123456789abcdef0',
          adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf',
          tuning: { dataRetention: '30d' },
        }),
    ).toThrow('invalid prop "dataRetention"');
  });

  it('literal props render literally (construct used from TypeScript)', () => {
    const stack = new TerraformStack(new App(), 'tuning-ok');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const c = new PmmConfig(stack, 'config', {
      namePrefix: 'pmm-server-test',
      pmmVersion: '3',
      disableTelemetry: true,
      publicAddress: 'pmm.example.com',
      dataVolumeId: 'vol-0123456789abcdef0',
      adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf',
      tuning: {
        dataRetention: '168h',
        clickhouseConfig: 'default',
        swapSizeMiB: 1024,
        extraEnv: { PMM_DEBUG: '1', GF_SMTP_ENABLED: 'true' },
      },
      instanceMemoryMiB: 8192,
    });
    expect(c.path).toBe('/pmm/pmm-server-test');
    const json = JSON.parse(
      JSON.stringify(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (stack as any).toTerraform(),
      ),
    ) as TfJson;
    const v: string = Object.values(json.resource.aws_ssm_parameter as Record<string, TfJson>).find(
      (p) => String(p.name).endsWith('/config'),
    )!.value;
    expect(v).toContain('PMM_DATA_RETENTION=168h\n');
    expect(v).toContain('PMM_CLICKHOUSE_CONFIG=default\n');
    expect(v).toContain(
      'PMM_HOST_SWAP_MIB=1024\nPMM_EXTRA_ENV_GF_SMTP_ENABLED=true\nPMM_EXTRA_ENV_PMM_DEBUG=1\n',
    );
  });
});

describe('pmm.config.json (the schema, at synth)', () => {
  const problems = (variables: Record<string, unknown>) => configProblems({ variables });

  it.each<[Record<string, unknown>, string]>([
    [{ data_retention: '30d' }, 'variables.data_retention: must match'],
    [{ metrics_resolution_high: '0.5s' }, 'variables.metrics_resolution_high: must match'],
    [{ clickhouse_config: 'low' }, 'variables.clickhouse_config: must be one of'],
    [{ swap_size_mib: -1 }, 'variables.swap_size_mib'],
    [{ pmm_extra_env: { PMM_PUBLIC_ADDRESS: 'x' } }, 'pmm_extra_env must not set a variable'],
    [{ pmm_extra_env: { PMM_EXTRA_ENV_GF_X: 'x' } }, 'pmm_extra_env must not set a variable'],
    [{ pmm_extra_env: { GF_SECURITY_ADMIN_USER: 'x' } }, 'pmm_extra_env must not set a variable'],
    [{ pmm_extra_env: { gf_x: 'x' } }, 'must match ^(PMM|GF)_[A-Z0-9_]+$'],
    [{ pmm_extra_env: { GF_X: 'a\nb' } }, 'variables.pmm_extra_env.GF_X: must match'],
  ])('refuses %j', (variables, message) => {
    expect(problems(variables).join('\n')).toContain(message);
  });

  it('accepts what Terraform accepts', () => {
    expect(
      problems({
        data_retention: '2160h',
        metrics_resolution_low: '2m',
        clickhouse_config: 'default',
        swap_size_mib: 0,
        pmm_extra_env: { GF_SMTP_ENABLED: 'true', PMM_DEBUG: '1', GF_X: '' },
      }),
    ).toEqual([]);
  });

  it('translates negations and map keys/values exactly, and nothing it cannot', () => {
    expect(translate('!can(regex("^a", var.x))', 'var.x').patch).toEqual({
      allOf: [{ not: { pattern: '^a' } }],
    });
    expect(translate('!contains(["A", "B"], var.x)', 'var.x').patch).toEqual({
      allOf: [{ not: { enum: ['A', 'B'] } }],
    });
    expect(
      translate('alltrue([for k in keys(var.m) : can(regex("^K", k))])', 'var.m').patch,
    ).toEqual({ propertyNames: { pattern: '^K' } });
    expect(
      translate('alltrue([for v in values(var.m) : can(regex("^V", v))])', 'var.m').patch,
    ).toEqual({ additionalProperties: { pattern: '^V' } });
    // Not exact: stays Terraform-only.
    expect(translate('!(var.x > 3)', 'var.x').untranslated).toEqual(['!(var.x > 3)']);
    expect(
      translate('alltrue([for k in keys(var.m) : startswith(k, "X")])', 'var.m').untranslated,
    ).toHaveLength(1);
  });
});
