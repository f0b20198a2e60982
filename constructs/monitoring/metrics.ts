import { AgentMetric } from '../agent-metrics';

export type Statistic = 'Average' | 'Sum' | 'Minimum' | 'Maximum' | 'SampleCount';

/** One CloudWatch metric with the statistic it is read with. */
export interface MetricSpec extends AgentMetric {
  readonly statistic: Statistic;
  /** Legend label on the dashboard. */
  readonly label: string;
}

/** The resources whose metrics the alarms and the dashboard read. */
export interface MetricSources {
  readonly instanceId: string;
  readonly dataVolumeId: string;
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly backupVaultName: string;
  readonly reconcilerFunctionName: string;
  /** The host's CloudWatch agent metrics (the contract in `agent-metrics.ts`). */
  readonly agent: {
    readonly memoryUsedPercent: AgentMetric;
    readonly rootDiskUsedPercent: AgentMetric;
    readonly dataDiskUsedPercent: AgentMetric;
  };
}

const metric = (
  namespace: string,
  metricName: string,
  dimensions: Record<string, string>,
  statistic: Statistic,
  label: string,
): MetricSpec => ({ namespace, metricName, dimensions, statistic, label });

const fromAgent = (m: AgentMetric, statistic: Statistic, label: string): MetricSpec => ({
  namespace: m.namespace,
  metricName: m.metricName,
  dimensions: m.dimensions,
  statistic,
  label,
});

/**
 * Every metric of one deployment, named once, so that an alarm and the dashboard widget that
 * shows the same thing cannot disagree on namespace or dimensions.
 */
export function deploymentMetrics(s: MetricSources) {
  const ec2 = { InstanceId: s.instanceId };
  const ebs = { VolumeId: s.dataVolumeId };
  const alb = { LoadBalancer: s.albArnSuffix };
  const targets = { LoadBalancer: s.albArnSuffix, TargetGroup: s.targetGroupArnSuffix };
  const vault = { BackupVaultName: s.backupVaultName };
  const backupJobs = (state: string, statistic: Statistic = 'Sum') =>
    metric('AWS/Backup', `NumberOfBackupJobs${state}`, vault, statistic, `Backup jobs ${state}`);
  return {
    instanceStatusCheck: metric(
      'AWS/EC2',
      'StatusCheckFailed_Instance',
      ec2,
      'Maximum',
      'Instance check failed',
    ),
    systemStatusCheck: metric(
      'AWS/EC2',
      'StatusCheckFailed_System',
      ec2,
      'Maximum',
      'System check failed',
    ),
    cpu: metric('AWS/EC2', 'CPUUtilization', ec2, 'Average', 'CPU %'),
    networkIn: metric('AWS/EC2', 'NetworkIn', ec2, 'Sum', 'Network in (bytes)'),
    networkOut: metric('AWS/EC2', 'NetworkOut', ec2, 'Sum', 'Network out (bytes)'),
    memory: fromAgent(s.agent.memoryUsedPercent, 'Average', 'Memory used %'),
    rootDisk: fromAgent(s.agent.rootDiskUsedPercent, 'Maximum', 'Root disk used %'),
    dataDisk: fromAgent(s.agent.dataDiskUsedPercent, 'Maximum', 'Data disk used %'),
    burstBalance: metric('AWS/EBS', 'BurstBalance', ebs, 'Average', 'Burst balance %'),
    volumeReadOps: metric('AWS/EBS', 'VolumeReadOps', ebs, 'Sum', 'Read ops'),
    volumeWriteOps: metric('AWS/EBS', 'VolumeWriteOps', ebs, 'Sum', 'Write ops'),
    volumeReadBytes: metric('AWS/EBS', 'VolumeReadBytes', ebs, 'Sum', 'Read bytes'),
    volumeWriteBytes: metric('AWS/EBS', 'VolumeWriteBytes', ebs, 'Sum', 'Write bytes'),
    volumeQueueLength: metric('AWS/EBS', 'VolumeQueueLength', ebs, 'Average', 'Queue length'),
    requests: metric('AWS/ApplicationELB', 'RequestCount', alb, 'Sum', 'Requests'),
    elb5xx: metric('AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', alb, 'Sum', 'ALB 5XX'),
    target5xx: metric('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', targets, 'Sum', 'PMM 5XX'),
    healthyHosts: metric(
      'AWS/ApplicationELB',
      'HealthyHostCount',
      targets,
      'Minimum',
      'Healthy targets',
    ),
    unhealthyHosts: metric(
      'AWS/ApplicationELB',
      'UnHealthyHostCount',
      targets,
      'Maximum',
      'Unhealthy targets',
    ),
    backupJobsCompleted: backupJobs('Completed'),
    backupJobsFailed: backupJobs('Failed'),
    backupJobsAborted: backupJobs('Aborted'),
    backupJobsExpired: backupJobs('Expired'),
    reconcilerErrors: metric(
      'AWS/Lambda',
      'Errors',
      { FunctionName: s.reconcilerFunctionName },
      'Sum',
      'Reconciler errors',
    ),
  };
}

export type DeploymentMetrics = ReturnType<typeof deploymentMetrics>;
