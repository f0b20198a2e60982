import { Testing, TerraformOutput, TerraformStack } from 'cdktf';
import { AGENT_NAMESPACE, AgentMetricDimensions } from '../constructs/agent-metrics';
import { Monitoring } from '../constructs/monitoring';
import { PmmDeployment } from '../constructs/pmm-deployment';
import { resource, resourcesOf, synthModule, TfJson } from './helpers/synth';

const NOTIFY = '${concat([aws_sns_topic.pmm_notifications_topic.arn], var.alarm_topic_arns)}';
const INSTANCE = '${aws_instance.pmm_host_instance.id}';
const LB = '${aws_lb.pmm_front_door_alb.arn_suffix}';
const TG = '${aws_lb_target_group.pmm_front_door_target_group.arn_suffix}';
const VAULT = '${aws_backup_vault.pmm_backup_vault.name}';

interface Expected {
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  statistic: string;
  comparison: string;
  threshold: number;
  treatMissing: string;
  /** Seconds per period, periods evaluated, and breaching periods among them that alarm. */
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  count?: string;
}

/** Every alarm the module creates, by address suffix. */
const EXPECTED: Record<string, Expected> = {
  instance_status_check: {
    namespace: 'AWS/EC2',
    metric: 'StatusCheckFailed_Instance',
    dimensions: { InstanceId: INSTANCE },
    statistic: 'Maximum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'missing',
    period: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
  },
  instance_status_check_repeated: {
    namespace: 'AWS/EC2',
    metric: 'StatusCheckFailed_Instance',
    dimensions: { InstanceId: INSTANCE },
    // Failed one-minute checks in an hour: one reboot episode fails 3-5 of them.
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 10,
    treatMissing: 'notBreaching',
    period: 3600,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    count: '${var.enable_auto_recovery ? 1 : 0}',
  },
  system_status_check: {
    namespace: 'AWS/EC2',
    metric: 'StatusCheckFailed_System',
    dimensions: { InstanceId: INSTANCE },
    statistic: 'Maximum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'missing',
    period: 60,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  },
  cpu_high: {
    namespace: 'AWS/EC2',
    metric: 'CPUUtilization',
    dimensions: { InstanceId: INSTANCE },
    statistic: 'Average',
    comparison: 'GreaterThanThreshold',
    threshold: 80,
    treatMissing: 'missing',
    period: 300,
    evaluationPeriods: 6,
    datapointsToAlarm: 6,
  },
  memory_high: {
    namespace: AGENT_NAMESPACE,
    metric: 'mem_used_percent',
    dimensions: { InstanceId: INSTANCE },
    statistic: 'Average',
    comparison: 'GreaterThanThreshold',
    threshold: 90,
    treatMissing: 'missing',
    period: 300,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
  },
  root_disk_high: {
    namespace: AGENT_NAMESPACE,
    metric: 'disk_used_percent',
    dimensions: { InstanceId: INSTANCE, path: '/' },
    statistic: 'Maximum',
    comparison: 'GreaterThanThreshold',
    threshold: 85,
    treatMissing: 'missing',
    period: 300,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  },
  data_disk_high: {
    namespace: AGENT_NAMESPACE,
    metric: 'disk_used_percent',
    dimensions: { InstanceId: INSTANCE, path: '/srv' },
    statistic: 'Maximum',
    comparison: 'GreaterThanThreshold',
    threshold: 85,
    treatMissing: 'missing',
    period: 300,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  },
  agent_metrics_missing: {
    namespace: AGENT_NAMESPACE,
    metric: 'mem_used_percent',
    dimensions: { InstanceId: INSTANCE },
    statistic: 'Average',
    comparison: 'LessThanThreshold',
    threshold: 0,
    treatMissing: 'breaching',
    period: 300,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
  },
  data_volume_burst_balance_low: {
    namespace: 'AWS/EBS',
    metric: 'BurstBalance',
    dimensions: { VolumeId: '${local.pmm_data_volume_current_id}' },
    statistic: 'Average',
    comparison: 'LessThanThreshold',
    threshold: 20,
    treatMissing: 'missing',
    period: 300,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    count: '${(var.ebs_volume_type == "gp2") ? 1 : 0}',
  },
  no_healthy_target: {
    namespace: 'AWS/ApplicationELB',
    metric: 'HealthyHostCount',
    dimensions: { LoadBalancer: LB, TargetGroup: TG },
    statistic: 'Minimum',
    comparison: 'LessThanThreshold',
    threshold: 1,
    treatMissing: 'breaching',
    period: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
  },
  alb_5xx: {
    namespace: 'AWS/ApplicationELB',
    metric: 'HTTPCode_ELB_5XX_Count',
    dimensions: { LoadBalancer: LB },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 10,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  },
  target_5xx: {
    namespace: 'AWS/ApplicationELB',
    metric: 'HTTPCode_Target_5XX_Count',
    dimensions: { LoadBalancer: LB, TargetGroup: TG },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 10,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
  },
  backup_jobs_failed: {
    namespace: 'AWS/Backup',
    metric: 'NumberOfBackupJobsFailed',
    dimensions: { BackupVaultName: VAULT },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    count: '${var.enable_backup_alarms ? 1 : 0}',
  },
  backup_jobs_aborted: {
    namespace: 'AWS/Backup',
    metric: 'NumberOfBackupJobsAborted',
    dimensions: { BackupVaultName: VAULT },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    count: '${var.enable_backup_alarms ? 1 : 0}',
  },
  backup_jobs_expired: {
    namespace: 'AWS/Backup',
    metric: 'NumberOfBackupJobsExpired',
    dimensions: { BackupVaultName: VAULT },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    count: '${var.enable_backup_alarms ? 1 : 0}',
  },
  backup_copy_jobs_failed: {
    namespace: 'AWS/Events',
    metric: 'TriggeredRules',
    dimensions: { RuleName: '${var.service_name}-${var.environment}-backup-copy-failed' },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    count: '${(var.enable_backup_alarms && (length(var.backup_copy_destinations) >= 1)) ? 1 : 0}',
  },
  restore_tests_failed: {
    namespace: 'AWS/Events',
    metric: 'TriggeredRules',
    dimensions: { RuleName: '${var.service_name}-${var.environment}-restore-failed' },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    count: '${var.enable_backup_alarms ? 1 : 0}',
  },
  reconciler_errors: {
    namespace: 'AWS/Lambda',
    metric: 'Errors',
    dimensions: { FunctionName: expect.anything() as unknown as string },
    statistic: 'Sum',
    comparison: 'GreaterThanOrEqualToThreshold',
    threshold: 1,
    treatMissing: 'notBreaching',
    period: 300,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    count: expect.stringMatching(/\? 1 : 0\}$/) as unknown as string,
  },
};

