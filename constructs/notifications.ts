import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Fn, ListTerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /** Prefix of derived resource names (`<service_name>-<environment>`). */
  readonly namePrefix: string;
  /** @default - `<namePrefix>-alarms` */
  readonly topicName?: string;
  /** Email addresses subscribed to the topic (one subscription each, `for_each`). */
  readonly alarmEmails: string[];
  /** Further topics every alarm notifies. */
  readonly alarmTopicArns: string[];
}

/** AWS services that publish to the topic: alarms, and EventBridge for failed backup jobs. */
export const PUBLISHING_SERVICES = ['cloudwatch.amazonaws.com', 'events.amazonaws.com'];

/**
 * The alarm SNS topic, encrypted with its own customer-managed KMS key (the AWS-managed
 * `alias/aws/sns` key does not let CloudWatch alarms or EventBridge publish), an email
 * subscription per address and a topic policy that lets CloudWatch alarms and EventBridge
 * (`events.amazonaws.com`: the rule that forwards failed AWS Backup jobs, see backup.ts) of
 * this account publish. AWS Backup itself never publishes here: its vault notifications for
 * BACKUP_JOB_FAILED are deprecated.
 */
export class Notifications extends Construct {
  public readonly topicArn: string;
  /** This topic plus `alarmTopicArns`: the actions of every alarm. */
  public readonly alarmActions: string[];
  /** The KMS key that encrypts the topic. */
  public readonly kmsKeyArn: string;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const partition = new DataAwsPartition(this, 'partition');
    const account = new DataAwsCallerIdentity(this, 'account');
    const accountRoot = `arn:${partition.partition}:iam::${account.accountId}:root`;

    const keyPolicy = new DataAwsIamPolicyDocument(this, 'key_policy', {
      statement: [
        {
          sid: 'AccountAdministersKey',
          principals: [{ type: 'AWS', identifiers: [accountRoot] }],
          actions: ['kms:*'],
          resources: ['*'],
        },
        {
          sid: 'ServicesPublishToEncryptedTopic',
          principals: [{ type: 'Service', identifiers: PUBLISHING_SERVICES }],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          // Only on behalf of this account's alarms and rules (confused-deputy guard).
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account.accountId] },
          ],
        },
      ],
    });
    const key = new KmsKey(this, 'key', {
      description: `Encrypts the ${props.namePrefix} alarm topic`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: keyPolicy.json,
    });
    new KmsAlias(this, 'key_alias', {
      name: `alias/${props.namePrefix}-alarms`,
      targetKeyId: key.keyId,
    });

    const topic = new SnsTopic(this, 'topic', {
      name: Token.asString(Fn.coalesce([props.topicName ?? null, `${props.namePrefix}-alarms`])),
      kmsMasterKeyId: key.arn,
    });

    const topicPolicy = new DataAwsIamPolicyDocument(this, 'topic_policy', {
      statement: [
        {
          sid: 'AccountManagesTopic',
          principals: [{ type: 'AWS', identifiers: [accountRoot] }],
          actions: [
            'sns:GetTopicAttributes',
            'sns:SetTopicAttributes',
            'sns:AddPermission',
            'sns:RemovePermission',
            'sns:DeleteTopic',
            'sns:Subscribe',
            'sns:ListSubscriptionsByTopic',
            'sns:Publish',
          ],
          resources: [topic.arn],
          // Explicit: only principals of this account (the root principal already means
          // that; the condition makes the policy's scope checkable, checkov CKV_AWS_385).
          condition: [
            { test: 'StringEquals', variable: 'aws:PrincipalAccount', values: [account.accountId] },
          ],
        },
        {
          sid: 'ServicesOfThisAccountPublish',
          principals: [{ type: 'Service', identifiers: PUBLISHING_SERVICES }],
          actions: ['sns:Publish'],
          resources: [topic.arn],
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account.accountId] },
          ],
        },
      ],
    });
    new SnsTopicPolicy(this, 'topic_policy_attachment', {
      arn: topic.arn,
      policy: topicPolicy.json,
    });

    const emails = ListTerraformIterator.fromList(props.alarmEmails);
    new SnsTopicSubscription(this, 'email', {
      forEach: emails,
      topicArn: topic.arn,
      protocol: 'email',
      endpoint: emails.value,
    });

    this.topicArn = topic.arn;
    this.kmsKeyArn = key.arn;
    this.alarmActions = Token.asList(Fn.concat([[topic.arn], props.alarmTopicArns]));
  }
}
