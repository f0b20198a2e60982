/**
 * THE table of day-2 changes: what each change of a module variable does to a running
 * deployment. `npm run verify` proves every row against the emulator after the first apply
 * (scripts/verify/day2-matrix.ts: plan each change, apply the rows marked `apply`), and the
 * README's "What each change does" section is generated from it (`npm run docs`).
 *
 * Resources are module-relative addresses without instance keys. `replaces` lists every
 * resource the plan destroys and re-creates, `creates` every new one, `deletes` every one
 * removed; anything not listed must be left alone or updated in place. A `refused` row must
 * fail at plan with an error containing `message` (and never with Terraform's generic
 * prevent_destroy error).
 */

/** Values the matrix creates or reads at run time (subnets, a snapshot, a KMS key ...). */
export interface Day2Context {
  /** Private subnets as seeded: [0] is the instance's (AZ a), [1] is in AZ b. */
  readonly privateSubnetIds: readonly string[];
  /** The baseline inputs of the first apply. */
  readonly baseline: Readonly<Record<string, unknown>>;
  /** A snapshot of the data volume taken after the first apply. */
  readonly snapshotId: string;
  /** A second snapshot (for the AZ move after the first restore). */
  readonly secondSnapshotId: string;
  /** A customer-managed KMS key ARN. */
  readonly kmsKeyArn: string;
  /** A second Auto Scaling Group to monitor. */
  readonly secondAsg: { readonly asg_name: string; readonly security_group_id: string };
  readonly region: string;
}

export type Day2Expectation =
  | {
      readonly kind: 'change';
      readonly replaces?: readonly string[];
      readonly creates?: readonly string[];
      readonly deletes?: readonly string[];
    }
  | { readonly kind: 'refused'; readonly message: string };

export interface Day2Change {
  readonly id: string;
  /** The change, as the README shows it (Markdown). */
  readonly change: string;
  /** Inputs changed from the baseline (merged over it). */
  readonly inputs: (c: Day2Context) => Record<string, unknown>;
  readonly expect: Day2Expectation;
  /** What it means for the running PMM (README). */
  readonly effect: string;
  /**
   * `baseline`: planned against the first apply. `apply`: planned, then applied in table
   * order (each from the state the previous left). `after-apply`: planned after the applies.
   */
  readonly stage: 'baseline' | 'apply' | 'after-apply';
}

const INSTANCE = 'aws_instance.pmm_host_instance';
const ATTACHMENT = 'aws_volume_attachment.pmm_host_data_volume_attachment';
const TARGET = 'aws_lb_target_group_attachment.pmm_front_door_target';
const VOLUME = 'aws_ebs_volume.pmm_data_volume_volume';
const BACKUP_SELECTION = 'aws_backup_selection.pmm_backup_selection';
const CERTIFICATE = 'aws_acm_certificate.pmm_front_door_tls_certificate';
const VALIDATION_RECORD = 'aws_route53_record.pmm_front_door_tls_validation_record';
const ALIAS_RECORD = 'aws_route53_record.pmm_front_door_alias_a';
const CERTIFICATE_VALIDATION = 'aws_acm_certificate_validation.pmm_front_door_tls_validation';
/** The records of one DNS name: alias, CAA and certificate validation. */
const NAME_RECORDS = [ALIAS_RECORD, 'aws_route53_record.pmm_front_door_tls_caa', VALIDATION_RECORD];
const NETWORK_INTERFACE = 'aws_network_interface.pmm_host_network_interface';
const ALB = 'aws_lb.pmm_front_door_alb';
const ALB_LISTENERS = [
  'aws_lb_listener.pmm_front_door_https',
  'aws_lb_listener.pmm_front_door_http_redirect',
];
const ALB_INGRESS = [
  'aws_vpc_security_group_ingress_rule.pmm_network_alb_https_in',
  'aws_vpc_security_group_ingress_rule.pmm_network_alb_http_in',
];
/** What a new instance takes with it: the volume attachment and the load balancer target. */
const NEW_HOST = [INSTANCE, ATTACHMENT, TARGET];
/** Replacing the data volume (restore) also re-points the backup selection at the new one. */
const NEW_VOLUME = [...NEW_HOST, BACKUP_SELECTION];

