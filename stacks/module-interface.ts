import { TerraformOutput, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { PmmDeployment, PmmDeploymentProps } from '../constructs/pmm-deployment';
import { MODULE_VARIABLES, ModuleVariableName } from './module-variables';
import { declareVariable } from './variable-helpers';

export type ModuleVariables = Record<ModuleVariableName, TerraformVariable>;

/**
 * Declares every module variable at stack level under its exact name, optionally with
 * other defaults (the root stack takes them from a config file).
 */
export function declareModuleVariables(
  stack: Construct,
  defaults: Partial<Record<ModuleVariableName, unknown>> = {},
): ModuleVariables {
  const vars = {} as ModuleVariables;
  for (const [name, spec] of Object.entries(MODULE_VARIABLES) as [
    ModuleVariableName,
    (typeof MODULE_VARIABLES)[ModuleVariableName],
  ][]) {
    const override = defaults[name];
    vars[name] = declareVariable(
      stack,
      name,
      override === undefined ? spec : { ...spec, default: override },
    );
  }
  return vars;
}

/** Maps the module variables onto the top-level construct's props. */
export function propsFromVariables(v: ModuleVariables): PmmDeploymentProps {
  return {
    publicSubnetIds: v.public_subnet_ids.listValue,
    privateSubnetIds: v.private_subnet_ids.listValue,
    zoneId: v.zone_id.stringValue,
    environment: v.environment.stringValue,
    alarmEmails: v.alarm_emails.listValue,
    serviceName: v.service_name.stringValue,
    dnsNames: v.dns_names.listValue,
    pmmVersion: v.pmm_version.stringValue,
    disableTelemetry: v.disable_telemetry.booleanValue,
    instanceType: v.instance_type.stringValue,
    rootVolumeSizeGiB: v.root_volume_size.numberValue,
    sshKeyName: v.ssh_key_name.stringValue,
    adminCidrBlock: v.admin_cidr_block.stringValue,
    enableAutoRecovery: v.enable_auto_recovery.booleanValue,
    enableDetailedMonitoring: v.enable_detailed_monitoring.booleanValue,
    postgresqlCustomQueriesHighResolution: v.postgresql_custom_queries_high_resolution.stringValue,
    postgresqlCustomQueriesMediumResolution:
      v.postgresql_custom_queries_medium_resolution.stringValue,
    postgresqlCustomQueriesLowResolution: v.postgresql_custom_queries_low_resolution.stringValue,
    ebsVolumeSizeGiB: v.ebs_volume_size.numberValue,
    ebsVolumeType: v.ebs_volume_type.stringValue,
    ebsIops: v.ebs_iops.numberValue,
    ebsThroughputMiBps: v.ebs_throughput.numberValue,
    kmsKeyId: v.kms_key_id.stringValue,
    createInitialSnapshot: v.create_initial_snapshot.booleanValue,
    dataVolumeSnapshotId: v.data_volume_snapshot_id.stringValue,
    allowedCidrBlocks: v.allowed_cidr_blocks.listValue,
    sslPolicy: v.ssl_policy.stringValue,
    certificateIssuers: v.certificate_issuers.listValue,
    additionalCertificateArns: v.additional_certificate_arns.listValue,
    enableDeletionProtection: v.enable_deletion_protection.booleanValue,
    enableAlbAccessLogs: v.enable_alb_access_logs.booleanValue,
    albLogsRetentionDays: v.alb_logs_retention_days.numberValue,
    albLogsBucketForceDestroy: v.alb_logs_bucket_force_destroy.booleanValue,
    backupSchedule: v.backup_schedule.stringValue,
    backupRetentionDays: v.backup_retention_days.numberValue,
    enableWeeklyBackup: v.enable_weekly_backup.booleanValue,
    weeklyBackupSchedule: v.weekly_backup_schedule.stringValue,
    weeklyBackupRetentionDays: v.weekly_backup_retention_days.numberValue,
    backupRootVolume: v.backup_root_volume.booleanValue,
    backupKmsKeyId: v.backup_kms_key_id.stringValue,
    backupVaultForceDestroy: v.backup_vault_force_destroy.booleanValue,
    enableBackupAlarms: v.enable_backup_alarms.booleanValue,
    backupCopyDestinations: v.backup_copy_destinations.value,
    backupVaultLock: v.backup_vault_lock.value,
    enableRestoreTesting: v.enable_restore_testing.booleanValue,
    restoreTestingSchedule: v.restore_testing_schedule.stringValue,
    alarmTopicArns: v.alarm_topic_arns.listValue,
    snsTopicName: v.sns_topic_name.stringValue,
    createDashboard: v.create_dashboard.booleanValue,
    logRetentionDays: v.log_retention_days.numberValue,
    instanceEgressCidrBlocks: v.instance_egress_cidr_blocks.listValue,
    logKmsKeyArn: v.log_kms_key_id.stringValue,
    rdsSecurityGroupIds: v.rds_security_group_ids.listValue,
    secretReaders: v.secret_readers.listValue,
    monitoredAsgs: v.monitored_asgs.value,
    monitoredRds: v.monitored_rds.value,
    tags: v.tags.value,
    tuning: {
      dataRetention: v.data_retention.stringValue,
      metricsResolutionHigh: v.metrics_resolution_high.stringValue,
      metricsResolutionMedium: v.metrics_resolution_medium.stringValue,
      metricsResolutionLow: v.metrics_resolution_low.stringValue,
      clickhouseConfig: v.clickhouse_config.stringValue,
      swapSizeMiB: v.swap_size_mib.numberValue,
      extraEnv: v.pmm_extra_env.value,
    },
    internalAlb: v.internal_alb.booleanValue,
    validationZoneId: v.validation_zone_id.stringValue,
  };
}

interface OutputSpec {
  readonly description: string;
  readonly value: (pmm: PmmDeployment) => unknown;
  readonly sensitive?: boolean;
}

/** The module's outputs, with the reference module's exact names. */
export const MODULE_OUTPUTS: Record<string, OutputSpec> = {
  pmm_url: { description: 'HTTPS URL of the PMM web interface.', value: (p) => p.frontDoor.pmmUrl },
  admin_password_secret_arn: {
    description: 'ARN of the Secrets Manager secret holding the PMM admin password (user "admin").',
    value: (p) => p.adminSecret.secretArn,
  },
  instance_id: { description: 'ID of the PMM EC2 instance.', value: (p) => p.host.instanceId },
  instance_private_ip: {
    description:
      'Private IP of the PMM server (pmm-agent gRPC clients connect here on 443): the address of a persistent network interface, kept when the instance is replaced in its Availability Zone.',
    value: (p) => p.host.privateIp,
  },
  pmm_image: {
    description:
      'The percona/pmm-server image the host resolved for the configuration it last applied ("config=<sha256> image=percona/pmm-server@sha256:... tag=<pmm_version>"; "unresolved" until the first boot). The host writes it to SSM a minute or two after an apply; terraform refresh (or the next plan) reads it.',
    value: (p) => p.config.imageRecord,
  },
  pmm_ca_certificate_parameter_name: {
    description:
      'SSM parameter (String) where the PMM host publishes the PEM certificate of its private CA (public), which signs the certificate PMM serves on 443 for its private IP. pmm-agents and the reconciler trust exactly this CA; read it with aws ssm get-parameter to register an agent by hand (docs/tls.md). "unpublished" until the host first starts PMM.',
    value: (p) => p.config.caParameterName,
  },
  pmm_config_parameter_path: {
    description:
      'SSM Parameter Store path of the PMM runtime configuration (<path>/config, <path>/custom-queries/*, <path>/image).',
    value: (p) => p.config.path,
  },
  alb_dns_name: {
    description: 'DNS name of the Application Load Balancer.',
    value: (p) => p.frontDoor.albDnsName,
  },
  alb_security_group_id: {
    description: 'ID of the load balancer security group.',
    value: (p) => p.network.albSecurityGroupId,
  },
  instance_security_group_id: {
    description: 'ID of the PMM instance security group.',
    value: (p) => p.network.instanceSecurityGroupId,
  },
  ebs_volume_id: {
    description: 'ID of the PMM data volume in use.',
    value: (p) => p.dataVolume.volumeId,
  },
  detached_data_volume_ids: {
    description:
      'IDs of earlier data volumes that are no longer attached (the volume in use before a restore or an Availability Zone move). Terraform keeps them and never destroys them; delete one on purpose as docs/recovery.md describes.',
    value: (p) => p.dataVolume.detachedVolumeIds,
  },
  backup_vault_name: {
    description: 'Name of the AWS Backup vault.',
    value: (p) => p.backup.vaultName,
  },
  alb_logs_bucket_name: {
    description:
      'Name of the S3 bucket for load balancer access logs; null when access logs are off.',
    value: (p) => p.frontDoor.accessLogsBucketName,
  },
  sns_topic_arn: {
    description: 'ARN of the alarm SNS topic.',
    value: (p) => p.notifications.topicArn,
  },
  certificate_arn: {
    description: 'ARN of the ACM certificate on the HTTPS listener.',
    value: (p) => p.frontDoor.certificateArn,
  },
  backup_role_arn: {
    description: 'ARN of the IAM role AWS Backup assumes.',
    value: (p) => p.backup.roleArn,
  },
  reconciler_lambda_function_arn: {
    description:
      'ARN of the ASG reconciler Lambda; null when monitored_asgs and monitored_rds are empty.',
    value: (p) => p.reconciler.functionArn,
  },
  reconciler_lambda_role_arn: {
    description:
      'ARN of the ASG reconciler IAM role; null when monitored_asgs and monitored_rds are empty.',
    value: (p) => p.reconciler.roleArn,
  },
  reconciler_enrolment_secret_arn: {
    description:
      'ARN of the Secrets Manager secret holding the PMM enrolment credential the reconciler writes while installs are in flight; its resource policy (written by the reconciler) lets exactly the instances being enrolled read it, so the monitored ASG roles need no grant on it (and none on the admin secret). null when monitored_asgs and monitored_rds are empty.',
    value: (p) => p.reconciler.enrolmentSecretArn,
  },
};

export function declareModuleOutputs(stack: Construct, pmm: PmmDeployment): void {
  for (const [name, spec] of Object.entries(MODULE_OUTPUTS)) {
    new TerraformOutput(stack, name, {
      description: spec.description,
      value: spec.value(pmm),
      sensitive: spec.sensitive,
    });
  }
}
