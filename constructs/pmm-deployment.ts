import { Fn, IResolvable, Lazy, Op, TerraformProvider, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AdminSecret } from './admin-secret';
import { BackupPlanConstruct } from './backup';
import { backupDrAlarmDefinitions } from './backup-alarms';
import { CopyDestinations } from './backup-copies';
import { BackupVaultLock } from './backup-vault-lock';
import { DataVolume } from './data-volume';
import { FrontDoor } from './front-door';
import { PmmHost } from './host';
import { PmmLogs } from './logs';
import { NameLock } from './name-lock';
import { PmmConfig } from './pmm-config';
import { PmmTuning } from './pmm-tuning';
import { Monitoring } from './monitoring';
import { Network } from './network';
import { Notifications } from './notifications';
import { AsgReconciler } from './reconciler';
import { MonitoredAsgs, toTerraformAsgs } from './types';
import { MonitoredRdsList, RdsMonitoring, toTerraformRds } from './rds-monitoring';
import { Flag } from './util/plan-time';
import { TagEverything } from './util/tags';
import { requireNonEmpty } from './util/validate';

/**
 * Everything PMM needs on AWS. Every prop may be a literal or a Terraform expression (a
 * module variable); switches become `count`/`for_each` expressions that Terraform decides
 * at plan time. Literal values are validated here; expressions by their variable's
 * `validation` block.
 */
export interface PmmDeploymentProps {
  // ---- required ----
  /** Public subnets for the ALB (two or more AZs). */
  readonly publicSubnetIds: string[];
  /** Private subnets; the instance and its volume go in the first. */
  readonly privateSubnetIds: string[];
  /** Route53 hosted zone for DNS names and certificate validation. */
  readonly zoneId: string;
  /** Environment name, used in names and tags. */
  readonly environment: string;
  /** Email addresses subscribed to the alarm topic. */
  readonly alarmEmails: string[];

  // ---- instance ----
  /** @default 'pmm-server' */
  readonly serviceName?: string;
  /** @default ['pmm'] */
  readonly dnsNames?: string[];
  /** @default '3' */
  readonly pmmVersion?: string;
  /** @default true */
  readonly disableTelemetry?: Flag;
  /** @default 'm5.large' */
  readonly instanceType?: string;
  /** @default 20 */
  readonly rootVolumeSizeGiB?: number;
  /** @default - no key pair */
  readonly sshKeyName?: string;
  /** @default - no SSH ingress */
  readonly adminCidrBlock?: string;
  /** @default true */
  readonly enableAutoRecovery?: Flag;
  /** @default true */
  readonly enableDetailedMonitoring?: Flag;
  /** @default - no custom queries */
  readonly postgresqlCustomQueriesHighResolution?: string;
  /** @default - no custom queries */
  readonly postgresqlCustomQueriesMediumResolution?: string;
  /** @default - no custom queries */
  readonly postgresqlCustomQueriesLowResolution?: string;
  /**
   * PMM tuning: retention, metrics resolutions, ClickHouse profile, swap, extra env
   * (constructs/pmm-tuning.ts; README "Tuning PMM"). Applied in place.
   * @default - PMM's own settings, ClickHouse "auto", automatic swap, no extra env
   */
  readonly tuning?: PmmTuning;

  // ---- data volume ----
  /** @default 100 */
  readonly ebsVolumeSizeGiB?: number;
  /** @default 'gp3' */
  readonly ebsVolumeType?: string;
  /** @default 3000 */
  readonly ebsIops?: number;
  /** @default 125 */
  readonly ebsThroughputMiBps?: number;
  /** @default - the AWS-managed aws/ebs key */
  readonly kmsKeyId?: string;
  /** @default false */
  readonly createInitialSnapshot?: Flag;
  /** @default - keep the current data volume (no restore) */
  readonly dataVolumeSnapshotId?: string;

  // ---- front door ----
  /** @default - ['0.0.0.0/0'], or the VPC's IPv4 CIDR blocks when internalAlb */
  readonly allowedCidrBlocks?: string[];
  /** @default 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06' */
  readonly sslPolicy?: string;
  /** @default ['amazon.com'] */
  readonly certificateIssuers?: string[];
  /** @default [] */
  readonly additionalCertificateArns?: string[];
  /** @default false */
  readonly enableDeletionProtection?: Flag;
  /** @default true */
  readonly enableAlbAccessLogs?: Flag;
  /** @default 365 */
  readonly albLogsRetentionDays?: number;
  /** @default false */
  readonly albLogsBucketForceDestroy?: Flag;

