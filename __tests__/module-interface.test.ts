import { MODULE_OUTPUTS } from '../stacks/module-interface';
import { MODULE_VARIABLES } from '../stacks/module-variables';
import { synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const tf = synthModule();

const REQUIRED = [
  'public_subnet_ids',
  'private_subnet_ids',
  'zone_id',
  'environment',
  'alarm_emails',
];

/** Defaults the issue and the design document fix, by exact module name. */
const EXPECTED_DEFAULTS: Record<string, unknown> = {
  service_name: 'pmm-server',
  dns_names: ['pmm'],
  pmm_version: '3',
  disable_telemetry: true,
  instance_type: 'm5.large',
  root_volume_size: 20,
  ssh_key_name: null,
  admin_cidr_block: null,
  enable_auto_recovery: true,
  enable_detailed_monitoring: true,
  postgresql_custom_queries_high_resolution: null,
  postgresql_custom_queries_medium_resolution: null,
  postgresql_custom_queries_low_resolution: null,
  // PMM tuning (issue 16): today's behaviour by default (PMM's own settings), except the
  // automatic ClickHouse profile and swap.
  data_retention: null,
  metrics_resolution_high: null,
  metrics_resolution_medium: null,
  metrics_resolution_low: null,
  clickhouse_config: 'auto',
  swap_size_mib: null,
  pmm_extra_env: {},
  ebs_volume_size: 100,
  ebs_volume_type: 'gp3',
  ebs_iops: 3000,
  ebs_throughput: 125,
  kms_key_id: null,
  create_initial_snapshot: false,
  data_volume_snapshot_id: null,
  allowed_cidr_blocks: null,
  ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
  certificate_issuers: ['amazon.com'],
  additional_certificate_arns: [],
  enable_deletion_protection: false,
  enable_alb_access_logs: true,
  alb_logs_retention_days: 365,
  alb_logs_bucket_force_destroy: false,
  backup_schedule: 'cron(0 5 ? * * *)',
  backup_retention_days: 30,
  enable_weekly_backup: false,
  weekly_backup_schedule: 'cron(0 6 ? * 1 *)',
  weekly_backup_retention_days: 90,
  backup_root_volume: false,
  backup_kms_key_id: null,
  backup_vault_force_destroy: false,
  enable_backup_alarms: true,
  backup_copy_destinations: [],
  backup_vault_lock: null,
  enable_restore_testing: true,
  restore_testing_schedule: 'cron(0 7 1 * ? *)',
  alarm_topic_arns: [],
  sns_topic_name: null,
  create_dashboard: false,
  log_retention_days: 365,
  // Issue 13 additions (not in the reference module):
  instance_egress_cidr_blocks: null,
  log_kms_key_id: null,
  rds_security_group_ids: [],
  secret_readers: [],
  monitored_asgs: [],
  monitored_rds: [],
  tags: {},
  internal_alb: false,
  validation_zone_id: null,
};

const OUTPUTS = [
  'pmm_url',
  'admin_password_secret_arn',
  'instance_id',
  'instance_private_ip',
  'alb_dns_name',
  'alb_security_group_id',
  'instance_security_group_id',
  'ebs_volume_id',
  'detached_data_volume_ids',
  'backup_vault_name',
  'alb_logs_bucket_name',
  'sns_topic_arn',
  'certificate_arn',
  'backup_role_arn',
  'reconciler_lambda_function_arn',
  'reconciler_lambda_role_arn',
  'reconciler_enrolment_secret_arn',
  'pmm_image',
  'pmm_config_parameter_path',
  'pmm_ca_certificate_parameter_name',
];

describe('module variables', () => {
  it('declares exactly the reference interface, no more and no fewer', () => {
    expect(Object.keys(tf.variable).sort()).toEqual(
      [...REQUIRED, ...Object.keys(EXPECTED_DEFAULTS)].sort(),
    );
  });

  it.each(REQUIRED)('%s is required (no default)', (name) => {
    expect(tf.variable[name]).not.toHaveProperty('default');
  });

  it.each(Object.entries(EXPECTED_DEFAULTS))('%s defaults to %j', (name, value) => {
    expect(tf.variable[name].default).toEqual(value);
  });

  it.each(Object.keys(tf.variable))('%s has a type and a description', (name) => {
    expect(tf.variable[name].type).toEqual(expect.any(String));
    expect(tf.variable[name].description.length).toBeGreaterThan(20);
  });

  it('types monitored_asgs as a list of objects with optional service_type, port and password', () => {
    expect(tf.variable.monitored_asgs.type).toMatch(
      /^list\(object\(\{ asg_name = string, service_type = optional\(string, "mysql"\), port = optional\(number, 3306\), username = string, security_group_id = string, password_secret_arn = optional\(string\) \}\)\)$/,
    );
  });

  const validated = Object.entries(
    tf.variable as Record<string, { validation?: { condition: string; error_message: string }[] }>,
  )
    .filter(([, v]) => v.validation)
    .flatMap(([name, v]) => v.validation!.map((rule) => [name, rule] as const));

  it('validates every variable whose value can be wrong', () => {
    const unvalidated = Object.keys(tf.variable).filter((n) => !tf.variable[n].validation);
    // Booleans, free-form YAML, optional key pair names and tags cannot be wrong by shape.
    expect(unvalidated.sort()).toEqual(
      [
        'alb_logs_bucket_force_destroy',
        'backup_root_volume',
        'backup_vault_force_destroy',
        'create_dashboard',
        'create_initial_snapshot',
        'disable_telemetry',
        'enable_alb_access_logs',
        'enable_auto_recovery',
        'enable_backup_alarms',
        'enable_deletion_protection',
        'enable_restore_testing',
        'enable_detailed_monitoring',
        'enable_weekly_backup',
        'internal_alb',
        'postgresql_custom_queries_high_resolution',
        'postgresql_custom_queries_low_resolution',
        'postgresql_custom_queries_medium_resolution',
        'ssh_key_name',
        'tags',
      ].sort(),
    );
  });

  it.each(validated)(
    '%s: the condition is one boolean expression over its own variable',
    (name, rule) => {
      // One whole-string interpolation: Terraform evaluates it to the expression's type (bool).
      expect(rule.condition).toMatch(/^\$\{[^]*\}$/);
      const inner = rule.condition.slice(2, -1);
      expect(inner).not.toContain('${');
      const refs = new Set(inner.match(/\bvar\.[a-z0-9_]+/g));
      expect([...refs]).toEqual([`var.${name}`]);
    },
  );

  it.each(validated)('%s: the error message names the variable', (name, rule) => {
    expect(rule.error_message).toContain(name);
    expect(rule.error_message).toMatch(/\.$/);
  });

  it('declares the same variables as the spec table', () => {
    expect(Object.keys(MODULE_VARIABLES).sort()).toEqual(Object.keys(tf.variable).sort());
  });
});

describe('module outputs', () => {
  it('declares exactly the reference outputs', () => {
    expect(Object.keys(tf.output).sort()).toEqual([...OUTPUTS].sort());
    expect(Object.keys(MODULE_OUTPUTS).sort()).toEqual([...OUTPUTS].sort());
  });

  it.each(OUTPUTS)('%s has a description', (name) => {
    expect(tf.output[name].description.length).toBeGreaterThan(10);
  });

  it('exposes the secret ARN, never the password', () => {
    const json = JSON.stringify(tf.output);
    expect(json).not.toMatch(/random_password/);
  });
});

describe('validation conditions evaluated by terraform', () => {
  // Each variable declared with its type and default only, so `terraform console` accepts
  // any value and the condition itself decides (no providers, no network).
  const NAMES = ['admin_cidr_block', 'allowed_cidr_blocks', 'certificate_issuers'] as const;
  const variables = Object.fromEntries(
    NAMES.map((n) => [
      n,
      { type: tf.variable[n].type, default: tf.variable[n].default ?? null, nullable: true },
    ]),
  );

  /** The validation conditions of `name` evaluated with `value` (HCL), as booleans. */
  function conditions(name: (typeof NAMES)[number], value?: string): boolean[] {
    const exprs = (tf.variable[name].validation as { condition: string }[]).map((v) =>
      v.condition.slice(2, -1),
    );
    return terraformEval(`[${exprs.join(', ')}]`, {
      variables,
      values: value === undefined ? {} : { [name]: value },
    }) as boolean[];
  }

  it.each([
    [undefined, true],
    ['10.0.0.0/16', true],
    ['10.0.0.0/8', true],
    ['203.0.113.7/32', true],
    ['0.0.0.0/0', false],
    ['0.0.0.0/1', false],
    ['8.0.0.0/7', false],
    ['::/0', false],
    ['2001:db8::/32', false],
    ['10.1.2.3/16', false],
    ['10.0.0.0/33', false],
    ['not-a-cidr', false],
  ])('admin_cidr_block = %p is accepted: %p', (value, ok) => {
    expect(conditions('admin_cidr_block', value)).toEqual([ok]);
  });

  it.each([
    [undefined, true], // null: the scheme's default (0.0.0.0/0, or the VPC for internal_alb)
    ['["0.0.0.0/0"]', true],
    ['["10.0.0.0/8", "192.168.1.0/24", "203.0.113.7/32"]', true],
    ['[]', false],
    ['["::/0"]', false],
    ['["10.0.0.0/8", "2001:db8::/32"]', false],
    ['["10.1.2.3/16"]', false],
    ['["10.0.0.0/33"]', false],
  ])('allowed_cidr_blocks = %s is accepted: %p', (value, ok) => {
    expect(conditions('allowed_cidr_blocks', value)).toEqual([ok]);
  });

  it.each([
    ['[]', [true, true]],
    ['["amazon.com"]', [true, true]],
    ['["letsencrypt.org", "amazontrust.com"]', [true, true]],
    ['["awstrust.com"]', [true, true]],
    ['["amazonaws.com"]', [true, true]],
    ['["letsencrypt.org"]', [true, false]],
    ['["amazon.com", "Amazon"]', [false, true]],
  ])('certificate_issuers = %s passes [names, Amazon CA]: %p', (value, ok) => {
    expect(conditions('certificate_issuers', value)).toEqual(ok);
  });
});
