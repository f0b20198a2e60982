import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { Construct } from 'constructs';

export interface PmmLogsProps {
  /** Names the log group `/aws/ec2/<serviceName>`. */
  readonly serviceName: string;
  /** CloudWatch Logs retention in days (0 = never expire). */
  readonly retentionDays: number;
}

/** The host's log group (issue #5 fills this in). */
export class PmmLogs extends Construct {
  public readonly logGroupName: string;
  public readonly logGroupArn: string;

  constructor(scope: Construct, id: string, props: PmmLogsProps) {
    super(scope, id);
    const group = new CloudwatchLogGroup(this, 'log_group', {
      name: `/aws/ec2/${props.serviceName}`,
      retentionInDays: props.retentionDays,
    });
    this.logGroupName = group.name;
    this.logGroupArn = group.arn;
  }
}
