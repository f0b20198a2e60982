import { BackupPlan } from '@cdktf/provider-aws/lib/backup-plan';
import { BackupSelection } from '@cdktf/provider-aws/lib/backup-selection';
import { BackupVault } from '@cdktf/provider-aws/lib/backup-vault';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Fn, IResolvable, ListTerraformIterator, Op, propertyAccess, Token } from 'cdktf';
import { Construct } from 'constructs';
import { copyActionBlock, copyDestinationList, CopyDestinations } from './backup-copies';
import { createBackupEventRules } from './backup-events';
import { createRestoreTesting } from './backup-restore-testing';
import { BackupVaultLock, createVaultLock } from './backup-vault-lock';
import { countWhen, Flag, isNotEmpty, oneAttribute } from './util/plan-time';
import { requireInRange, requireMatch } from './util/validate';

export interface BackupProps {
  /** Prefix of resource names (`<service_name>-<environment>`). */
  readonly namePrefix: string;
  /** ARN of the PMM data volume: always backed up. */
  readonly dataVolumeArn: string;
  /** ARN of the instance's root EBS volume: backed up only when `backupRootVolume`. */
  readonly rootVolumeArn: string;
  /** Also back up the root volume (plan-time switch). */
  readonly backupRootVolume: Flag;
  /** Daily rule schedule (AWS Backup cron expression, UTC). */
  readonly schedule: string;
  /** Days the daily recovery points are kept. */
  readonly retentionDays: number;
  /** Add the weekly rule (plan-time switch). */
  readonly enableWeeklyBackup: Flag;
  /** Weekly rule schedule (AWS Backup cron expression, UTC). */
  readonly weeklySchedule: string;
  /** Days the weekly recovery points are kept. */
  readonly weeklyRetentionDays: number;
  /** @default - the AWS-managed backup key (null does the same) */
  readonly kmsKeyArn?: string;
  /** Let `terraform destroy` delete the vault with its recovery points. */
  readonly forceDestroy: Flag;
  /** SNS topic that receives a message for every failed, aborted or expired backup job. */
  readonly notificationTopicArn: string;
  /** Send failed-job messages to the topic (plan-time switch). */
  readonly enableFailureNotifications: Flag;
  /**
   * Minutes after the scheduled time within which a job must start, else it is EXPIRED.
   * @default 60
   */
  readonly startWindowMinutes?: number;
  /**
   * Minutes after the start within which a job must complete, else it is aborted.
   * @default 720
   */
  readonly completionWindowMinutes?: number;
  /**
   * Vaults (other regions or accounts) that receive a copy of every recovery point of the
   * daily rule and, when enabled, the weekly rule (plan-time: an empty list adds nothing).
   * @default []
   */
  readonly copyDestinations?: CopyDestinations;
  /**
   * Vault Lock on this deployment's vault; null or undefined for none (plan-time).
   * @default - no lock
   */
  readonly vaultLock?: BackupVaultLock | IResolvable;
  /** AWS Backup restore testing of the data volume (plan-time switch). @default true */
  readonly enableRestoreTesting?: Flag;
  /** Restore test schedule (AWS cron, UTC). @default 'cron(0 7 1 * ? *)' (monthly) */
  readonly restoreTestingSchedule?: string;
  /** The instance's Availability Zone: restore tests create their volume there. */
  readonly availabilityZone: string;
  /** Hours a restored test volume is kept before AWS Backup deletes it. @default 2 */
  readonly restoreTestingValidationWindowHours?: number;
}

/** The default restore test schedule: 07:00 UTC on the 1st of every month. */
export const DEFAULT_RESTORE_TESTING_SCHEDULE = 'cron(0 7 1 * ? *)';
/** An AWS cron expression that runs at most once an hour (a single minute value). */
export const AT_MOST_HOURLY_CRON = /^cron\(([0-9]|[1-5][0-9]) \S+ \S+ \S+ \S+ \S+\)$/;

/**
 * Backup job states that mean "no recovery point was made". AWS Backup reports them to
 * EventBridge ("Backup Job State Change"); the vault-notification events for failures
 * (BACKUP_JOB_FAILED, ...) are deprecated and never sent, so failures go through EventBridge.
 */
