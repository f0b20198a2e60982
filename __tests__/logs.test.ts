import { Testing, TerraformOutput, TerraformStack } from 'cdktf';
import { PmmLogs } from '../constructs/logs';
import { resource, resourcesOf, synthModule } from './helpers/synth';

describe('log group', () => {
  it('is /aws/ec2/<service_name> with log_retention_days (module stack)', () => {
    const tf = synthModule();
    const group = resource(tf, 'aws_cloudwatch_log_group', 'logs_log_group');
    expect(group.name).toBe('/aws/ec2/${var.service_name}');
    expect(group.retention_in_days).toBe('${var.log_retention_days}');
    // Optional key (issue 13): null = CloudWatch Logs' service-managed encryption.
    expect(group.kms_key_id).toBe('${var.log_kms_key_id}');
  });

  it('hands its name and ARN to the host as references to the log group', () => {
    const stack = new TerraformStack(Testing.app(), 'logs');
    const logs = new PmmLogs(stack, 'logs', { serviceName: 'pmm', retentionDays: 30 });
    new TerraformOutput(stack, 'name', { value: logs.logGroupName });
    new TerraformOutput(stack, 'arn', { value: logs.logGroupArn });
    const tf = JSON.parse(Testing.synth(stack));
    const [address] = Object.keys(resourcesOf(tf, 'aws_cloudwatch_log_group'));
    expect(tf.output.name.value).toBe(`\${aws_cloudwatch_log_group.${address}.name}`);
    expect(tf.output.arn.value).toBe(`\${aws_cloudwatch_log_group.${address}.arn}`);
  });

  it('encrypts with a KMS key when given one, and rejects a literal that is not a KMS ARN', () => {
    const stack = new TerraformStack(Testing.app(), 'logs');
    new PmmLogs(stack, 'logs', {
      serviceName: 'pmm',
      retentionDays: 30,
      kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc',
    });
    const tf = JSON.parse(Testing.synth(stack));
    const group = Object.values(resourcesOf(tf, 'aws_cloudwatch_log_group'))[0];
    expect(group.kms_key_id).toBe('arn:aws:kms:eu-west-1:111122223333:key/abc');
    const bad = new TerraformStack(Testing.app(), 'bad');
    expect(
      () =>
        new PmmLogs(bad, 'logs', { serviceName: 'pmm', retentionDays: 30, kmsKeyArn: 'alias/x' }),
    ).toThrow(/kmsKeyArn/);
  });
});