export const DAY2_CHANGES: readonly Day2Change[] = [
  {
    id: 'instance-size',
    change: '`instance_type` m5.large → m5.xlarge',
    inputs: () => ({ instance_type: 'm5.xlarge' }),
    expect: { kind: 'change' },
    effect: 'Stop, resize, start (a few minutes down); same instance, IP and volume.',
    stage: 'baseline',
  },
  {
    id: 'x86-family',
    change: '`instance_type` m5.large → c6i.large (another x86 family)',
    inputs: () => ({ instance_type: 'c6i.large' }),
    expect: { kind: 'change' },
    effect: 'Stop, change type, start; same instance, IP and volume.',
    stage: 'baseline',
  },
  {
    id: 'graviton',
    change: '`instance_type` m5.large → m7g.large (Graviton, arm64)',
    inputs: () => ({ instance_type: 'm7g.large' }),
    expect: { kind: 'refused', message: 'instance_type "m7g.large" is not an x86_64 type' },
    effect: 'Refused at plan: Percona publishes no arm64 PMM Server image, PMM would never start.',
    stage: 'baseline',
  },
  {
    id: 'ebs-size',
    change: '`ebs_volume_size` 100 → 200',
    inputs: () => ({ ebs_volume_size: 200 }),
    expect: { kind: 'change' },
    effect: 'EBS grows the volume online; the host grows the filesystem within 10 minutes.',
    stage: 'baseline',
  },
  {
    id: 'ebs-type',
    change: '`ebs_volume_type` gp3 → io2',
    inputs: () => ({ ebs_volume_type: 'io2' }),
    expect: { kind: 'change' },
    effect: 'EBS changes the volume type online (Elastic Volumes); no downtime.',
    stage: 'baseline',
  },
  {
    id: 'pmm-version',
    change: '`pmm_version` "3" → "3.4.1"',
    inputs: () => ({ pmm_version: '3.4.1' }),
    expect: { kind: 'change' },
    effect:
      'In place: the SSM configuration changes and the host restarts the PMM container; same instance and IP.',
    stage: 'baseline',
  },
  {
    id: 'telemetry',
    change: '`disable_telemetry` true → false',
    inputs: () => ({ disable_telemetry: false }),
    expect: { kind: 'change' },
    effect:
      'In place: the SSM configuration changes and the host restarts the PMM container; same instance and IP.',
    stage: 'baseline',
  },
  {
    id: 'data-retention',
    change: '`data_retention` null → "168h"',
    inputs: () => ({ data_retention: '168h' }),
    expect: { kind: 'change' },
    effect:
      'In place: the SSM configuration changes and the host restarts the PMM container once; same instance, IP and data (PMM then deletes data older than 7 days).',
    stage: 'baseline',
  },
  {
    id: 'pmm-tuning',
    change: '`metrics_resolution_low`, `clickhouse_config`, `pmm_extra_env` set; `swap_size_mib` 0',
    inputs: () => ({
      metrics_resolution_low: '120s',
      clickhouse_config: 'low-memory',
      pmm_extra_env: { GF_SMTP_ENABLED: 'false' },
      swap_size_mib: 0,
    }),
    expect: { kind: 'change' },
    effect:
      'In place: the SSM configuration changes and the host restarts the PMM container once (a swap size change alone restarts nothing); same instance and IP.',
    stage: 'baseline',
  },
  {
    id: 'extra-env-module-set',
    change: '`pmm_extra_env` sets `PMM_PUBLIC_ADDRESS`',
    inputs: () => ({ pmm_extra_env: { PMM_PUBLIC_ADDRESS: 'pmm.internal' } }),
    expect: {
      kind: 'refused',
      message: 'pmm_extra_env must not set a variable the module sets itself',
    },
    effect: 'Refused at plan: the module sets it (use `dns_names`).',
    stage: 'baseline',
  },
  {
    id: 'custom-queries',
    change: '`postgresql_custom_queries_high_resolution` set',
    inputs: () => ({
      postgresql_custom_queries_high_resolution:
        'pg_verify:\n  query: "SELECT 1 AS one"\n  metrics:\n    - one:\n        usage: "GAUGE"\n        description: "one"\n',
    }),
    expect: { kind: 'change', creates: ['aws_ssm_parameter.pmm_config_custom_queries_high'] },
    effect:
      'In place: a new SSM parameter holds the queries; the host applies it and restarts the PMM container.',
    stage: 'baseline',
  },
  {
    id: 'dns-name-added',
    change: '`dns_names` ["pmm"] → ["pmm", "pmm-alt"]',
    inputs: () => ({ dns_names: ['pmm', 'pmm-alt'] }),
    expect: {
      kind: 'change',
      replaces: [CERTIFICATE, CERTIFICATE_VALIDATION],
      creates: NAME_RECORDS,
    },
    effect:
      'A new certificate (created before the old one goes) and records for the new name only.',
    stage: 'baseline',
  },
  {
    id: 'dns-first-name-changed',
    change: '`dns_names` ["pmm"] → ["grafana"]',
    inputs: () => ({ dns_names: ['grafana'] }),
    expect: {
      kind: 'change',
      replaces: [CERTIFICATE, CERTIFICATE_VALIDATION],
      creates: NAME_RECORDS,
      deletes: NAME_RECORDS,
    },
    effect:
      'New certificate and records; PMM gets the new public address in place (container restart).',
    stage: 'baseline',
  },
  {
    id: 'internal-alb',
    change: '`internal_alb` false → true',
    inputs: () => ({ internal_alb: true }),
    expect: {
      kind: 'change',
      replaces: [ALB, ...ALB_LISTENERS],
      // allowed_cidr_blocks = null: the ALB rules move from 0.0.0.0/0 to the VPC's blocks.
      creates: ALB_INGRESS,
      deletes: ALB_INGRESS,
    },
    effect:
      'Replaces the load balancer and its listeners (ELB cannot change the scheme): the web UI is down for a few minutes and the ALB gets a new DNS name (the alias records follow in place). Agents, the instance and its data are untouched. Turn `enable_deletion_protection` off first; the same applies back.',
    stage: 'baseline',
  },
  {
    id: 'auto-recovery-off',
    change: '`enable_auto_recovery` true → false',
    inputs: () => ({ enable_auto_recovery: false }),
    expect: {
      kind: 'change',
      deletes: ['aws_cloudwatch_metric_alarm.pmm_monitoring_instance_status_check_repeated'],
    },
    effect:
      "In place: the status check alarms lose their recover and reboot actions, and EC2's simplified automatic recovery is disabled on the instance (no restart).",
    stage: 'baseline',
  },
  {
    id: 'weekly-backup',
    change: '`enable_weekly_backup` false → true',
    inputs: () => ({ enable_weekly_backup: true }),
    expect: { kind: 'change' },
    effect: 'Adds the weekly rule to the backup plan.',
    stage: 'baseline',
  },
  {
    id: 'asg-added',
    change: '`monitored_asgs`: a second Auto Scaling Group added',
    inputs: (c) => ({
      monitored_asgs: [
        ...(c.baseline.monitored_asgs as unknown[]),
        {
          asg_name: c.secondAsg.asg_name,
          username: 'pmm',
          security_group_id: c.secondAsg.security_group_id,
        },
      ],
    }),
    expect: {
      kind: 'change',
      creates: ['aws_vpc_security_group_ingress_rule.pmm_network_instance_grpc_from_asg'],
    },
    effect:
      "The group's agents may reach PMM (a new security group rule); the reconciler enrols its instances.",
    stage: 'baseline',
  },
  {
    id: 'tags',
    change: '`tags`: a tag added',
    inputs: (c) => ({ tags: { ...(c.baseline.tags as object), 'cost-center': '42' } }),
    expect: { kind: 'change' },
    effect: 'Tags updated in place.',
    stage: 'baseline',
  },
  {
    id: 'environment-rename',
    change: '`environment` verify → verify2',
    inputs: () => ({ environment: 'verify2' }),
    expect: { kind: 'refused', message: 'environment is "verify" in this deployment' },
    effect:
      'Refused at plan (name lock): a rename would destroy the vault, log group, secret and topic.',
    stage: 'baseline',
  },
  {
    id: 'service-name-rename',
    change: '`service_name` pmm-server → pmm-renamed',
    inputs: () => ({ service_name: 'pmm-renamed' }),
    expect: { kind: 'refused', message: 'service_name is "pmm-server" in this deployment' },
    effect: 'Refused at plan (name lock), as for environment.',
    stage: 'baseline',
  },
  {
    id: 'subnet-az-change',
    change: '`private_subnet_ids[0]` → a subnet in another AZ, no snapshot',
    inputs: (c) => ({ private_subnet_ids: [c.privateSubnetIds[1], c.privateSubnetIds[0]] }),
    expect: {
      kind: 'refused',
      message: 'private_subnet_ids[0] is in another Availability Zone than the data volume',
    },
    effect:
      'Refused at plan: a volume cannot change AZ. Set `data_volume_snapshot_id` too (next rows).',
    stage: 'baseline',
  },
  {
    id: 'kms-key-change',
    change: '`kms_key_id` null → a customer-managed key, no snapshot',
    inputs: (c) => ({ kms_key_id: c.kmsKeyArn }),
    expect: {
      kind: 'refused',
      message: 'kms_key_id differs from the key the data volume is encrypted with',
    },
    effect: 'Refused at plan: EBS cannot re-encrypt a volume. Set `data_volume_snapshot_id` too.',
    stage: 'baseline',
  },
  {
    id: 'kms-key-change-with-snapshot',
    change: '`kms_key_id` → a customer-managed key and `data_volume_snapshot_id` set',
    inputs: (c) => ({ kms_key_id: c.kmsKeyArn, data_volume_snapshot_id: c.snapshotId }),
    expect: { kind: 'change', creates: [VOLUME], replaces: NEW_VOLUME },
    effect:
      'A new volume encrypted with the new key is restored from the snapshot and attached to a new instance; the old volume stays, detached.',
    stage: 'baseline',
  },
  {
    id: 'restore-recovery-point-arn',
    change: '`data_volume_snapshot_id` = an AWS Backup recovery point ARN (same AZ)',
    inputs: (c) => ({
      data_volume_snapshot_id: `arn:aws:ec2:${c.region}::snapshot/${c.snapshotId}`,
    }),
    expect: { kind: 'change', creates: [VOLUME], replaces: NEW_VOLUME },
    effect: 'Same as a snapshot id.',
    stage: 'baseline',
  },
  {
    id: 'restore-same-az',
    change: '`data_volume_snapshot_id` = a snapshot (same AZ)',
    inputs: (c) => ({ data_volume_snapshot_id: c.snapshotId }),
    expect: { kind: 'change', creates: [VOLUME], replaces: NEW_VOLUME },
    effect:
      'Restores: a new volume from the snapshot, attached to a new instance; the old volume stays, detached (`detached_data_volume_ids`).',
    stage: 'apply',
  },
  {
    id: 'restore-other-az',
    change: '`data_volume_snapshot_id` = a snapshot and `private_subnet_ids[0]` in another AZ',
    inputs: (c) => ({
      data_volume_snapshot_id: c.secondSnapshotId,
      private_subnet_ids: [c.privateSubnetIds[1], c.privateSubnetIds[0]],
    }),
    expect: { kind: 'change', creates: [VOLUME], replaces: [...NEW_VOLUME, NETWORK_INTERFACE] },
    effect:
      'Moves PMM to the other AZ: a volume restored there, a new instance there; the old volumes stay, detached.',
    stage: 'apply',
  },
  {
    id: 'snapshot-unset-after-restore',
    change: '`data_volume_snapshot_id` removed again after a restore',
    inputs: (c) => ({
      data_volume_snapshot_id: null,
      private_subnet_ids: [c.privateSubnetIds[1], c.privateSubnetIds[0]],
    }),
    expect: {
      kind: 'refused',
      message: 'data_volume_snapshot_id selects a data volume that is detached',
    },
    effect: 'Refused at plan: it would switch PMM back to the old volume. Keep the variable set.',
    stage: 'after-apply',
  },
];
