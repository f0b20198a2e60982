/**
 * Bad values for every validated module variable, one or more per `validation` block.
 * `npm run verify` plans the module with each value and expects Terraform to reject it with
 * that block's own error_message; a validated variable (or validation block) without an
 * entry here fails both `npm test` (__tests__/verify-bad-inputs.test.ts) and `npm run verify`.
 *
 * Values must have the variable's type (a type error is not a validation error).
 * `rule` is the index of the variable's validation block the value breaks (default 0).
 */
import { TfJson, validatedVariables } from './lib/tf-json';

export interface BadInput {
  readonly value: unknown;
  /** Index of the validation block this value must trip. @default 0 */
  readonly rule?: number;
}

const asg = (overrides: Record<string, unknown>) => [
  {
    asg_name: 'percona-a',
    username: 'pmm',
    security_group_id: 'sg-0123456789abcdef0',
    ...overrides,
  },
];

const rds = (overrides: Record<string, unknown>) => [
  {
    identifier: 'orders-db',
    engine: 'mysql',
    username: 'pmm',
    password_secret_arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-pmm-AbCdEf',
    ...overrides,
  },
];

const copy = (overrides: Record<string, unknown>) => ({
  destination_vault_arn: 'arn:aws:backup:eu-central-1:123456789012:backup-vault:pmm-dr',
  retention_days: 30,
  ...overrides,
});

const lock = (overrides: Record<string, unknown>) => ({
  mode: 'governance',
  min_retention_days: 1,
  max_retention_days: 365,
  ...overrides,
});

