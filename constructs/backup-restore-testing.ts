import { BackupRestoreTestingPlan } from '@cdktf/provider-aws/lib/backup-restore-testing-plan';
import { BackupRestoreTestingSelection } from '@cdktf/provider-aws/lib/backup-restore-testing-selection';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { countWhen, Flag, oneAttribute } from './util/plan-time';
import { requireInRange } from './util/validate';

export interface RestoreTestingProps {
  readonly namePrefix: string;
  /** Create the restore testing plan and selection (plan-time switch). */
  readonly enabled: Flag;
  /** AWS cron expression (UTC) of the restore tests. */
  readonly schedule: string;
  /** ARN of the vault whose recovery points are tested. */
  readonly vaultArn: string;
  /** The PMM data volume: its recovery points are the ones restored. */
  readonly dataVolumeArn: string;
  /** The instance's Availability Zone: the test volume is created there. */
  readonly availabilityZone: string;
  /** Role AWS Backup restores with (needs the managed restore policy). */
  readonly roleArn: string;
  /** Hours the restored volume is kept for validation before AWS Backup deletes it. */
  readonly validationWindowHours: number;
  /** Only recovery points at most this many days old are tested. */
  readonly selectionWindowDays: number;
  /** Hours after the scheduled time within which the test must start. */
  readonly startWindowHours: number;
}

/**
 * Restore testing plan and selection names allow only letters, digits and underscores (at
 * most 50): `<prefix with _ for ->_restore`, 49 characters at most for the longest prefix the
 * module variables allow (20 + 1 + 20).
 */
export function restoreTestingName(namePrefix: string, suffix: string): string {
  return `${Fn.replace(namePrefix, '-', '_')}_${suffix}`;
}

/**
 * AWS Backup restore testing for the data volume: on the schedule it restores the latest
 * recovery point of this deployment's vault into a new volume in the instance's AZ, keeps it
 * for the validation window and then deletes it (AWS Backup's own cleanup).
 */
export function createRestoreTesting(scope: Construct, props: RestoreTestingProps) {
  requireInRange(
    'BackupPlanConstruct',
    'restoreTestingValidationWindowHours',
    props.validationWindowHours,
    1,
    168,
  );
  requireInRange(
    'BackupPlanConstruct',
    'restoreTestingSelectionWindowDays',
    props.selectionWindowDays,
    1,
    365,
  );
  requireInRange(
    'BackupPlanConstruct',
    'restoreTestingStartWindowHours',
    props.startWindowHours,
    1,
    168,
  );
  const plan = new BackupRestoreTestingPlan(scope, 'restore_testing_plan', {
    count: countWhen(props.enabled),
    name: restoreTestingName(props.namePrefix, 'restore'),
    scheduleExpression: props.schedule,
    startWindowHours: props.startWindowHours,
    recoveryPointSelection: [
      {
        algorithm: 'LATEST_WITHIN_WINDOW',
        includeVaults: [props.vaultArn],
        recoveryPointTypes: ['SNAPSHOT'],
        selectionWindowDays: props.selectionWindowDays,
      },
    ],
  });
  const selection = new BackupRestoreTestingSelection(scope, 'restore_testing_selection', {
    count: countWhen(props.enabled),
    name: restoreTestingName(props.namePrefix, 'data'),
    restoreTestingPlanName: oneAttribute(plan, 'name'),
    protectedResourceType: 'EBS',
    protectedResourceArns: [props.dataVolumeArn],
    iamRoleArn: props.roleArn,
    validationWindowHours: props.validationWindowHours,
    // AWS Backup would pick a random AZ; the instance's AZ is where a real restore goes.
    restoreMetadataOverrides: { availabilityZone: props.availabilityZone },
  });
  return {
    planName: oneAttribute(plan, 'name'),
    planArn: oneAttribute(plan, 'arn'),
    selectionName: Token.asString(oneAttribute(selection, 'name')),
  };
}
