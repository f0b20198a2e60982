import { SNAPSHOT_REFERENCE } from '../constructs/data-volume';
import {
  VariableSpec,
  awsCronRules,
  cidrPrefixLength,
  eachMatches,
  intInRange,
  isCanonicalIpv4Cidr,
  nullOrMatches,
} from './variable-helpers';
import { DEFAULT_RESTORE_TESTING_SCHEDULE } from '../constructs/backup';
import {
  BACKUP_VAULT_ARN,
  COLD_STORAGE_MIN_DAYS,
  MAX_RETENTION_DAYS,
} from '../constructs/backup-copies';
import { MAX_LOCK_DAYS, MIN_CHANGEABLE_FOR_DAYS } from '../constructs/backup-vault-lock';
import {
  CLICKHOUSE_CONFIGS,
  DURATION_PATTERN,
  EXTRA_ENV_NAME_PATTERN,
  EXTRA_ENV_VALUE_PATTERN,
  MAX_DATA_RETENTION_DAYS,
  MODULE_SET_ENV_NAMES,
  MODULE_SET_ENV_PREFIXES,
  SECONDS_PER_DAY,
  SWAP_MAX_MIB,
} from '../constructs/pmm-tuning';

/** Seconds in a one-unit Go duration variable ("720h" -> 2592000). */
const goDurationSeconds = (v: string) =>
  `tonumber(regex("^[0-9]+", ${v})) * lookup({ h = 3600, m = 60, s = 1 }, substr(${v}, -1, 1), 0)`;
const hcl = (values: readonly string[]) => JSON.stringify(values).replace(/,/g, ', ');
const resolutionVariable = (level: 'high' | 'medium' | 'low', env: string, pmmDefault: string) => ({
  type: 'string',
  default: null,
  description: `PMM's ${level}-resolution metrics interval (${env}): a Go duration of at least 1s in whole seconds, minutes or hours, such as "${pmmDefault}" (PMM's default); null leaves PMM's current setting (the value last set, by the UI or an earlier apply) as it is. Changed in place (PMM restarts).`,
  rules: [
    {
      expr: nullOrMatches(`metrics_resolution_${level}`, DURATION_PATTERN),
      message: `metrics_resolution_${level} must be null or a Go duration of at least 1s in whole seconds, minutes or hours, such as "${pmmDefault}" or "1m" (one number and one unit: s, m or h).`,
    },
  ],
});

/**
 * The module's input variables, with the reference module's exact names
 * (infrahouse/terraform-aws-pmm-ecs 1.2.0). Where the design document states a default it
 * wins over the reference module. Order here is the order in the generated docs.
 */

const EMAIL = '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$';
const SUBNET = '^subnet-[0-9a-f]{8,17}$';
const SG = '^sg-[0-9a-f]{8,17}$';
const KMS_KEY_ARN = '^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$';
/** admin_cidr_block must be at least this narrow (a /8 at most: one private range). */
const ADMIN_CIDR_MIN_PREFIX = 8;
/** CAA issuer domains of Amazon's CA; ACM issues only when one of them is allowed. */
export const AMAZON_CAA_ISSUERS = [
  'amazon.com',
  'amazontrust.com',
  'awstrust.com',
  'amazonaws.com',
] as const;
/** A cron expression whose minutes field is one minute: it runs at most once an hour. */
const AT_MOST_HOURLY = '^cron\\(([0-9]|[1-5][0-9]) \\S+ \\S+ \\S+ \\S+ \\S+\\)$';
/**
 * The shape of an EC2 instance type name (family, optional options, size). Architecture,
 * memory and vCPUs are checked at plan time from the type's data (constructs/host/instance-type.ts).
 */
export const INSTANCE_TYPE_PATTERN = '^[a-z][a-z0-9-]*\\.[a-z0-9-]+$';
/** Retention values CloudWatch Logs accepts (0 = never expire). */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
  3288, 3653,
] as const;
/**
 * Application Load Balancer security policies that allow TLS 1.2 at the lowest: the TLS 1.3
 * (2021-06), FIPS (2023-04) and post-quantum (2025-09) families and the TLS 1.2-only ones,
 * from AWS's "Security policies for your Application Load Balancer" page. Older policies
 * (TLS 1.0/1.1) and misspellings fail at apply, after the rest of the stack is created.
 */
export const ELB_TLS12_POLICIES = [
  'ELBSecurityPolicy-TLS13-1-2-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06',
  'ELBSecurityPolicy-TLS13-1-3-2021-06',
  'ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04',
  'ELBSecurityPolicy-TLS13-1-2-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-3-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Res-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS13-1-3-FIPS-PQ-2025-09',
  'ELBSecurityPolicy-TLS-1-2-2017-01',
  'ELBSecurityPolicy-TLS-1-2-Ext-2018-06',
  'ELBSecurityPolicy-FS-1-2-2019-08',
  'ELBSecurityPolicy-FS-1-2-Res-2019-08',
  'ELBSecurityPolicy-FS-1-2-Res-2020-10',
] as const;
export const EBS_VOLUME_TYPES = ['gp3', 'gp2', 'io1', 'io2'] as const;
export const MONITORED_SERVICE_TYPES = ['mysql'] as const;

const MONITORED_ASG_TYPE =
  'list(object({ asg_name = string, service_type = optional(string, "mysql"), port = optional(number, 3306), username = string, security_group_id = string, password_secret_arn = optional(string) }))';

const MONITORED_RDS_TYPE =
  'list(object({ identifier = string, engine = string, username = string, password_secret_arn = string, port = optional(number), query_source = optional(string), custom_labels = optional(map(string), {}) }))';