describe('alarms (module stack)', () => {
  const tf = synthModule();
  const alarms = resourcesOf(tf, 'aws_cloudwatch_metric_alarm');

  it('creates exactly the documented alarms', () => {
    expect(Object.keys(alarms).sort()).toEqual(
      Object.keys(EXPECTED)
        .map((k) => `pmm_monitoring_${k}`)
        .sort(),
    );
  });

  it.each(Object.entries(EXPECTED))(
    '%s: metric, dimensions, threshold, comparison and evaluation window',
    (id, e) => {
      const a = resource(tf, 'aws_cloudwatch_metric_alarm', `monitoring_${id}`);
      expect(a.namespace).toBe(e.namespace);
      expect(a.metric_name).toBe(e.metric);
      expect(a.dimensions).toEqual(e.dimensions);
      expect(a.statistic).toBe(e.statistic);
      expect(a.comparison_operator).toBe(e.comparison);
      expect(a.threshold).toBe(e.threshold);
      expect(a.treat_missing_data).toBe(e.treatMissing);
      expect([a.period, a.evaluation_periods, a.datapoints_to_alarm]).toEqual([
        e.period,
        e.evaluationPeriods,
        e.datapointsToAlarm,
      ]);
      expect(a.count).toEqual(e.count);
    },
  );

  it.each(Object.keys(EXPECTED))(
    '%s: named, described, and notifies the topic and alarm_topic_arns',
    (id) => {
      const a = resource(tf, 'aws_cloudwatch_metric_alarm', `monitoring_${id}`);
      expect(a.alarm_name).toBe(
        `\${var.service_name}-\${var.environment}-${id.replace(/_/g, '-')}`,
      );
      expect(a.alarm_description).toMatch(/^.{20,}See docs\/operations\.md\.$/);
      expect(a.ok_actions).toBe(NOTIFY);
      if (id !== 'system_status_check' && id !== 'instance_status_check')
        expect(a.alarm_actions).toBe(NOTIFY);
    },
  );

  it('adds the EC2 recover action to the system status check only when enable_auto_recovery', () => {
    const a = resource(tf, 'aws_cloudwatch_metric_alarm', 'monitoring_system_status_check');
    expect(a.alarm_actions).toBe(
      '${concat(concat([aws_sns_topic.pmm_notifications_topic.arn], var.alarm_topic_arns), var.enable_auto_recovery ? [join(":", ["arn", data.aws_partition.pmm_monitoring_partition.partition, "automate", data.aws_region.pmm_monitoring_region.name, "ec2", "recover"])] : [])}',
    );
  });

  it('adds the EC2 reboot action to the instance status check only when enable_auto_recovery', () => {
    const a = resource(tf, 'aws_cloudwatch_metric_alarm', 'monitoring_instance_status_check');
    expect(a.alarm_actions).toBe(
      '${concat(concat([aws_sns_topic.pmm_notifications_topic.arn], var.alarm_topic_arns), var.enable_auto_recovery ? [join(":", ["arn", data.aws_partition.pmm_monitoring_partition.partition, "automate", data.aws_region.pmm_monitoring_region.name, "ec2", "reboot"])] : [])}',
    );
  });

  it('says in the repeated-failure alarm why a single reboot does not trip it', () => {
    const a = resource(
      tf,
      'aws_cloudwatch_metric_alarm',
      'monitoring_instance_status_check_repeated',
    );
    expect(a.alarm_description).toContain('10 or more minutes within an hour');
    expect(a.alarm_description).toContain('reboots it after 3');
  });

  it('creates the burst balance alarm only for gp2 (gp3, io1 and io2 publish no BurstBalance)', () => {
    const a = resource(
      tf,
      'aws_cloudwatch_metric_alarm',
      'monitoring_data_volume_burst_balance_low',
    );
    expect(a.count).toBe('${(var.ebs_volume_type == "gp2") ? 1 : 0}');
    // The module default is gp3: the count expression is 0 with defaults.
    expect(tf.variable.ebs_volume_type.default).toBe('gp3');
  });
});

