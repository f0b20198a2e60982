import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { countWhen, Flag, oneAttribute } from './util/plan-time';

/** Copy job states that mean the copy did not land (PARTIAL: some child copies failed). */
export const FAILED_COPY_STATES = ['FAILED', 'PARTIAL'];
/** Restore job statuses that mean the restore (test) did not produce a volume. */
export const FAILED_RESTORE_STATUSES = ['FAILED', 'ABORTED'];

export interface BackupEventProps {
  readonly namePrefix: string;
  readonly vaultArn: string;
  /** The role every copy and restore job of this deployment runs with. */
  readonly roleArn: string;
  readonly topicArn: string;
  /** Forward failed copy jobs (plan-time: alarms on and at least one destination). */
  readonly copyFailures: Flag;
  /** Forward failed restore jobs (plan-time). */
  readonly restoreFailures: Flag;
}

/** EventBridge rule names; the alarms count the rule's TriggeredRules metric by this name. */
export const copyFailedRuleName = (namePrefix: string) => `${namePrefix}-backup-copy-failed`;
export const restoreFailedRuleName = (namePrefix: string) => `${namePrefix}-restore-failed`;

/**
 * Failed copy jobs out of this deployment's vault, and failed restore jobs run with its
 * backup role (the monthly restore tests, and manual restores with that role), reach the
 * notification topic through EventBridge, like failed backup jobs (see backup.ts).
 * Copy job events carry `state`, restore job events `status` (AWS Backup's own naming).
 */
export function createBackupEventRules(scope: Construct, props: BackupEventProps): void {
  const forward = (
    id: string,
    name: string,
    when: Flag,
    description: string,
    pattern: Record<string, unknown>,
  ) => {
    const rule = new CloudwatchEventRule(scope, id, {
      count: countWhen(when),
      name,
      description,
      eventPattern: Fn.jsonencode({ source: ['aws.backup'], ...pattern }),
    });
    new CloudwatchEventTarget(scope, `${id}_to_topic`, {
      count: countWhen(when),
      rule: oneAttribute(rule, 'name'),
      arn: props.topicArn,
    });
  };
  forward(
    'failed_copies',
    copyFailedRuleName(props.namePrefix),
    props.copyFailures,
    `AWS Backup copy jobs out of vault ${props.namePrefix}-backup that did not complete`,
    {
      'detail-type': ['Copy Job State Change'],
      detail: { state: FAILED_COPY_STATES, sourceBackupVaultArn: [props.vaultArn] },
    },
  );
  forward(
    'failed_restores',
    restoreFailedRuleName(props.namePrefix),
    props.restoreFailures,
    `AWS Backup restore jobs (restore tests) of ${props.namePrefix} that failed`,
    {
      'detail-type': ['Restore Job State Change'],
      detail: { status: FAILED_RESTORE_STATUSES, iamRoleArn: [props.roleArn] },
    },
  );
}