export const MODULE_VARIABLES = {
  // ---- required -----------------------------------------------------------------------
  public_subnet_ids: {
    type: 'list(string)',
    description:
      'Public subnet IDs for the Application Load Balancer; at least two, in different Availability Zones.',
    rules: [
      {
        expr: `length(var.public_subnet_ids) >= 2 && ${eachMatches('public_subnet_ids', SUBNET)}`,
        message:
          'public_subnet_ids must list at least two subnet IDs (subnet-xxxxxxxx), one per Availability Zone.',
      },
    ],
  },
  private_subnet_ids: {
    type: 'list(string)',
    description:
      'Private subnet IDs. The PMM instance and its data volume go in the first one; the reconciler Lambda uses all of them.',
    rules: [
      {
        expr: `length(var.private_subnet_ids) >= 1 && ${eachMatches('private_subnet_ids', SUBNET)}`,
        message: 'private_subnet_ids must list at least one subnet ID (subnet-xxxxxxxx).',
      },
    ],
  },
  zone_id: {
    type: 'string',
    description:
      'Route53 hosted zone ID in which the DNS names and certificate validation records are created.',
    rules: [
      {
        expr: 'can(regex("^Z[A-Z0-9]{1,31}$", var.zone_id))',
        message: 'zone_id must be a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ.',
      },
    ],
  },
  environment: {
    type: 'string',
    description: 'Environment name (for example production); used in resource names and tags.',
    rules: [
      {
        expr: 'can(regex("^[a-z0-9][a-z0-9-]{0,19}$", var.environment))',
        message:
          'environment must be 1-20 characters: lowercase letters, digits and hyphens, starting with a letter or digit.',
      },
    ],
  },
  alarm_emails: {
    type: 'list(string)',
    description:
      'Email addresses subscribed to the alarm SNS topic (each must confirm the subscription).',
    rules: [
      {
        expr: `length(var.alarm_emails) >= 1 && ${eachMatches('alarm_emails', EMAIL)}`,
        message: 'alarm_emails must list at least one email address (name@example.com).',
      },
    ],
  },

  // ---- instance -----------------------------------------------------------------------
  service_name: {
    type: 'string',
    default: 'pmm-server',
    description:
      'Name of the service; prefixes resource names and names the log group /aws/ec2/<service_name>, which has no environment in it: two environments in one account and region need different service_name values.',
    rules: [
      {
        expr: 'can(regex("^[a-z][a-z0-9-]{0,19}$", var.service_name))',
        message:
          'service_name must be 1-20 characters: lowercase letters, digits and hyphens, starting with a letter.',
      },
    ],
  },
  dns_names: {
    type: 'list(string)',
    default: ['pmm'],
    description:
      "Host names (relative to the zone) for PMM. The first is the primary name used in pmm_url and PMM's public address (changed in place: PMM restarts); all are on the certificate. Adding or removing a name keeps the validation records of the others.",
    rules: [
      {
        expr: `length(var.dns_names) >= 1 && length(var.dns_names) == length(distinct(var.dns_names)) && ${eachMatches('dns_names', '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$')}`,
        message:
          'dns_names must list at least one distinct lowercase host name relative to the zone, such as "pmm".',
      },
    ],
  },
  pmm_version: {
    type: 'string',
    default: '3',
    description:
      'Tag of the percona/pmm-server image ("3", "3.x" or "3.x.y"). Changed in place: the host applies it within about a minute and restarts PMM (no new instance). The host resolves the tag to an image digest once per applied set of PMM settings and keeps it across reboots, instance replacement and restores, so "3" moves to a newer PMM only when an apply changes the PMM settings (this variable, telemetry, custom queries, the first DNS name); output pmm_image shows the image. Upgrades are one-way (docs/operations.md).',
    rules: [
      {
        expr: 'can(regex("^3(\\\\.[0-9]+){0,2}$", var.pmm_version))',
        message: 'pmm_version must be a PMM 3 image tag: "3", "3.x" or "3.x.y".',
      },
    ],
  },
  disable_telemetry: {
    type: 'bool',
    default: true,
    description:
      'Disable PMM telemetry (sets PMM_ENABLE_TELEMETRY=false in the container). Changed in place (PMM restarts).',
  },
  instance_type: {
    type: 'string',
    default: 'm5.large',
    description:
      "EC2 instance type for PMM: any x86_64 type with at least 4 GiB of memory and 2 vCPUs that supports EBS optimization, checked at plan from the type's data (arm64/Graviton types are refused: there is no native arm64 PMM Server image). A change is made in place (the instance is stopped and started: brief downtime, same private IP). Data persists on the data volume.",
    rules: [
      {
        expr: `can(regex(${JSON.stringify(INSTANCE_TYPE_PATTERN)}, var.instance_type))`,
        message:
          'instance_type must be an EC2 instance type name such as m7i.large (family, a dot, size).',
      },
    ],
  },
  root_volume_size: {
    type: 'number',
    default: 20,
    description:
      'Root volume size in GiB (gp3, encrypted); at least 16. Ubuntu, Docker and the PMM 3 image take about 10 GiB, so a disk of 8 GiB would be past the root disk alarm (85 % used) from the first boot; 16 leaves room for logs and pulling a new image.',
    rules: [
      {
        expr: intInRange('root_volume_size', 16, 16384),
        message:
          'root_volume_size must be a whole number of GiB from 16 to 16384 (Ubuntu, Docker and the PMM 3 image take about 10 GiB, and the root disk alarm fires at 85 % used).',
      },
    ],
  },
  ssh_key_name: {
    type: 'string',
    default: null,
    description:
      'EC2 key pair name for SSH access; null for none (SSM Session Manager works without it).',
  },
  admin_cidr_block: {
    type: 'string',
    default: null,
    description:
      'IPv4 CIDR block (canonical, prefix /8 or longer) allowed to reach the instance on SSH (22); null opens no SSH port.',
    rules: [
      {
        expr: `var.admin_cidr_block == null ? true : ${isCanonicalIpv4Cidr('var.admin_cidr_block')} && ${cidrPrefixLength('var.admin_cidr_block')} >= ${ADMIN_CIDR_MIN_PREFIX}`,
        message: `admin_cidr_block must be null or a canonical IPv4 CIDR block (no host bits set) with a prefix length of /${ADMIN_CIDR_MIN_PREFIX} or longer, such as 10.0.0.0/16; IPv6 blocks are not accepted.`,
      },
    ],
  },
  enable_auto_recovery: {
    type: 'bool',
    default: true,
    description:
      'Act on failed EC2 status checks: recover the instance (EC2 recover action, new hardware, same instance, IP and volumes) when the system status check fails for 2 minutes, reboot it when the instance status check fails for 3 minutes, and alarm when instance checks keep failing despite reboots. false removes both actions and also disables EC2\'s simplified automatic recovery (maintenance_options.auto_recovery = "disabled"); true leaves that at AWS\'s default (on for supported types). See docs/recovery.md.',
  },
  enable_detailed_monitoring: {
    type: 'bool',
    default: true,
    description: 'Enable 1-minute EC2 detailed monitoring.',
  },
  postgresql_custom_queries_high_resolution: {
    type: 'string',
    default: null,
    description:
      'YAML of custom PostgreSQL queries for the high-resolution collector; null for none. Stored gzipped in SSM Parameter Store (at most 8192 characters after gzip+base64); changed in place (PMM restarts).',
  },
  postgresql_custom_queries_medium_resolution: {
    type: 'string',
    default: null,
    description:
      'YAML of custom PostgreSQL queries for the medium-resolution collector; null for none. Stored gzipped in SSM Parameter Store (at most 8192 characters after gzip+base64); changed in place (PMM restarts).',
  },
  postgresql_custom_queries_low_resolution: {
    type: 'string',
    default: null,
    description:
      'YAML of custom PostgreSQL queries for the low-resolution collector; null for none. Stored gzipped in SSM Parameter Store (at most 8192 characters after gzip+base64); changed in place (PMM restarts).',
  },

  // ---- PMM tuning (issue 16; constructs/pmm-tuning.ts, README "Tuning PMM") ------------
  data_retention: {
    type: 'string',
    default: null,
    description: `How long PMM keeps metrics and Query Analytics data (PMM_DATA_RETENTION): a Go duration of whole days, 1 to ${MAX_DATA_RETENTION_DAYS} days, in hours such as "720h" (30 days, PMM's default); Go has no "d" unit, and PMM refuses to start on "30d". null leaves PMM's current setting (the value last set, by the UI or an earlier apply) as it is. Changed in place (PMM restarts).`,
    rules: [
      {
        expr: nullOrMatches('data_retention', DURATION_PATTERN),
        message:
          'data_retention must be null or a Go duration of one number and one unit (h, m or s), such as "720h" for 30 days; Go has no "d" unit ("30d" stops PMM).',
      },
      {
        expr: `var.data_retention == null ? true : try(${goDurationSeconds('var.data_retention')} % ${SECONDS_PER_DAY} == 0 && ${goDurationSeconds('var.data_retention')} >= ${SECONDS_PER_DAY} && ${goDurationSeconds('var.data_retention')} <= ${MAX_DATA_RETENTION_DAYS * SECONDS_PER_DAY}, false)`,
        message: `data_retention must be a whole number of days from 1 to ${MAX_DATA_RETENTION_DAYS} (PMM refuses other values), such as "24h", "168h" or "720h".`,
      },
    ],
  },
  metrics_resolution_high: resolutionVariable('high', 'PMM_METRICS_RESOLUTION_HR', '5s'),
  metrics_resolution_medium: resolutionVariable('medium', 'PMM_METRICS_RESOLUTION_MR', '10s'),
  metrics_resolution_low: resolutionVariable('low', 'PMM_METRICS_RESOLUTION_LR', '60s'),
  clickhouse_config: {
    type: 'string',
    default: 'auto',
    description:
      'ClickHouse profile of PMM (PMM_CLICKHOUSE_CONFIG, PMM 3.9.0 and later): "auto" picks "low-memory" when the instance type has less than 16 GiB of memory and leaves PMM\'s default otherwise; "default" or "low-memory" force one. PMM releases before 3.9.0 ignore it (a warning in the PMM log). Changed in place (PMM restarts).',
    rules: [
      {
        expr: `contains(${hcl(CLICKHOUSE_CONFIGS)}, var.clickhouse_config)`,
        message: `clickhouse_config must be one of ${CLICKHOUSE_CONFIGS.map((c) => `"${c}"`).join(', ')}.`,
      },
    ],
  },
  swap_size_mib: {
    type: 'number',
    default: null,
    description:
      "Size of the PMM host's swap file on the root volume, in MiB; 0 for none. null (default) sizes it from the instance type: half its memory, at most 4096 MiB and at most what the root volume has beyond the 16 GiB the system needs (none on a 16 GiB root volume). Applied in place within about a minute, also after an instance type change; the data volume is never used.",
    rules: [
      {
        expr: `var.swap_size_mib == null ? true : var.swap_size_mib == floor(var.swap_size_mib) && var.swap_size_mib >= 0 && var.swap_size_mib <= ${SWAP_MAX_MIB}`,
        message: `swap_size_mib must be null (automatic) or a whole number of MiB from 0 (no swap) to ${SWAP_MAX_MIB}.`,
      },
    ],
  },
  pmm_extra_env: {
    type: 'map(string)',
    default: {},
    description:
      'Extra environment variables for the PMM container: PMM_* and GF_* (Grafana) names only, not those the module sets itself (see README "Tuning PMM"); values are printable ASCII on one line. NOT for secrets: the values are stored in plain text in the Terraform state and in SSM Parameter Store. Changed in place (PMM restarts).',
    rules: [
      {
        expr: `alltrue([for k in keys(var.pmm_extra_env) : can(regex(${JSON.stringify(EXTRA_ENV_NAME_PATTERN)}, k))])`,
        message:
          'pmm_extra_env names must be PMM_* or GF_* environment variable names: uppercase letters, digits and "_", such as GF_SMTP_ENABLED.',
      },
      {
        expr: `alltrue([for k in keys(var.pmm_extra_env) : !contains(${hcl(MODULE_SET_ENV_NAMES)}, k) && !can(regex(${JSON.stringify(`^(${MODULE_SET_ENV_PREFIXES.join('|')})`)}, k))])`,
        message: `pmm_extra_env must not set a variable the module sets itself: ${MODULE_SET_ENV_NAMES.join(', ')} or a name starting with ${MODULE_SET_ENV_PREFIXES.join(', ')} (use the module's own inputs: data_retention, metrics_resolution_*, clickhouse_config, disable_telemetry, dns_names).`,
      },
      {
        expr: `alltrue([for v in values(var.pmm_extra_env) : can(regex(${JSON.stringify(EXTRA_ENV_VALUE_PATTERN)}, v))])`,
        message:
          'pmm_extra_env values must be printable ASCII on one line (no newline, tab or other control character).',
      },
    ],
  },

  // ---- data volume --------------------------------------------------------------------
  ebs_volume_size: {
    type: 'number',
    default: 100,
    description:
      'Size of the PMM data volume in GiB. Can grow in place (the host grows the filesystem at boot); never shrink.',
    rules: [
      {
        expr: intInRange('ebs_volume_size', 1, 16384),
        message: 'ebs_volume_size must be a whole number of GiB from 1 to 16384.',
      },
    ],
  },
  ebs_volume_type: {
    type: 'string',
    default: 'gp3',
    description: 'EBS type of the data volume: gp3, gp2, io1 or io2.',
    rules: [
      {
        expr: 'contains(["gp3", "gp2", "io1", "io2"], var.ebs_volume_type)',
        message: 'ebs_volume_type must be one of "gp3", "gp2", "io1", "io2".',
      },
    ],
  },
  ebs_iops: {
    type: 'number',
    default: 3000,
    description: 'Provisioned IOPS of the data volume; applied to gp3, io1 and io2 only.',
    rules: [
      {
        expr: intInRange('ebs_iops', 100, 64000),
        message: 'ebs_iops must be a whole number from 100 to 64000 (gp3 accepts 3000-16000).',
      },
    ],
  },
  ebs_throughput: {
    type: 'number',
    default: 125,
    description: 'Throughput of the data volume in MiB/s; applied to gp3 only.',
    rules: [
      {
        expr: intInRange('ebs_throughput', 125, 1000),
        message: 'ebs_throughput must be a whole number of MiB/s from 125 to 1000.',
      },
    ],
  },
  kms_key_id: {
    type: 'string',
    default: null,
    description:
      'KMS key (ARN) for the data and root volumes; null uses the AWS-managed aws/ebs key. Encryption is always on.',
    rules: [
      {
        expr: nullOrMatches('kms_key_id', KMS_KEY_ARN),
        message:
          'kms_key_id must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).',
      },
    ],
  },
  create_initial_snapshot: {
    type: 'bool',
    default: false,
    description:
      'Take one EBS snapshot of the data volume when it is created (the volume is still blank then: a restore point for tooling, not a backup; AWS Backup takes the daily backups).',
  },

  data_volume_snapshot_id: {
    type: 'string',
    default: null,
    description:
      "Restore the PMM data volume from this EBS snapshot (snap-...) or AWS Backup recovery point ARN (arn:aws:ec2:<region>::snapshot/snap-...) with a plain apply: a new volume is created from it in the first private subnet's Availability Zone and attached; the previous volume is never destroyed: it stays, detached, and detached_data_volume_ids names it (docs/recovery.md). Also the way to move PMM to another Availability Zone or change kms_key_id. null keeps the current volume.",
    rules: [
      {
        expr: nullOrMatches('data_volume_snapshot_id', SNAPSHOT_REFERENCE),
        message:
          'data_volume_snapshot_id must be null, a snapshot id (snap-0123456789abcdef0) or an AWS Backup recovery point ARN of an EBS snapshot (arn:aws:ec2:<region>::snapshot/snap-0123456789abcdef0).',
      },
    ],
  },

  // ---- front door ---------------------------------------------------------------------
  allowed_cidr_blocks: {
    type: 'list(string)',
    default: null,
    description:
      "CIDR blocks allowed to reach the load balancer on HTTPS (443) and HTTP (80, redirected to HTTPS); null (default) allows 0.0.0.0/0 to an internet-facing load balancer and the VPC's IPv4 CIDR blocks to an internal one (internal_alb). List VPN or peered ranges explicitly.",
    rules: [
      {
        expr: `var.allowed_cidr_blocks == null ? true : length(var.allowed_cidr_blocks) >= 1 && alltrue([for c in var.allowed_cidr_blocks : ${isCanonicalIpv4Cidr('c')}])`,
        message:
          'allowed_cidr_blocks must be null (the default for the load balancer scheme) or list at least one canonical IPv4 CIDR block (no host bits set), such as 0.0.0.0/0 or 10.0.0.0/8; IPv6 blocks are not accepted.',
      },
    ],
  },
  ssl_policy: {
    type: 'string',
    default: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
    description:
      'TLS security policy of the HTTPS listener: an ALB policy with TLS 1.2 or newer (the TLS13, FIPS, PQ, TLS-1-2 and FS-1-2 policies).',
    rules: [
      {
        expr: `contains(${JSON.stringify(ELB_TLS12_POLICIES).replace(/,/g, ', ')}, var.ssl_policy)`,
        message: `ssl_policy must be an Application Load Balancer security policy with TLS 1.2 or newer: ${ELB_TLS12_POLICIES.join(', ')}.`,
      },
    ],
  },
  certificate_issuers: {
    type: 'list(string)',
    default: ['amazon.com'],
    description:
      'Certificate authorities allowed by CAA records on each DNS name; an empty list creates no CAA records. A non-empty list must include an Amazon CA (amazon.com, amazontrust.com, awstrust.com or amazonaws.com), or ACM cannot issue the certificate.',
    rules: [
      {
        expr: eachMatches('certificate_issuers', '^[a-z0-9.-]+\\.[a-z]{2,}$'),
        message: 'certificate_issuers must list CA domain names, such as "amazon.com".',
      },
      {
        expr: `length(var.certificate_issuers) == 0 || anytrue([for v in var.certificate_issuers : contains(${JSON.stringify(AMAZON_CAA_ISSUERS).replace(/,/g, ', ')}, v)])`,
        message: `certificate_issuers must be empty or include an Amazon CA (${AMAZON_CAA_ISSUERS.map((d) => `"${d}"`).join(', ')}): CAA records without one stop ACM from issuing the certificate.`,
      },
    ],
  },
  additional_certificate_arns: {
    type: 'list(string)',
    default: [],
    description: 'Additional ACM certificate ARNs attached to the HTTPS listener (SNI).',
    rules: [
      {
        expr: eachMatches(
          'additional_certificate_arns',
          '^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$',
        ),
        message:
          'additional_certificate_arns must list ACM certificate ARNs (arn:aws:acm:<region>:<account>:certificate/<id>).',
      },
    ],
  },
  enable_deletion_protection: {
    type: 'bool',
    default: false,
    description: 'Enable deletion protection on the load balancer.',
  },
  enable_alb_access_logs: {
    type: 'bool',
    default: true,
    description: 'Write load balancer access logs to a dedicated, encrypted S3 bucket.',
  },
  alb_logs_retention_days: {
    type: 'number',
    default: 365,
    description: 'Days to keep load balancer access logs before S3 expires them.',
    rules: [
      {
        expr: intInRange('alb_logs_retention_days', 1, 36500),
        message: 'alb_logs_retention_days must be a whole number of days from 1 to 36500.',
      },
    ],
  },
  alb_logs_bucket_force_destroy: {
    type: 'bool',
    default: false,
    description: 'Allow destroying the access-logs bucket while it still holds logs.',
  },

  // ---- reach and placement (issue 16) ---------------------------------------------------
  internal_alb: {
    type: 'bool',
    default: false,
    description:
      "Make the load balancer internal (private IPs only, in private_subnet_ids, which must then list two or more subnets in different Availability Zones): PMM is reachable only inside the VPC, over VPN or peering. The alias records go into zone_id, which may be a private zone; certificate validation then needs validation_zone_id. Changing it REPLACES the load balancer and its listeners (ELB cannot change the scheme): PMM's web address is down for a few minutes and its DNS name changes; agents are unaffected (they connect to the instance). Turn enable_deletion_protection off first. public_subnet_ids stays required (and validated) but is not used while it is true.",
  },
  validation_zone_id: {
    type: 'string',
    default: null,
    description:
      "Public Route53 hosted zone for the certificate's DNS validation records and the CAA records: the public zone of zone_id's domain or of a parent domain. ACM checks both through public DNS, so set it when zone_id is a private zone (internal_alb); null uses zone_id, which plan then requires to be public. Uses the aws.dns provider, like zone_id.",
    rules: [
      {
        expr: nullOrMatches('validation_zone_id', '^Z[A-Z0-9]{1,31}$'),
        message:
          'validation_zone_id must be null or a Route53 hosted zone ID such as Z0123456789ABCDEFGHIJ.',
      },
    ],
  },

  // ---- backup -------------------------------------------------------------------------
  backup_schedule: {
    type: 'string',
    default: 'cron(0 5 ? * * *)',
    description:
      'AWS Backup schedule (cron expression, UTC) of the main ("daily") backup rule. More frequent schedules lower the RPO, for example "cron(0 */6 ? * * *)" every 6 hours (RPO about 6 hours plus the job time; see README "Backups, RPO and RTO"); AWS Backup runs a rule at most once an hour.',
    rules: [
      ...awsCronRules('backup_schedule', 'cron(0 5 ? * * *)'),
      {
        expr: `can(regex(${JSON.stringify(AT_MOST_HOURLY)}, var.backup_schedule))`,
        message:
          'backup_schedule must run at most once an hour: its minutes field must be one minute from 0 to 59, such as "cron(0 */6 ? * * *)" (every 6 hours).',
      },
    ],
  },
  backup_retention_days: {
    type: 'number',
    default: 30,
    description: 'Days to keep daily backups.',
    rules: [
      {
        expr: intInRange('backup_retention_days', 1, 35040),
        message: 'backup_retention_days must be a whole number of days from 1 to 35040.',
      },
    ],
  },
  enable_weekly_backup: {
    type: 'bool',
    default: false,
    description: 'Add a weekly backup rule with its own, longer retention.',
  },
  weekly_backup_schedule: {
    type: 'string',
    default: 'cron(0 6 ? * 1 *)',
    description: 'AWS Backup schedule (cron expression, UTC) of the weekly backup.',
    rules: [
      ...awsCronRules('weekly_backup_schedule', 'cron(0 6 ? * 1 *)'),
      {
        expr: `can(regex(${JSON.stringify(AT_MOST_HOURLY)}, var.weekly_backup_schedule))`,
        message:
          'weekly_backup_schedule must run at most once an hour: its minutes field must be one minute from 0 to 59, such as "cron(0 6 ? * 1 *)".',
      },
    ],
  },
  weekly_backup_retention_days: {
    type: 'number',
    default: 90,
    description: 'Days to keep weekly backups.',
    rules: [
      {
        expr: intInRange('weekly_backup_retention_days', 1, 35040),
        message: 'weekly_backup_retention_days must be a whole number of days from 1 to 35040.',
      },
    ],
  },
  backup_root_volume: {
    type: 'bool',
    default: false,
    description: "Also back up the instance's root volume (selected by ARN, never by tag).",
  },
  backup_kms_key_id: {
    type: 'string',
    default: null,
    description:
      "KMS key ARN for the backup vault; null uses the AWS-managed key. The EBS recovery points of this module are not re-encrypted with it: AWS Backup keeps an EBS snapshot encrypted with its source volume's key (kms_key_id or aws/ebs); the vault key covers only resource types with full AWS Backup management.",
    rules: [
      {
        expr: nullOrMatches('backup_kms_key_id', KMS_KEY_ARN),
        message:
          'backup_kms_key_id must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).',
      },
    ],
  },
  backup_vault_force_destroy: {
    type: 'bool',
    default: false,
    description: 'Allow destroying the backup vault while it still holds recovery points.',
  },
  enable_backup_alarms: {
    type: 'bool',
    default: true,
    description:
      'Alarm and notify on failed backup jobs, failed copy jobs (when backup_copy_destinations is set) and failed restore jobs (restore tests).',
  },
  // Disaster recovery (issue 14): copies, vault lock, restore testing.
  backup_copy_destinations: {
    type: 'list(object({ destination_vault_arn = string, retention_days = number, cold_storage_after_days = optional(number) }))',
    default: [],
    description:
      "Backup vaults in other regions or accounts that receive a copy of every recovery point of the daily rule and, when enabled, the weekly rule; empty adds none. Each copy is kept retention_days (and moves to cold storage after cold_storage_after_days, which needs retention_days >= cold_storage_after_days + 90). Copies are encrypted with the destination vault's KMS key; a cross-account copy needs a customer-managed key on the data volume (kms_key_id) shared with the destination account and a vault access policy on the destination that allows backup:CopyIntoBackupVault (see docs/operations.md).",
    rules: [
      {
        expr: `alltrue([for d in var.backup_copy_destinations : can(regex(${JSON.stringify(BACKUP_VAULT_ARN)}, d.destination_vault_arn))])`,
        message:
          'backup_copy_destinations: each destination_vault_arn must be a backup vault ARN, arn:aws:backup:<region>:<account>:backup-vault:<name>.',
      },
      {
        expr: 'length(distinct([for d in var.backup_copy_destinations : d.destination_vault_arn])) == length(var.backup_copy_destinations)',
        message: 'backup_copy_destinations must not list the same destination_vault_arn twice.',
      },
      {
        expr: `alltrue([for d in var.backup_copy_destinations : d.retention_days == floor(d.retention_days) && d.retention_days >= 1 && d.retention_days <= ${MAX_RETENTION_DAYS}])`,
        message: `backup_copy_destinations: each retention_days must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}.`,
      },
      {
        expr: `alltrue([for d in var.backup_copy_destinations : d.cold_storage_after_days == null ? true : (d.cold_storage_after_days == floor(d.cold_storage_after_days) && d.cold_storage_after_days >= 1 && d.retention_days >= d.cold_storage_after_days + ${COLD_STORAGE_MIN_DAYS})])`,
        message: `backup_copy_destinations: cold_storage_after_days must be null or a whole number of days of at least 1, and retention_days must be at least cold_storage_after_days + ${COLD_STORAGE_MIN_DAYS} (AWS Backup keeps a cold recovery point ${COLD_STORAGE_MIN_DAYS} days).`,
      },
    ],
  },
  backup_vault_lock: {
    type: 'object({ mode = string, min_retention_days = number, max_retention_days = number, changeable_for_days = optional(number, 3) })',
    default: null,
    description:
      'AWS Backup Vault Lock on the backup vault; null (default) for none. mode "governance": users with the IAM permission can still change or remove the lock. mode "compliance": WARNING, after changeable_for_days (at least 3) the lock can NEVER be removed or changed by anyone, including the account root user and AWS, and the vault and its recovery points cannot be deleted before they expire (backup_vault_force_destroy no longer helps). Every rule\'s retention must lie between min_retention_days and max_retention_days (checked at plan).',
    rules: [
      {
        expr: 'var.backup_vault_lock == null ? true : contains(["governance", "compliance"], var.backup_vault_lock.mode)',
        message: 'backup_vault_lock.mode must be "governance" or "compliance".',
      },
      {
        expr: `var.backup_vault_lock == null ? true : (var.backup_vault_lock.min_retention_days == floor(var.backup_vault_lock.min_retention_days) && var.backup_vault_lock.max_retention_days == floor(var.backup_vault_lock.max_retention_days) && var.backup_vault_lock.min_retention_days >= 1 && var.backup_vault_lock.max_retention_days <= ${MAX_LOCK_DAYS} && var.backup_vault_lock.min_retention_days <= var.backup_vault_lock.max_retention_days)`,
        message: `backup_vault_lock: min_retention_days and max_retention_days must be whole numbers of days from 1 to ${MAX_LOCK_DAYS}, with min_retention_days <= max_retention_days.`,
      },
      {
        expr: `var.backup_vault_lock == null ? true : (var.backup_vault_lock.changeable_for_days == floor(var.backup_vault_lock.changeable_for_days) && var.backup_vault_lock.changeable_for_days >= ${MIN_CHANGEABLE_FOR_DAYS} && var.backup_vault_lock.changeable_for_days <= ${MAX_LOCK_DAYS})`,
        message: `backup_vault_lock.changeable_for_days must be a whole number of days from ${MIN_CHANGEABLE_FOR_DAYS} to ${MAX_LOCK_DAYS} (AWS Backup's cooling-off period is 3 days).`,
      },
    ],
  },
  enable_restore_testing: {
    type: 'bool',
    default: true,
    description:
      "Let AWS Backup test a restore of the data volume on restore_testing_schedule: it restores the latest recovery point (at most 7 days old) into a new volume in the instance's Availability Zone, keeps it 2 hours and deletes it. A failed restore notifies and alarms (with enable_backup_alarms).",
  },
  restore_testing_schedule: {
    type: 'string',
    default: DEFAULT_RESTORE_TESTING_SCHEDULE,
    description:
      'AWS Backup restore testing schedule (cron expression, UTC); default monthly, 07:00 UTC on the 1st.',
    rules: awsCronRules('restore_testing_schedule', 'cron(0 7 1 * ? *)'),
  },

  // ---- monitoring ---------------------------------------------------------------------
  alarm_topic_arns: {
    type: 'list(string)',
    default: [],
    description: 'Additional SNS topic ARNs every alarm notifies (PagerDuty, Slack, ...).',
    rules: [
      {
        expr: eachMatches('alarm_topic_arns', '^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$'),
        message:
          'alarm_topic_arns must list SNS topic ARNs (arn:aws:sns:<region>:<account>:<name>).',
      },
    ],
  },
  sns_topic_name: {
    type: 'string',
    default: null,
    description: 'Name of the alarm SNS topic; null derives it from service_name and environment.',
    rules: [
      {
        expr: nullOrMatches('sns_topic_name', '^[A-Za-z0-9_-]{1,256}$'),
        message: 'sns_topic_name must be null or 1-256 letters, digits, hyphens and underscores.',
      },
    ],
  },
  create_dashboard: {
    type: 'bool',
    default: false,
    description: 'Create a CloudWatch dashboard for the deployment.',
  },
  log_retention_days: {
    type: 'number',
    default: 365,
    description: 'Retention of the CloudWatch log groups in days (0 = never expire).',
    rules: [
      {
        expr: `contains([${LOG_RETENTION_DAYS.join(', ')}], var.log_retention_days)`,
        message: `log_retention_days must be one of ${LOG_RETENTION_DAYS.join(', ')} (the values CloudWatch Logs accepts; 0 = never expire).`,
      },
    ],
  },

  // ---- hardening (issue 13) -----------------------------------------------------------
  instance_egress_cidr_blocks: {
    type: 'list(string)',
    default: null,
    description:
      'IPv4 CIDR blocks the PMM instance may send traffic to (all protocols), plus PostgreSQL/MySQL to rds_security_group_ids; null (default) allows all outbound IPv4 and IPv6 traffic, as the design specifies. A list must reach the AWS APIs (Secrets Manager, SSM, CloudWatch: VPC endpoints or the NAT), the monitored databases and the image and package sources (Docker Hub, download.docker.com, Ubuntu, snaps).',
    rules: [
      {
        expr: `var.instance_egress_cidr_blocks == null || try(length(var.instance_egress_cidr_blocks) >= 1 && alltrue([for c in var.instance_egress_cidr_blocks : ${isCanonicalIpv4Cidr('c')}]), false)`,
        message:
          'instance_egress_cidr_blocks must be null (all outbound traffic) or list at least one canonical IPv4 CIDR block (no host bits set), such as 10.0.0.0/16; IPv6 blocks are not accepted.',
      },
    ],
  },
  log_kms_key_id: {
    type: 'string',
    default: null,
    description:
      "KMS key (ARN) that encrypts the CloudWatch log groups (the host's and the reconciler's); null uses CloudWatch Logs' service-managed encryption. The key policy must allow logs.<region>.amazonaws.com (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*) for this account's log groups.",
    rules: [
      {
        expr: nullOrMatches('log_kms_key_id', KMS_KEY_ARN),
        message:
          'log_kms_key_id must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).',
      },
    ],
  },

  // ---- access -------------------------------------------------------------------------
  rds_security_group_ids: {
    type: 'list(string)',
    default: [],
    description:
      'Security groups of RDS instances PMM monitors; each gets ingress on 5432 and 3306 from the PMM instance.',
    rules: [
      {
        expr: eachMatches('rds_security_group_ids', SG),
        message: 'rds_security_group_ids must list security group IDs (sg-xxxxxxxx).',
      },
    ],
  },
  secret_readers: {
    type: 'list(string)',
    default: [],
    description:
      'IAM role ARNs of this account allowed to read the PMM admin password secret (besides the PMM instance and the reconciler); the secret policy denies every other principal.',
    rules: [
      {
        // IAM's own character set for role paths and names (no ":"): the same-account check
        // on the secret policy counts ":iam::<account>:role/" occurrences.
        expr: eachMatches(
          'secret_readers',
          '^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$',
        ),
        message:
          'secret_readers must list IAM role ARNs (arn:aws:iam::<account>:role/<path/name>; letters, digits and +=,.@_/- only).',
      },
    ],
  },

  // ---- reconciler ---------------------------------------------------------------------
  monitored_asgs: {
    type: MONITORED_ASG_TYPE,
    default: [],
    description:
      'Auto Scaling Groups whose InService instances get pmm-client and a MySQL service; empty creates no reconciler. Objects: asg_name, service_type ("mysql"), port (default 3306), username, security_group_id, password_secret_arn (optional).',
    rules: [
      {
        expr: 'alltrue([for a in var.monitored_asgs : contains(["mysql"], a.service_type)])',
        message: 'monitored_asgs[*].service_type must be "mysql".',
      },
      {
        expr: 'alltrue([for a in var.monitored_asgs : a.port == floor(a.port) && a.port >= 1 && a.port <= 65535])',
        message: 'monitored_asgs[*].port must be a whole number from 1 to 65535.',
      },
      {
        expr: 'alltrue([for a in var.monitored_asgs : can(regex("^[A-Za-z0-9._-]{1,255}$", a.asg_name))]) && length(var.monitored_asgs) == length(distinct([for a in var.monitored_asgs : a.asg_name]))',
        message:
          'monitored_asgs[*].asg_name must be distinct Auto Scaling Group names (letters, digits, ".", "_", "-").',
      },
      {
        expr: 'alltrue([for a in var.monitored_asgs : can(regex("^[A-Za-z0-9_.@-]{1,32}$", a.username))])',
        message: 'monitored_asgs[*].username must be a MySQL user name of 1-32 characters.',
      },
      {
        expr: `alltrue([for a in var.monitored_asgs : can(regex(${JSON.stringify(SG)}, a.security_group_id))])`,
        message: 'monitored_asgs[*].security_group_id must be a security group ID (sg-xxxxxxxx).',
      },
      {
        expr: 'alltrue([for a in var.monitored_asgs : a.password_secret_arn == null ? true : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", a.password_secret_arn))])',
        message:
          'monitored_asgs[*].password_secret_arn must be null or a Secrets Manager secret ARN.',
      },
    ],
  },

  monitored_rds: {
    type: MONITORED_RDS_TYPE,
    default: [],
    description:
      'RDS DB instances and Aurora clusters (a cluster means its instances) the reconciler registers in PMM as rds/<instance identifier>; non-empty also creates the reconciler. Objects: identifier, engine ("mysql" or "postgresql"), username, password_secret_arn, port (optional, default the endpoint port), query_source ("perfschema" for mysql, "pgstatements" for postgresql, or "none"; PMM\'s RDS API offers no slowlog or pg_stat_monitor), custom_labels (optional map). See README "Monitoring RDS and Aurora".',
    rules: [
      {
        expr: 'alltrue([for r in var.monitored_rds : can(regex("^[A-Za-z][A-Za-z0-9-]{0,62}$", r.identifier))]) && length(var.monitored_rds) == length(distinct([for r in var.monitored_rds : r.identifier]))',
        message:
          'monitored_rds[*].identifier must be distinct RDS DB instance or cluster identifiers (a letter, then letters, digits or "-", at most 63).',
      },
      {
        expr: 'alltrue([for r in var.monitored_rds : contains(["mysql", "postgresql"], r.engine)])',
        message: 'monitored_rds[*].engine must be "mysql" or "postgresql".',
      },
      {
        expr: 'alltrue([for r in var.monitored_rds : r.query_source == null ? true : contains(r.engine == "mysql" ? ["perfschema", "none"] : ["pgstatements", "none"], r.query_source)])',
        message:
          'monitored_rds[*].query_source must be "perfschema" or "none" for mysql, "pgstatements" or "none" for postgresql (PMM\'s RDS API has no slowlog or pg_stat_monitor source).',
      },
      {
        expr: 'alltrue([for r in var.monitored_rds : r.port == null ? true : r.port == floor(r.port) && r.port >= 1 && r.port <= 65535])',
        message: 'monitored_rds[*].port must be null or a whole number from 1 to 65535.',
      },
      {
        expr: 'alltrue([for r in var.monitored_rds : can(regex("^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$", r.username))])',
        message: 'monitored_rds[*].username must be a database user name of 1-63 characters.',
      },
      {
        expr: 'alltrue([for r in var.monitored_rds : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", r.password_secret_arn))])',
        message: 'monitored_rds[*].password_secret_arn must be a Secrets Manager secret ARN.',
      },
      {
        expr: 'alltrue([for r in var.monitored_rds : alltrue([for k in keys(r.custom_labels) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !contains(["managed_by", "aws_rds_instance", "aws_rds_input", "rds_fingerprint"], k)])])',
        message:
          'monitored_rds[*].custom_labels keys must be label names ([A-Za-z_][A-Za-z0-9_]*) other than managed_by, aws_rds_instance, aws_rds_input and rds_fingerprint (the reconciler sets those).',
      },
    ],
  },

  tags: {
    type: 'map(string)',
    default: {},
    description: 'Tags applied to every resource that takes tags.',
  },
} as const satisfies Record<string, VariableSpec>;

export type ModuleVariableName = keyof typeof MODULE_VARIABLES;
