import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { Construct } from 'constructs';
import { requireMatch } from './util/validate';

export interface PmmLogsProps {
  /** Names the log group `/aws/ec2/<serviceName>`. */
  readonly serviceName: string;
  /** CloudWatch Logs retention in days (0 = never expire). */
  readonly retentionDays: number;
  /**
   * KMS key ARN that encrypts the log group. The key policy must let
   * `logs.<region>.amazonaws.com` use it.
   * @default - CloudWatch Logs' own service-managed encryption
   */
  readonly kmsKeyArn?: string;
}

/**
 * The host's log group: the pmm-server systemd journal, the Docker container logs and the
 * CloudWatch agent's own log, one stream each (the agent config on the host names them).
 */
export class PmmLogs extends Construct {
  public readonly logGroupName: string;
  public readonly logGroupArn: string;

  constructor(scope: Construct, id: string, props: PmmLogsProps) {
    super(scope, id);
    requireMatch('PmmLogs', 'kmsKeyArn', props.kmsKeyArn, /^arn:aws[\w-]*:kms:/, 'a KMS key ARN');
    const group = new CloudwatchLogGroup(this, 'log_group', {
      name: `/aws/ec2/${props.serviceName}`,
      retentionInDays: props.retentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.logGroupName = group.name;
    this.logGroupArn = group.arn;
  }
}
