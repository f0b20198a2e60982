import { Fn, Op, Token } from 'cdktf';
import { Flag } from '../util/plan-time';
import { AlarmDefinition } from './alarm-factory';
import { DeploymentMetrics } from './metrics';

export interface AlarmSwitches {
  /**
   * Add the EC2 recover action to the system status check alarm and the reboot action to the
   * instance status check alarm, with the repeated-failure alarm (plan-time).
   */
  readonly enableAutoRecovery: Flag;
  /** `arn:<partition>:automate:<region>:ec2:recover` */
  readonly recoverActionArn: string;
  /** `arn:<partition>:automate:<region>:ec2:reboot` */
  readonly rebootActionArn: string;
  /** gp2, gp3, io1 or io2 (a literal or the `ebs_volume_type` expression). */
  readonly dataVolumeType: string;
  readonly enableBackupAlarms: Flag;
  readonly reconcilerEnabled: Flag;
}

const RUNBOOK = 'See docs/operations.md.';
const FIVE_MINUTES = 300;
/** Failed one-minute instance checks in a row before EC2 reboots the instance. */
export const REBOOT_AFTER_FAILED_MINUTES = 3;
/**
 * Failed one-minute instance checks within `REPEATED_FAILURE_WINDOW_SECONDS` that mean the
 * reboots do not help. One reboot episode fails 3 minutes before the reboot and 1-2 during
 * it; 10 takes a second or third reboot, or a failure that outlasts the reboot.
 */
export const REPEATED_FAILURE_MINUTES = 10;
export const REPEATED_FAILURE_WINDOW_SECONDS = 3600;

/**
 * Every alarm of a deployment. Each names its metric from `DeploymentMetrics` (the agent
 * contract for memory and disk), its threshold and its missing-data rule, with the reason.
 */
