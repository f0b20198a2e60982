import { PUBLISHING_SERVICES } from '../constructs/notifications';
import { resource, resourcesOf, synthModule } from './helpers/synth';

describe('alarm SNS topic (module stack)', () => {
  const tf = synthModule();
  const topic = resource(tf, 'aws_sns_topic', 'notifications_topic');
  const docs = tf.data.aws_iam_policy_document;

  it('is one topic named from sns_topic_name or derived from service_name and environment', () => {
    expect(Object.keys(resourcesOf(tf, 'aws_sns_topic'))).toHaveLength(1);
    expect(topic.name).toBe(
      '${coalesce(var.sns_topic_name, "${var.service_name}-${var.environment}-alarms")}',
    );
  });

  it('is encrypted with its own rotating KMS key, not alias/aws/sns (which CloudWatch alarms cannot use)', () => {
    expect(topic.kms_master_key_id).toBe('${aws_kms_key.pmm_notifications_key.arn}');
    const key = resource(tf, 'aws_kms_key', 'notifications_key');
    expect(key.enable_key_rotation).toBe(true);
    expect(key.policy).toBe('${data.aws_iam_policy_document.pmm_notifications_key_policy.json}');
  });

  it('key policy keeps the account in control and lets CloudWatch alarms and EventBridge (backup failures) encrypt messages', () => {
    const [admin, services] = docs.pmm_notifications_key_policy.statement;
    expect(admin.principals[0].identifiers[0]).toMatch(
      /^arn:\$\{.*\}:iam::\$\{.*account_id\}:root$/,
    );
    expect(admin.actions).toEqual(['kms:*']);
    expect(services.principals).toEqual([{ type: 'Service', identifiers: PUBLISHING_SERVICES }]);
    expect(services.actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(PUBLISHING_SERVICES).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
  });

  it('topic policy lets CloudWatch alarms and EventBridge (backup failures) of this account publish', () => {
    const policy = resource(tf, 'aws_sns_topic_policy', 'notifications_topic_policy_attachment');
    expect(policy.arn).toBe('${aws_sns_topic.pmm_notifications_topic.arn}');
    const services = docs.pmm_notifications_topic_policy.statement.find(
      (s: { sid: string }) => s.sid === 'ServicesOfThisAccountPublish',
    );
    expect(services.principals).toEqual([{ type: 'Service', identifiers: PUBLISHING_SERVICES }]);
    expect(services.actions).toEqual(['sns:Publish']);
    expect(services.resources).toEqual(['${aws_sns_topic.pmm_notifications_topic.arn}']);
    expect(services.condition).toEqual([
      {
        test: 'StringEquals',
        variable: 'aws:SourceAccount',
        values: ['${data.aws_caller_identity.pmm_notifications_account.account_id}'],
      },
    ]);
  });

  it('subscribes each alarm_emails address by for_each (stable across list reordering)', () => {
    const sub = resource(tf, 'aws_sns_topic_subscription', 'notifications_email');
    expect(sub.for_each).toBe('${toset(var.alarm_emails)}');
    expect(sub.endpoint).toBe('${each.value}');
    expect(sub.protocol).toBe('email');
    expect(sub.topic_arn).toBe('${aws_sns_topic.pmm_notifications_topic.arn}');
  });
});