  // ---- backup ----
  /** @default 'cron(0 5 ? * * *)' */
  readonly backupSchedule?: string;
  /** @default 30 */
  readonly backupRetentionDays?: number;
  /** @default false */
  readonly enableWeeklyBackup?: Flag;
  /** @default 'cron(0 6 ? * 1 *)' */
  readonly weeklyBackupSchedule?: string;
  /** @default 90 */
  readonly weeklyBackupRetentionDays?: number;
  /** @default false */
  readonly backupRootVolume?: Flag;
  /** @default - the AWS-managed backup key */
  readonly backupKmsKeyId?: string;
  /** @default false */
  readonly backupVaultForceDestroy?: Flag;
  /** @default true */
  readonly enableBackupAlarms?: Flag;
  /** @default [] */
  readonly backupCopyDestinations?: CopyDestinations;
  /** @default - no vault lock */
  readonly backupVaultLock?: BackupVaultLock | IResolvable;
  /** @default true */
  readonly enableRestoreTesting?: Flag;
  /** @default 'cron(0 7 1 * ? *)' (monthly) */
  readonly restoreTestingSchedule?: string;

  // ---- monitoring ----
  /** @default [] */
  readonly alarmTopicArns?: string[];
  /** @default - derived from serviceName and environment */
  readonly snsTopicName?: string;
  /** @default false */
  readonly createDashboard?: Flag;
  /** @default 365 */
  readonly logRetentionDays?: number;

  // ---- hardening (issue 13) ----
  /**
   * IPv4 CIDR blocks the instance may reach; null/undefined allows all outbound traffic.
   * @default - all outbound traffic
   */
  readonly instanceEgressCidrBlocks?: string[];
  /** @default - CloudWatch Logs' service-managed encryption */
  readonly logKmsKeyArn?: string;

  // ---- access ----
  /** @default [] */
  readonly rdsSecurityGroupIds?: string[];
  /** @default [] */
  readonly secretReaders?: string[];

  // ---- reconciler ----
  /** @default - none; no reconciler resources */
  readonly monitoredAsgs?: MonitoredAsgs;
  /**
   * RDS DB instances and Aurora clusters the reconciler registers in PMM (README
   * "Monitoring RDS and Aurora"). @default []
   */
  readonly monitoredRds?: MonitoredRdsList;

  /** @default {} */
  readonly tags?: Record<string, string>;

  // ---- reach and placement (issue 16) ----
  /**
   * An internal ALB in the private subnets (reachable inside the VPC or over VPN); changing it
   * replaces the ALB. @default false
   */
  readonly internalAlb?: Flag;
  /** Public zone for certificate validation and CAA records. @default - zoneId */
  readonly validationZoneId?: string;
  /**
   * AWS provider of the Route53 records and zone lookups (a zone in another account).
   * @default - the stack's default AWS provider
   */
  readonly route53Provider?: TerraformProvider;
}

