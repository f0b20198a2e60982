import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AgentMetricDimensions } from './agent-metrics';
import { AlarmFactory } from './monitoring/alarm-factory';
import { alarmDefinitions } from './monitoring/alarms';
import { dashboardBody } from './monitoring/dashboard';
import { deploymentMetrics, DeploymentMetrics } from './monitoring/metrics';
import { countWhen, Flag } from './util/plan-time';

export interface MonitoringProps {
  /** Prefix of alarm and dashboard names (`<service_name>-<environment>`). */
  readonly namePrefix: string;
  /** Every alarm notifies these on ALARM and OK. */
  readonly alarmActions: string[];
  readonly instanceId: string;
  /** Instance type (kept for type-specific alarms). */
  readonly instanceType: string;
  /**
   * EC2 recover on a failed system status check, reboot on a failed instance status check, and
   * the repeated-failure alarm (plan-time switch).
   */
  readonly enableAutoRecovery: Flag;
  /** The CloudWatch agent's memory and disk metrics, exactly as the host publishes them. */
  readonly agentDimensions: AgentMetricDimensions;
  readonly dataVolumeId: string;
  /** gp2, gp3, io1 or io2; the burst balance alarm exists only for gp2. */
  readonly dataVolumeType: string;
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly backupVaultName: string;
  /** Alarm on failed, aborted and expired backup jobs (plan-time switch). */
  readonly enableBackupAlarms: Flag;
  /** null when the reconciler is not created. */
  readonly reconcilerFunctionName: string;
  /** The reconciler exists (plan-time switch). */
  readonly reconcilerEnabled: Flag;
  /** Create the CloudWatch dashboard (plan-time switch). */
  readonly createDashboard: Flag;
}

/** The deployment's alarms (one factory) and its optional dashboard. */
export class Monitoring extends Construct {
  public readonly alarms: AlarmFactory;
  public readonly metrics: DeploymentMetrics;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const region = new DataAwsRegion(this, 'region');
    const partition = new DataAwsPartition(this, 'partition');

    this.metrics = deploymentMetrics({
      instanceId: props.instanceId,
      dataVolumeId: props.dataVolumeId,
      albArnSuffix: props.albArnSuffix,
      targetGroupArnSuffix: props.targetGroupArnSuffix,
      backupVaultName: props.backupVaultName,
      reconcilerFunctionName: props.reconcilerFunctionName,
      agent: props.agentDimensions,
    });

    // arn:<partition>:automate:<region>:ec2:<action>, the EC2 alarm actions of PutMetricAlarm.
    const ec2Action = (action: string): string =>
      Fn.join(':', ['arn', partition.partition, 'automate', region.name, 'ec2', action]);
    this.alarms = new AlarmFactory(this, {
      namePrefix: props.namePrefix,
      notify: props.alarmActions,
    });
    const definitions = alarmDefinitions(this.metrics, {
      enableAutoRecovery: props.enableAutoRecovery,
      // Built with Fn.join: the ARN goes into a conditional expression.
      recoverActionArn: ec2Action('recover'),
      rebootActionArn: ec2Action('reboot'),
      dataVolumeType: props.dataVolumeType,
      enableBackupAlarms: props.enableBackupAlarms,
      reconcilerEnabled: props.reconcilerEnabled,
    });
    for (const def of definitions) this.alarms.alarm(def);

    new CloudwatchDashboard(this, 'dashboard', {
      count: countWhen(props.createDashboard),
      dashboardName: props.namePrefix,
      dashboardBody: Token.asString(
        Fn.jsonencode(dashboardBody(region.name, props.namePrefix, this.metrics)),
      ),
    });
  }
}