export function alarmDefinitions(m: DeploymentMetrics, s: AlarmSwitches): AlarmDefinition[] {
  const backupAlarm = (id: string, metric: typeof m.backupJobsFailed, what: string) => ({
    id,
    name: id.replace(/_/g, '-'),
    description: `An AWS Backup job of the PMM volumes ${what}. ${RUNBOOK}`,
    metric,
    comparison: 'GreaterThanOrEqualToThreshold' as const,
    threshold: 1,
    periodSeconds: FIVE_MINUTES,
    evaluationPeriods: 1,
    // Backup metrics exist only while jobs run: no data means nothing went wrong.
    treatMissingData: 'notBreaching' as const,
    when: s.enableBackupAlarms,
  });
  return [
    {
      id: 'instance_status_check',
      name: 'instance-status-check',
      description: `The PMM instance fails its instance status check (OS or boot problem: memory exhausted, kernel, network configuration); EC2 reboots it when auto-recovery is on (data stays on the EBS volumes). ${RUNBOOK}`,
      metric: m.instanceStatusCheck,
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: REBOOT_AFTER_FAILED_MINUTES,
      // A stopped instance publishes no status checks; that is not a failed check.
      treatMissingData: 'missing',
      // Actions run on the transition into ALARM only: one reboot per failure episode. A check
      // that keeps failing after the reboot is left to a person (instance-status-check-repeated).
      extraAlarmActions: Token.asList(
        Fn.conditional(s.enableAutoRecovery, [s.rebootActionArn], []),
      ),
    },
    {
      id: 'instance_status_check_repeated',
      name: 'instance-status-check-repeated',
      description: `The PMM instance failed its instance status check for ${REPEATED_FAILURE_MINUTES} or more minutes within an hour although EC2 reboots it after ${REBOOT_AFTER_FAILED_MINUTES}: repeated reboots, or a failure a reboot does not fix. Look at the console output and the host log before stopping and starting it. ${RUNBOOK}`,
      metric: { ...m.instanceStatusCheck, statistic: 'Sum' },
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: REPEATED_FAILURE_MINUTES,
      periodSeconds: REPEATED_FAILURE_WINDOW_SECONDS,
      evaluationPeriods: 1,
      // Checks are published every minute while the instance runs; none means stopped.
      treatMissingData: 'notBreaching',
      when: s.enableAutoRecovery,
    },
    {
      id: 'system_status_check',
      name: 'system-status-check',
      description: `The PMM instance fails its system status check (AWS hardware or network); EC2 recovers it when auto-recovery is on. ${RUNBOOK}`,
      metric: m.systemStatusCheck,
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 2,
      treatMissingData: 'missing',
      // EC2 recover moves the instance to healthy hardware, keeping its volumes and IP.
      extraAlarmActions: Token.asList(
        Fn.conditional(s.enableAutoRecovery, [s.recoverActionArn], []),
      ),
    },
    {
      id: 'cpu_high',
      name: 'cpu-high',
      description: `PMM instance CPU above 80 % for 30 minutes: the instance is too small for the load. ${RUNBOOK}`,
      metric: m.cpu,
      comparison: 'GreaterThanThreshold',
      threshold: 80,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 6,
      treatMissingData: 'missing',
    },
    {
      id: 'memory_high',
      name: 'memory-high',
      description: `PMM instance memory use above 90 % for 15 minutes. ${RUNBOOK}`,
      metric: m.memory,
      comparison: 'GreaterThanThreshold',
      threshold: 90,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 3,
      // Missing agent data is reported by the agent-metrics-missing alarm instead.
      treatMissingData: 'missing',
    },
    {
      id: 'root_disk_high',
      name: 'root-disk-high',
      description: `Root file system (/) of the PMM instance more than 85 % full. ${RUNBOOK}`,
      metric: m.rootDisk,
      comparison: 'GreaterThanThreshold',
      threshold: 85,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 2,
      treatMissingData: 'missing',
    },
    {
      id: 'data_disk_high',
      name: 'data-disk-high',
      description: `PMM data volume (/srv) more than 85 % full: grow ebs_volume_size or shorten PMM data retention. ${RUNBOOK}`,
      metric: m.dataDisk,
      comparison: 'GreaterThanThreshold',
      threshold: 85,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 2,
      treatMissingData: 'missing',
    },
    {
      id: 'agent_metrics_missing',
      name: 'agent-metrics-missing',
      description: `The CloudWatch agent on the PMM instance has sent no memory metric for 15 minutes, so the memory and disk alarms are blind (agent stopped, instance down, or IAM). ${RUNBOOK}`,
      metric: m.memory,
      // Memory use is never negative: this alarm fires only on missing data.
      comparison: 'LessThanThreshold',
      threshold: 0,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 3,
      treatMissingData: 'breaching',
    },
    {
      id: 'data_volume_burst_balance_low',
      name: 'data-volume-burst-balance-low',
      description: `The gp2 data volume has used most of its I/O burst credits; PMM will slow down to baseline IOPS. Switch to gp3. ${RUNBOOK}`,
      metric: m.burstBalance,
      comparison: 'LessThanThreshold',
      threshold: 20,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 3,
      treatMissingData: 'missing',
      // Only gp2 publishes BurstBalance among the supported types (gp3, io1, io2 do not).
      when: Op.eq(s.dataVolumeType, 'gp2'),
    },
    {
      id: 'no_healthy_target',
      name: 'no-healthy-target',
      description: `The load balancer has no healthy PMM target (/v1/readyz failing): PMM is unreachable. ${RUNBOOK}`,
      metric: m.healthyHosts,
      comparison: 'LessThanThreshold',
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 3,
      // The ALB reports the count every minute; no data means no target reported healthy.
      treatMissingData: 'breaching',
    },
    {
      id: 'alb_5xx',
      name: 'alb-5xx',
      description: `The load balancer itself returned 10 or more 5XX responses in each of two 5-minute periods (502/503/504: PMM not answering). ${RUNBOOK}`,
      metric: m.elb5xx,
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 10,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 2,
      // 5XX counts are published only when there are some.
      treatMissingData: 'notBreaching',
    },
    {
      id: 'target_5xx',
      name: 'target-5xx',
      description: `PMM returned 10 or more 5XX responses in each of two 5-minute periods. ${RUNBOOK}`,
      metric: m.target5xx,
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 10,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 2,
      treatMissingData: 'notBreaching',
    },
    backupAlarm('backup_jobs_failed', m.backupJobsFailed, 'failed'),
    backupAlarm(
      'backup_jobs_aborted',
      m.backupJobsAborted,
      'was aborted (did not finish in its completion window)',
    ),
    backupAlarm(
      'backup_jobs_expired',
      m.backupJobsExpired,
      'expired (did not start in its start window)',
    ),
    {
      id: 'reconciler_errors',
      name: 'reconciler-errors',
      description: `The ASG reconciler Lambda failed in at least 2 of its last 3 five-minute runs; new ASG instances may not be enrolled in PMM. ${RUNBOOK}`,
      metric: m.reconcilerErrors,
      comparison: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: 'notBreaching',
      when: s.reconcilerEnabled,
    },
  ];
}
