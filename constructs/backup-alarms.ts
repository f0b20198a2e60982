import { copyFailedRuleName, restoreFailedRuleName } from './backup-events';
import { AlarmDefinition } from './monitoring/alarm-factory';
import { MetricSpec } from './monitoring/metrics';
import { Flag } from './util/plan-time';

/**
 * The number of times an EventBridge rule matched an event (AWS/Events TriggeredRules by
 * RuleName): every failed copy or restore job the rule forwards to the topic is counted, so
 * the alarm and the message cannot disagree about which jobs failed.
 */
export function triggeredRules(ruleName: string, label: string): MetricSpec {
  return {
    namespace: 'AWS/Events',
    metricName: 'TriggeredRules',
    dimensions: { RuleName: ruleName },
    statistic: 'Sum',
    label,
  };
}

export interface BackupDrAlarmSwitches {
  readonly namePrefix: string;
  /** The copy failure rule exists (alarms on and at least one copy destination). */
  readonly copyFailures: Flag;
  /** The restore failure rule exists. */
  readonly restoreFailures: Flag;
}

/** Alarms for failed copy jobs and failed restore tests (made by the monitoring alarm factory). */
export function backupDrAlarmDefinitions(s: BackupDrAlarmSwitches): AlarmDefinition[] {
  const common = {
    comparison: 'GreaterThanOrEqualToThreshold' as const,
    threshold: 1,
    periodSeconds: 300,
    evaluationPeriods: 1,
    // The rule publishes data points only when it matches: no data means no failure.
    treatMissingData: 'notBreaching' as const,
  };
  return [
    {
      ...common,
      id: 'backup_copy_jobs_failed',
      name: 'backup-copy-jobs-failed',
      description:
        'An AWS Backup copy of a PMM recovery point to another region or account failed: that backup exists only in this region. See docs/operations.md.',
      metric: triggeredRules(copyFailedRuleName(s.namePrefix), 'Copy jobs failed'),
      when: s.copyFailures,
    },
    {
      ...common,
      id: 'restore_tests_failed',
      name: 'restore-tests-failed',
      description:
        'An AWS Backup restore (test) of the PMM data volume failed: the latest backup may not be restorable. See docs/operations.md.',
      metric: triggeredRules(restoreFailedRuleName(s.namePrefix), 'Restore jobs failed'),
      when: s.restoreFailures,
    },
  ];
}