export const FAILED_JOB_STATES = ['FAILED', 'ABORTED', 'EXPIRED'];

const MANAGED_POLICIES = {
  backup: 'AWSBackupServiceRolePolicyForBackup',
  restores: 'AWSBackupServiceRolePolicyForRestores',
} as const;

/**
 * A dedicated AWS Backup vault, plan and selection for one PMM deployment. The selection names
 * this deployment's volumes by ARN (never an account-wide tag), and the weekly rule exists
 * only when `enableWeeklyBackup` is true at plan time.
 */
export class BackupPlanConstruct extends Construct {
  public readonly vaultName: string;
  public readonly vaultArn: string;
  public readonly roleArn: string;
  public readonly planId: string;
  /** `length(copy destinations) >= 1` (plan-time). */
  public readonly hasCopies: IResolvable;
  /** null when restore testing is off. */
  public readonly restoreTestingPlanName: string;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    requireInRange('BackupPlanConstruct', 'retentionDays', props.retentionDays, 1, 35040);
    requireInRange(
      'BackupPlanConstruct',
      'weeklyRetentionDays',
      props.weeklyRetentionDays,
      1,
      35040,
    );
    const startWindowMinutes = props.startWindowMinutes ?? 60;
    const completionWindowMinutes = props.completionWindowMinutes ?? 720;
    requireInRange('BackupPlanConstruct', 'startWindowMinutes', startWindowMinutes, 60, 43200);
    requireInRange(
      'BackupPlanConstruct',
      'completionWindowMinutes',
      completionWindowMinutes,
      startWindowMinutes + 60,
      100800,
    );
    const atMostHourly = 'an AWS cron expression with a single minute value (at most hourly)';
    requireMatch(
      'BackupPlanConstruct',
      'schedule',
      props.schedule,
      AT_MOST_HOURLY_CRON,
      atMostHourly,
    );
    requireMatch(
      'BackupPlanConstruct',
      'weeklySchedule',
      props.weeklySchedule,
      AT_MOST_HOURLY_CRON,
      atMostHourly,
    );
    const copies = copyDestinationList('BackupPlanConstruct', props.copyDestinations ?? []);
    const hasCopies = isNotEmpty(copies);

    const partition = new DataAwsPartition(this, 'partition');

    const vault = new BackupVault(this, 'vault', {
      name: `${props.namePrefix}-backup`,
      kmsKeyArn: props.kmsKeyArn,
      forceDestroy: props.forceDestroy,
    });