export const BAD_INPUTS: Readonly<Record<string, readonly BadInput[]>> = {
  public_subnet_ids: [{ value: ['subnet-0123456789abcdef0'] }, { value: ['subnet-1', 'subnet-2'] }],
  private_subnet_ids: [{ value: [] }, { value: ['vpc-0123456789abcdef0'] }],
  zone_id: [{ value: 'example.com' }],
  environment: [{ value: 'Prod_1' }, { value: '' }],
  alarm_emails: [{ value: [] }, { value: ['oncall'] }],
  service_name: [{ value: 'PMM server' }],
  dns_names: [{ value: ['pmm', 'pmm'] }, { value: [] }, { value: ['PMM.Example'] }],
  pmm_version: [{ value: '2' }, { value: 'latest' }],
  instance_type: [{ value: 'M5.large' }, { value: 'm5' }],
  root_volume_size: [{ value: 8 }, { value: 20.5 }],
  // PMM tuning (issue 16)
  data_retention: [
    { rule: 0, value: '30d' }, // Go has no "d": PMM would refuse to start
    { rule: 0, value: '720h0m' },
    { rule: 1, value: '36h' }, // not whole days
    { rule: 1, value: '12h' }, // under a day
    { rule: 1, value: '87624h' }, // 3651 days
  ],
  metrics_resolution_high: [{ value: '1.5s' }, { value: '0s' }],
  metrics_resolution_medium: [{ value: '10' }],
  metrics_resolution_low: [{ value: '1d' }],
  clickhouse_config: [{ value: 'low' }, { value: '../../tmp/evil' }],
  swap_size_mib: [{ value: -1 }, { value: 1.5 }, { value: 65537 }],
  pmm_extra_env: [
    { rule: 0, value: { PATH: '/tmp' } },
    { rule: 0, value: { gf_server_domain: 'x' } },
    { rule: 1, value: { PMM_DATA_RETENTION: '720h' } },
    { rule: 1, value: { GF_SECURITY_ADMIN_PASSWORD: 'admin' } },
    { rule: 1, value: { PMM_EXTRA_ENV_GF_X: '1' } },
    { rule: 2, value: { GF_X: 'a\nPMM_IMAGE_TAG=evil/image:1' } },
  ],
  admin_cidr_block: [
    { value: '0.0.0.0/0' },
    { value: '10.0.0.0/33' },
    { value: '::/0' }, // IPv6: the SSH rule puts the block in cidr_ipv4
    { value: '2001:db8::/32' },
    { value: '10.1.2.3/16' }, // host bits set (non-canonical)
    { value: '0.0.0.0/1' }, // prefix shorter than /8
  ],
  ebs_volume_size: [{ value: 0 }, { value: 16385 }],
  ebs_volume_type: [{ value: 'st1' }],
  ebs_iops: [{ value: 50 }, { value: 64001 }],
  ebs_throughput: [{ value: 100 }, { value: 1001 }],
  kms_key_id: [{ value: 'alias/aws/ebs' }],
  data_volume_snapshot_id: [
    { value: 'vol-0123456789abcdef0' }, // a volume, not a snapshot
    { value: 'arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7' }, // not an EBS recovery point
    { value: 'arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0' },
    { value: 'snap-XYZ' },
  ],
  allowed_cidr_blocks: [
    { value: [] },
    { value: ['10.0.0.0/33'] },
    { value: ['::/0'] }, // IPv6: the ALB rules put each block in cidr_ipv4
    { value: ['10.0.0.0/8', '2001:db8::/32'] },
    { value: ['10.1.2.3/16'] }, // host bits set (non-canonical)
  ],
  ssl_policy: [
    { value: 'TLS13' },
    { value: 'ELBSecurityPolicy-2016-08' }, // exists, but allows TLS 1.0
    { value: 'ELBSecurityPolicy-TLS13-1-1-2021-06' }, // exists, but allows TLS 1.1
  ],
  certificate_issuers: [
    { rule: 0, value: ['amazon.com', 'Amazon'] },
    { rule: 1, value: ['letsencrypt.org'] }, // no Amazon CA: ACM could not issue
  ],
  additional_certificate_arns: [{ value: ['arn:aws:iam::123456789012:server-certificate/pmm'] }],
  alb_logs_retention_days: [{ value: 0 }],
  // Reach and placement (issue 16).
  validation_zone_id: [{ value: 'example.com' }, { value: 'z0123456789abcdefghij' }],
  backup_schedule: [
    { rule: 0, value: 'rate(1 day)' },
    { rule: 0, value: 'cron(0 25 ? * * *)' }, // hour out of range: AWS rejects it at apply
    { rule: 0, value: 'cron(0 5 ? * MON-FRY *)' },
    { rule: 1, value: 'cron(0 5 * * * *)' }, // neither day field is "?"
    { rule: 2, value: 'cron(*/5 * ? * * *)' }, // every 5 minutes: more often than hourly
  ],
  backup_retention_days: [{ value: 0 }, { value: 35041 }],
  weekly_backup_schedule: [
    { rule: 0, value: 'cron(0 6 * * 1)' },
    { rule: 0, value: 'cron(0 6 ? * 8 *)' }, // day-of-week 1-7
    { rule: 1, value: 'cron(0 6 1 * 1 *)' }, // both day fields set
    { rule: 2, value: 'cron(0,30 6 ? * 1 *)' }, // two minutes in the minutes field
  ],
  weekly_backup_retention_days: [{ value: 0 }],
  backup_kms_key_id: [{ value: 'not-an-arn' }],
  backup_copy_destinations: [
    { rule: 0, value: [copy({ destination_vault_arn: 'arn:aws:s3:::pmm-backups' })] },
    { rule: 0, value: [copy({ destination_vault_arn: 'pmm-dr' })] },
    { rule: 1, value: [copy({}), copy({})] },
    { rule: 2, value: [copy({ retention_days: 0 })] },
    { rule: 2, value: [copy({ retention_days: 7.5 })] },
    { rule: 3, value: [copy({ retention_days: 119, cold_storage_after_days: 30 })] }, // < 30 + 90
    { rule: 3, value: [copy({ retention_days: 365, cold_storage_after_days: 0 })] },
  ],
  backup_vault_lock: [
    { rule: 0, value: lock({ mode: 'legal-hold' }) },
    { rule: 1, value: lock({ min_retention_days: 100, max_retention_days: 30 }) },
    { rule: 1, value: lock({ min_retention_days: 0 }) },
    { rule: 2, value: lock({ mode: 'compliance', changeable_for_days: 1 }) },
  ],
  restore_testing_schedule: [{ value: 'monthly' }, { rule: 1, value: 'cron(0 7 1 * 1 *)' }],
  alarm_topic_arns: [{ value: ['pmm-alarms'] }],
  sns_topic_name: [{ value: 'pmm alarms!' }],
  log_retention_days: [{ value: 10 }],
  instance_egress_cidr_blocks: [{ value: [] }, { value: ['10.0.0.1/16'] }, { value: ['::/0'] }],
  log_kms_key_id: [{ value: 'alias/pmm-logs' }],
  rds_security_group_ids: [{ value: ['default'] }],
  secret_readers: [{ value: ['arn:aws:iam::123456789012:user/bob'] }],
  monitored_asgs: [
    { rule: 0, value: asg({ service_type: 'postgresql' }) },
    { rule: 1, value: asg({ port: 70000 }) },
    { rule: 2, value: [...asg({}), ...asg({})] },
    { rule: 3, value: asg({ username: '' }) },
    { rule: 4, value: asg({ security_group_id: 'default' }) },
    { rule: 5, value: asg({ password_secret_arn: 'pmm-mysql' }) },
  ],
  monitored_rds: [
    { rule: 0, value: rds({ identifier: 'orders_db' }) },
    { rule: 0, value: [...rds({}), ...rds({})] },
    { rule: 1, value: rds({ engine: 'aurora-mysql' }) },
    { rule: 2, value: rds({ query_source: 'slowlog' }) },
    { rule: 2, value: rds({ engine: 'postgresql', query_source: 'pg_stat_monitor' }) },
    { rule: 2, value: rds({ engine: 'postgresql', query_source: 'perfschema' }) },
    { rule: 3, value: rds({ port: 0 }) },
    { rule: 4, value: rds({ username: '' }) },
    { rule: 5, value: rds({ password_secret_arn: 'hunter2' }) },
    { rule: 6, value: rds({ custom_labels: { managed_by: 'me' } }) },
    { rule: 6, value: rds({ custom_labels: { 'team-name': 'x' } }) },
  ],
};