export class PmmDeployment extends Construct {
  public readonly network: Network;
  public readonly notifications: Notifications;
  public readonly logs: PmmLogs;
  public readonly adminSecret: AdminSecret;
  public readonly dataVolume: DataVolume;
  public readonly config: PmmConfig;
  public readonly host: PmmHost;
  public readonly frontDoor: FrontDoor;
  public readonly backup: BackupPlanConstruct;
  public readonly reconciler: AsgReconciler;
  public readonly rdsMonitoring: RdsMonitoring;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: PmmDeploymentProps) {
    super(scope, id);
    requireNonEmpty('PmmDeployment', 'publicSubnetIds', props.publicSubnetIds);
    requireNonEmpty('PmmDeployment', 'privateSubnetIds', props.privateSubnetIds);
    requireNonEmpty('PmmDeployment', 'alarmEmails', props.alarmEmails);

    const serviceName = props.serviceName ?? 'pmm-server';
    const namePrefix = `${serviceName}-${props.environment}`;
    const monitoredAsgs = toTerraformAsgs(props.monitoredAsgs ?? []);
    const logRetentionDays = props.logRetentionDays ?? 365;
    const rootVolumeSizeGiB = props.rootVolumeSizeGiB ?? 20;

    TagEverything.applyTo(
      this,
      Token.asStringMap(
        Fn.merge([
          { service: serviceName, environment: props.environment, 'managed-by': 'pmm-cdktf' },
          props.tags ?? {},
        ]),
      ),
    );

    // A rename would half-apply (stateful resources destroyed): refused at plan time.
    new NameLock(this, 'name_lock', {
      names: [
        {
          variable: 'service_name',
          value: serviceName,
          feeds:
            'the log group (its history), the backup vault (its recovery points: AWS refuses to delete it, so the apply would stop half-way), the admin secret and the SNS topic (its confirmed subscriptions)',
        },
        {
          variable: 'environment',
          value: props.environment,
          feeds:
            'the backup vault (its recovery points: AWS refuses to delete it, so the apply would stop half-way), the admin secret and the SNS topic (its confirmed subscriptions)',
        },
        {
          variable: 'sns_topic_name',
          value: Token.asString(Fn.coalesce([props.snsTopicName ?? null, `${namePrefix}-alarms`])),
          feeds: 'the alarm SNS topic (its confirmed email subscriptions)',
          procedure:
            'add the other topic to alarm_topic_arns, which every alarm also notifies (docs/operations.md, "Renaming a deployment")',
        },
      ],
      procedure:
        'use tags for a new label, or deploy a second module instance under the new name restored from the latest recovery point, then remove this one (docs/operations.md, "Renaming a deployment")',
    });

    this.notifications = new Notifications(this, 'notifications', {
      namePrefix,
      topicName: props.snsTopicName,
      alarmEmails: props.alarmEmails,
      alarmTopicArns: props.alarmTopicArns ?? [],
    });

    this.logs = new PmmLogs(this, 'logs', {
      serviceName,
      retentionDays: logRetentionDays,
      kmsKeyArn: props.logKmsKeyArn,
    });

    this.network = new Network(this, 'network', {
      namePrefix,
      publicSubnetIds: props.publicSubnetIds,
      privateSubnetIds: props.privateSubnetIds,
      allowedCidrBlocks: props.allowedCidrBlocks,
      internalAlb: props.internalAlb ?? false,
      adminCidrBlock: props.adminCidrBlock,
      rdsSecurityGroupIds: props.rdsSecurityGroupIds ?? [],
      monitoredAsgs,
      egressCidrBlocks: props.instanceEgressCidrBlocks,
    });

    this.adminSecret = new AdminSecret(this, 'admin_secret', {
      namePrefix,
      readerRoleArns: props.secretReaders ?? [],
    });

    this.dataVolume = new DataVolume(this, 'data_volume', {
      namePrefix,
      availabilityZone: this.network.instanceAvailabilityZone,
      sizeGiB: props.ebsVolumeSizeGiB ?? 100,
      volumeType: props.ebsVolumeType ?? 'gp3',
      iops: props.ebsIops ?? 3000,
      throughputMiBps: props.ebsThroughputMiBps ?? 125,
      kmsKeyId: props.kmsKeyId,
      createInitialSnapshot: props.createInitialSnapshot ?? false,
      snapshotId: props.dataVolumeSnapshotId,
    });

    this.frontDoor = new FrontDoor(this, 'front_door', {
      namePrefix,
      vpcId: this.network.vpcId,
      publicSubnetIds: props.publicSubnetIds,
      internal: props.internalAlb ?? false,
      privateSubnetIds: props.privateSubnetIds,
      albSecurityGroupId: this.network.albSecurityGroupId,
      zoneId: props.zoneId,
      validationZoneId: props.validationZoneId,
      route53Provider: props.route53Provider,
      dnsNames: props.dnsNames ?? ['pmm'],
      sslPolicy: props.sslPolicy ?? 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
      certificateIssuers: props.certificateIssuers ?? ['amazon.com'],
      additionalCertificateArns: props.additionalCertificateArns ?? [],
      enableDeletionProtection: props.enableDeletionProtection ?? false,
      enableAccessLogs: props.enableAlbAccessLogs ?? true,
      accessLogsRetentionDays: props.albLogsRetentionDays ?? 365,
      accessLogsBucketForceDestroy: props.albLogsBucketForceDestroy ?? false,
    });

    this.config = new PmmConfig(this, 'config', {
      namePrefix,
      pmmVersion: props.pmmVersion ?? '3',
      disableTelemetry: props.disableTelemetry ?? true,
      publicAddress: this.frontDoor.primaryFqdn,
      dataVolumeId: this.dataVolume.volumeId,
      adminSecretArn: this.adminSecret.secretArn,
      postgresqlCustomQueries: {
        high: props.postgresqlCustomQueriesHighResolution,
        medium: props.postgresqlCustomQueriesMediumResolution,
        low: props.postgresqlCustomQueriesLowResolution,
      },
      tuning: props.tuning,
      // The host's instance type data source, created below: read when the config resolves.
      instanceMemoryMiB: Lazy.numberValue({ produce: () => this.host.instanceMemoryMiB }),
      rootVolumeSizeGiB,
    });

    this.host = new PmmHost(this, 'host', {
      namePrefix,
      subnetId: this.network.instanceSubnetId,
      securityGroupId: this.network.instanceSecurityGroupId,
      instanceType: props.instanceType ?? 'm5.large',
      rootVolumeSizeGiB,
      enableAutoRecovery: props.enableAutoRecovery ?? true,
      kmsKeyId: props.kmsKeyId,
      sshKeyName: props.sshKeyName,
      enableDetailedMonitoring: props.enableDetailedMonitoring ?? true,
      dataVolume: this.dataVolume,
      adminSecretArn: this.adminSecret.secretArn,
      config: this.config,
      logGroupName: this.logs.logGroupName,
      logGroupArn: this.logs.logGroupArn,
    });
    this.frontDoor.registerTarget(this.host.instanceId);

    this.backup = new BackupPlanConstruct(this, 'backup', {
      namePrefix,
      dataVolumeArn: this.dataVolume.volumeArn,
      rootVolumeArn: this.host.rootVolumeArn,
      backupRootVolume: props.backupRootVolume ?? false,
      schedule: props.backupSchedule ?? 'cron(0 5 ? * * *)',
      retentionDays: props.backupRetentionDays ?? 30,
      enableWeeklyBackup: props.enableWeeklyBackup ?? false,
      weeklySchedule: props.weeklyBackupSchedule ?? 'cron(0 6 ? * 1 *)',
      weeklyRetentionDays: props.weeklyBackupRetentionDays ?? 90,
      kmsKeyArn: props.backupKmsKeyId,
      forceDestroy: props.backupVaultForceDestroy ?? false,
      notificationTopicArn: this.notifications.topicArn,
      enableFailureNotifications: props.enableBackupAlarms ?? true,
      copyDestinations: props.backupCopyDestinations,
      vaultLock: props.backupVaultLock,
      enableRestoreTesting: props.enableRestoreTesting,
      restoreTestingSchedule: props.restoreTestingSchedule,
      availabilityZone: this.network.instanceAvailabilityZone,
    });

    const monitoredRds = toTerraformRds(props.monitoredRds ?? []);
    this.rdsMonitoring = new RdsMonitoring(this, 'rds_monitoring', {
      namePrefix,
      monitoredRds,
      hostRoleName: this.host.roleName,
      pmmInstanceSecurityGroupId: this.network.instanceSecurityGroupId,
    });
    this.reconciler = new AsgReconciler(this, 'reconciler', {
      namePrefix,
      monitoredAsgs,
      monitoredRds,
      rdsStateParameterName: this.rdsMonitoring.stateParameterName,
      vpcId: this.network.vpcId,
      subnetIds: props.privateSubnetIds,
      pmmInstanceSecurityGroupId: this.network.instanceSecurityGroupId,
      pmmPrivateIp: this.host.privateIp,
      pmmCaParameterArn: this.config.caParameterArn,
      pmmCaParameterName: this.config.caParameterName,
      adminSecretArn: this.adminSecret.secretArn,
      secretReaderArns: props.secretReaders ?? [],
      logRetentionDays,
      logKmsKeyArn: props.logKmsKeyArn,
    });
    this.adminSecret.restrictReaders({
      hostRoleArn: this.host.roleArn,
      reconcilerRoleArn: this.reconciler.roleArn,
    });
    this.rdsMonitoring.attachReconciler(this.reconciler);

    this.monitoring = new Monitoring(this, 'monitoring', {
      namePrefix,
      alarmActions: this.notifications.alarmActions,
      instanceId: this.host.instanceId,
      instanceType: props.instanceType ?? 'm5.large',
      enableAutoRecovery: props.enableAutoRecovery ?? true,
      agentDimensions: this.host.agentMetricDimensions,
      dataVolumeId: this.dataVolume.volumeId,
      dataVolumeType: props.ebsVolumeType ?? 'gp3',
      albArnSuffix: this.frontDoor.albArnSuffix,
      targetGroupArnSuffix: this.frontDoor.targetGroupArnSuffix,
      backupVaultName: this.backup.vaultName,
      enableBackupAlarms: props.enableBackupAlarms ?? true,
      reconcilerFunctionName: this.reconciler.functionName,
      reconcilerEnabled: this.reconciler.enabled,
      createDashboard: props.createDashboard ?? false,
    });
    for (const def of backupDrAlarmDefinitions({
      namePrefix,
      copyFailures: Op.and(props.enableBackupAlarms ?? true, this.backup.hasCopies),
      restoreFailures: props.enableBackupAlarms ?? true,
    })) {
      this.monitoring.alarms.alarm(def);
    }
  }
}