    const assume = new DataAwsIamPolicyDocument(this, 'assume_role', {
      statement: [
        {
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['backup.amazonaws.com'] }],
        },
      ],
    });
    const role = new IamRole(this, 'role', {
      name: `${props.namePrefix}-backup`,
      description: `AWS Backup for ${props.namePrefix}`,
      assumeRolePolicy: assume.json,
    });
    for (const [key, policy] of Object.entries(MANAGED_POLICIES)) {
      new IamRolePolicyAttachment(this, `role_${key}`, {
        role: role.name,
        policyArn: `arn:${partition.partition}:iam::aws:policy/service-role/${policy}`,
      });
    }

    // The daily rule always; the weekly rule only when the switch is on at plan time.
    const rule = (name: string, schedule: string, retentionDays: number) => ({
      rule_name: name,
      schedule,
      delete_after: retentionDays,
    });
    const rules = Fn.concat([
      [rule('daily', props.schedule, props.retentionDays)],
      Fn.conditional(
        props.enableWeeklyBackup,
        [rule('weekly', props.weeklySchedule, props.weeklyRetentionDays)],
        [],
      ),
    ]);
    const ruleIterator = new ListTerraformIterator(rules);
    const plan = new BackupPlan(this, 'plan', {
      name: `${props.namePrefix}-backup`,
      rule: ruleIterator.dynamic({
        rule_name: ruleIterator.getString('rule_name'),
        target_vault_name: vault.name,
        schedule: ruleIterator.getString('schedule'),
        start_window: startWindowMinutes,
        completion_window: completionWindowMinutes,
        recovery_point_tags: { Name: `${props.namePrefix}-backup` },
        lifecycle: { delete_after: ruleIterator.getNumber('delete_after') },
        // One copy_action per destination in every rule (JSON syntax for a nested dynamic
        // block); the weekly rule, and so its copies, exist only when it is enabled.
        dynamic: { copy_action: copyActionBlock(copies) },
      }),
    });

    new BackupSelection(this, 'selection', {
      name: `${props.namePrefix}-volumes`,
      planId: plan.id,
      iamRoleArn: role.arn,
      resources: Token.asList(
        Fn.concat([
          [props.dataVolumeArn],
          Fn.conditional(props.backupRootVolume, [props.rootVolumeArn], []),
        ]),
      ),
    });

    // Copies into other vaults: AWS Backup checks the role may copy into each destination
    // (cross-account destinations also need a vault access policy there, see docs).
    const copyCount = Token.asNumber(Fn.conditional(hasCopies, 1, 0));
    const copyPolicy = new DataAwsIamPolicyDocument(this, 'copy_policy', {
      count: copyCount,
      statement: [
        {
          sid: 'CopyIntoDestinationVaults',
          actions: ['backup:CopyIntoBackupVault'],
          resources: destinationVaultArns(copies),
        },
      ],
    });
    new IamRolePolicy(this, 'role_copies', {
      count: copyCount,
      name: 'copy-to-destination-vaults',
      role: role.name,
      policy: oneAttribute(copyPolicy, 'json'),
    });

    if (props.vaultLock !== undefined) {
      createVaultLock(this, {
        vaultName: vault.name,
        lock: props.vaultLock,
        rules: [
          { name: 'backup_retention_days', retentionDays: props.retentionDays, when: true },
          {
            name: 'weekly_backup_retention_days',
            retentionDays: props.weeklyRetentionDays,
            when: props.enableWeeklyBackup,
          },
        ],
      });
    }

    const restoreTesting = createRestoreTesting(this, {
      namePrefix: props.namePrefix,
      enabled: props.enableRestoreTesting ?? true,
      schedule: props.restoreTestingSchedule ?? DEFAULT_RESTORE_TESTING_SCHEDULE,
      vaultArn: vault.arn,
      dataVolumeArn: props.dataVolumeArn,
      availabilityZone: props.availabilityZone,
      roleArn: role.arn,
      validationWindowHours: props.restoreTestingValidationWindowHours ?? 2,
      selectionWindowDays: 7,
      startWindowHours: 24,
    });

    createBackupEventRules(this, {
      namePrefix: props.namePrefix,
      vaultArn: vault.arn,
      roleArn: role.arn,
      topicArn: props.notificationTopicArn,
      copyFailures: Op.and(props.enableFailureNotifications, hasCopies),
      restoreFailures: props.enableFailureNotifications,
    });

    // Failure-only messages: one per failed, aborted or expired job of this vault.
    const failedJobs = new CloudwatchEventRule(this, 'failed_jobs', {
      count: countWhen(props.enableFailureNotifications),
      name: `${props.namePrefix}-backup-failed`,
      description: `AWS Backup jobs of vault ${props.namePrefix}-backup that made no recovery point`,
      eventPattern: Fn.jsonencode({
        source: ['aws.backup'],
        'detail-type': ['Backup Job State Change'],
        detail: { state: FAILED_JOB_STATES, backupVaultName: [vault.name] },
      }),
    });
    new CloudwatchEventTarget(this, 'failed_jobs_to_topic', {
      count: countWhen(props.enableFailureNotifications),
      rule: oneAttribute(failedJobs, 'name'),
      arn: props.notificationTopicArn,
    });

    this.vaultName = vault.name;
    this.vaultArn = vault.arn;
    this.roleArn = role.arn;
    this.planId = plan.id;
    this.hasCopies = hasCopies;
    this.restoreTestingPlanName = restoreTesting.planName;
  }
}

/** The destination vault ARNs: `list[*].destination_vault_arn`, or the literal ARNs. */
function destinationVaultArns(copies: unknown): string[] {
  if (Token.isUnresolved(copies)) {
    return Token.asList(propertyAccess(copies, ['*', 'destination_vault_arn']));
  }
  return (copies as { destination_vault_arn: string }[]).map((c) => c.destination_vault_arn);
}