export interface BadInputCase {
  readonly variable: string;
  readonly rule: number;
  readonly value: unknown;
  /** The error_message Terraform must print (read from the module JSON). */
  readonly expectedMessage: string;
}

/**
 * The cases to run against a module JSON, plus the problems that make the table
 * incomplete or stale (a validated variable or validation block without a bad value, an
 * entry for a variable without validation, a rule index that does not exist).
 */
export function badInputCases(
  tf: TfJson,
  table: Readonly<Record<string, readonly BadInput[]>> = BAD_INPUTS,
): { cases: BadInputCase[]; problems: string[] } {
  const cases: BadInputCase[] = [];
  const problems: string[] = [];
  const validated = validatedVariables(tf);
  const byName = new Map(validated.map((v) => [v.name, v]));
  for (const v of validated) {
    const entries = table[v.name] ?? [];
    for (const r of v.rules) {
      if (!entries.some((e) => (e.rule ?? 0) === r.index)) {
        problems.push(
          `variable "${v.name}" validation #${r.index} ("${r.message}") has no bad value in scripts/verify/bad-inputs.ts`,
        );
      }
    }
  }
  for (const [name, entries] of Object.entries(table)) {
    const v = byName.get(name);
    if (!v) {
      problems.push(
        `scripts/verify/bad-inputs.ts has values for "${name}", which has no validation block in the module`,
      );
      continue;
    }
    for (const e of entries) {
      const rule = v.rules[e.rule ?? 0];
      if (!rule) {
        problems.push(`bad input for "${name}" names validation #${e.rule}, which does not exist`);
        continue;
      }
      cases.push({
        variable: name,
        rule: rule.index,
        value: e.value,
        expectedMessage: rule.message,
      });
    }
  }
  return { cases, problems };
}
