import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /** Prefix of derived resource names (`<service_name>-<environment>`). */
  readonly namePrefix: string;
  /** @default - `<namePrefix>-alarms` */
  readonly topicName?: string;
  /** Email addresses subscribed to the topic. */
  readonly alarmEmails: string[];
  /** Further topics every alarm notifies. */
  readonly alarmTopicArns: string[];
}

/** The alarm SNS topic and its subscriptions (issue #5 fills this in). */
export class Notifications extends Construct {
  public readonly topicArn: string;
  /** This topic plus `alarmTopicArns`: the actions of every alarm. */
  public readonly alarmActions: string[];

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const topic = new SnsTopic(this, 'topic', {
      name: Token.asString(Fn.coalesce([props.topicName ?? null, `${props.namePrefix}-alarms`])),
    });
    this.topicArn = topic.arn;
    this.alarmActions = Token.asList(Fn.concat([[topic.arn], props.alarmTopicArns]));
  }
}