function deploymentStack(extra: object = {}) {
  const stack = new TerraformStack(Testing.app(), 'lit');
  const pmm = new PmmDeployment(stack, 'pmm', {
    publicSubnetIds: ['subnet-a', 'subnet-b'],
    privateSubnetIds: ['subnet-c'],
    zoneId: 'Z123',
    environment: 'test',
    alarmEmails: ['ops@example.com'],
    ...extra,
  });
  return { stack, pmm };
}

function alarmsOf(tf: TfJson, suffix: string) {
  return Object.entries(resourcesOf(tf, 'aws_cloudwatch_metric_alarm')).find(([k]) =>
    k.includes(suffix),
  )![1];
}

describe('alarms and the CloudWatch agent contract', () => {
  it('memory and disk alarms use exactly the metrics the host says its agent publishes', () => {
    const { stack, pmm } = deploymentStack();
    // The contract as the host resolves it, rendered by Terraform synth like the alarms.
    new TerraformOutput(stack, 'agent_contract', { value: pmm.host.agentMetricDimensions });
    const tf = JSON.parse(Testing.synth(stack));
    const contract = tf.output.agent_contract.value as AgentMetricDimensions;
    const pairs: [string, keyof AgentMetricDimensions][] = [
      ['memory_high', 'memoryUsedPercent'],
      ['agent_metrics_missing', 'memoryUsedPercent'],
      ['root_disk_high', 'rootDiskUsedPercent'],
      ['data_disk_high', 'dataDiskUsedPercent'],
    ];
    for (const [alarm, key] of pairs) {
      const a = alarmsOf(tf, alarm);
      expect({
        namespace: a.namespace,
        metricName: a.metric_name,
        dimensions: a.dimensions,
      }).toEqual(contract[key]);
    }
  });

  it('passes any agent dimensions through unchanged (no dimension is invented here)', () => {
    const stack = new TerraformStack(Testing.app(), 'm');
    const agent: AgentMetricDimensions = {
      memoryUsedPercent: { namespace: 'Custom', metricName: 'mem', dimensions: { host: 'h1' } },
      rootDiskUsedPercent: {
        namespace: 'Custom',
        metricName: 'disk',
        dimensions: { host: 'h1', path: '/', fstype: 'ext4', device: 'nvme0n1p1' },
      },
      dataDiskUsedPercent: {
        namespace: 'Custom',
        metricName: 'disk',
        dimensions: { host: 'h1', path: '/srv', fstype: 'ext4' },
      },
    };
    new Monitoring(stack, 'monitoring', {
      namePrefix: 'pmm-test',
      alarmActions: ['arn:aws:sns:eu-west-1:111122223333:alarms'],
      instanceId: 'i-0123',
      instanceType: 'm5.large',
      enableAutoRecovery: true,
      agentDimensions: agent,
      dataVolumeId: 'vol-1',
      dataVolumeType: 'gp3',
      albArnSuffix: 'app/pmm/1',
      targetGroupArnSuffix: 'targetgroup/pmm/2',
      backupVaultName: 'pmm-test-backup',
      enableBackupAlarms: true,
      reconcilerFunctionName: 'pmm-test-reconciler',
      reconcilerEnabled: true,
      createDashboard: false,
    });
    const tf = JSON.parse(Testing.synth(stack));
    expect(alarmsOf(tf, 'memory_high').dimensions).toEqual({ host: 'h1' });
    expect(alarmsOf(tf, 'root_disk_high').dimensions).toEqual(agent.rootDiskUsedPercent.dimensions);
    expect(alarmsOf(tf, 'data_disk_high').metric_name).toBe('disk');
    expect(alarmsOf(tf, 'data_disk_high').dimensions).toEqual(agent.dataDiskUsedPercent.dimensions);
    // A literal gp3 volume: the burst balance count expression compares the literal.
    expect(alarmsOf(tf, 'burst_balance').count).toBe('${("gp3" == "gp2") ? 1 : 0}');
    expect(alarmsOf(tf, 'reconciler_errors').dimensions).toEqual({
      FunctionName: 'pmm-test-reconciler',
    });
  });
});
