import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { countWhen, Flag } from '../util/plan-time';
import { MetricSpec } from './metrics';

export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

/** What CloudWatch does with periods that have no data point. Choose it per alarm. */
export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';

/** One alarm, everything explicit. */
export interface AlarmDefinition {
  /** Construct id (snake_case; part of the Terraform address, keep stable). */
  readonly id: string;
  /** Name suffix: the alarm is named `<namePrefix>-<name>`. */
  readonly name: string;
  /** What the alarm means and where the runbook is. */
  readonly description: string;
  readonly metric: MetricSpec;
  readonly comparison: ComparisonOperator;
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** @default evaluationPeriods (every period must breach) */
  readonly datapointsToAlarm?: number;
  readonly treatMissingData: TreatMissingData;
  /**
   * Plan-time switch: the alarm exists only when true.
   * @default - always exists
   */
  readonly when?: Flag;
  /**
   * Actions the alarm takes in addition to notifying (e.g. EC2 recover); may be a
   * conditional list expression.
   * @default - none
   */
  readonly extraAlarmActions?: string[];
}

export interface AlarmFactoryProps {
  readonly namePrefix: string;
  /** Notified on ALARM and on OK: the topic plus `alarm_topic_arns`. */
  readonly notify: string[];
}

/**
 * The one place alarms are made: consistent names, notifications on ALARM and OK, and every
 * threshold, period and missing-data rule explicit in the definition.
 */
export class AlarmFactory {
  public readonly alarms: Record<string, CloudwatchMetricAlarm> = {};

  constructor(
    private readonly scope: Construct,
    private readonly props: AlarmFactoryProps,
  ) {}

  public alarm(def: AlarmDefinition): CloudwatchMetricAlarm {
    if (this.alarms[def.id] !== undefined) throw new Error(`duplicate alarm id ${def.id}`);
    const alarmActions =
      def.extraAlarmActions === undefined
        ? this.props.notify
        : Token.asList(Fn.concat([this.props.notify, def.extraAlarmActions]));
    const alarm = new CloudwatchMetricAlarm(this.scope, def.id, {
      count: def.when === undefined ? undefined : countWhen(def.when),
      alarmName: `${this.props.namePrefix}-${def.name}`,
      alarmDescription: def.description,
      namespace: def.metric.namespace,
      metricName: def.metric.metricName,
      dimensions: def.metric.dimensions,
      statistic: def.metric.statistic,
      comparisonOperator: def.comparison,
      threshold: def.threshold,
      period: def.periodSeconds,
      evaluationPeriods: def.evaluationPeriods,
      datapointsToAlarm: def.datapointsToAlarm ?? def.evaluationPeriods,
      treatMissingData: def.treatMissingData,
      alarmActions,
      okActions: this.props.notify,
    });
    this.alarms[def.id] = alarm;
    return alarm;
  }
}
