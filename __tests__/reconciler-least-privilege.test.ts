import { resource, synthModule, TfJson } from './helpers/synth';
import { evalPolicyDocument } from './helpers/policy';

const tf = synthModule();
const REFS = {
  'one(data.aws_partition.pmm_reconciler_partition[*].partition)': 'aws',
  'one(data.aws_region.pmm_reconciler_region[*].name)': 'eu-west-1',
  'one(data.aws_caller_identity.pmm_reconciler_account[*].account_id)': '111111111111',
  'one(aws_cloudwatch_log_group.pmm_reconciler_log_group[*].arn)':
    'arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/pmm-asg-reconciler',
  'one(aws_iam_role.pmm_reconciler_role[*].arn)':
    'arn:aws:iam::111111111111:role/pmm-reconciler-abc',
};
const ASGS = {
  monitored_asgs: { type: 'list(object({ asg_name = string }))', value: '[{asg_name="db"}]' },
};

describe('reconciler role: least privilege (issue 13)', () => {
  const doc = evalPolicyDocument(
    resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy as string,
    REFS,
    ASGS,
  );
  const bySid = (sid: string) => (doc.Statement as TfJson[]).find((s) => s.Sid === sid)!;

  it('writes logs only to its own log group (no account-wide logs grant)', () => {
    expect(bySid('WriteOwnLogGroup')).toEqual({
      Sid: 'WriteOwnLogGroup',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${REFS['one(aws_cloudwatch_log_group.pmm_reconciler_log_group[*].arn)']}:*`,
    });
    const attach = resource(tf, 'aws_iam_role_policy_attachment', 'pmm_reconciler_vpc_access');
    // AWSLambdaVPCAccessExecutionRole / AWSLambdaBasicExecutionRole grant logs on "*".
    expect(attach.policy_arn).toMatch(/\/service-role\/AWSLambdaENIManagementAccess$/);
    expect(JSON.stringify(tf)).not.toMatch(/AWSLambdaVPCAccessExecutionRole|BasicExecutionRole/);
  });

  it('puts region and account in the SendCommand ARNs', () => {
    expect(bySid('RunInstallDocument').Resource).toBe(
      'arn:aws:ssm:eu-west-1::document/AWS-RunShellScript',
    );
    expect(bySid('OnMonitoredAsgInstancesOnly').Resource).toBe(
      'arn:aws:ec2:eu-west-1:111111111111:instance/*',
    );
    expect(JSON.stringify(doc)).not.toMatch(/:\*:\*:|:ssm:\*:/);
  });
});

describe('enrolment secret: resource policy (issue 13)', () => {
  const policy = resource(
    tf,
    'aws_secretsmanager_secret_policy',
    'reconciler_enrolment_secret_policy',
  );

  it('exists with the reconciler and blocks public policies', () => {
    expect(policy.count).toBe(
      '${((length(var.monitored_asgs) >= 1) || (length(var.monitored_rds) >= 1)) ? 1 : 0}',
    );
    expect(policy.block_public_policy).toBe(true);
    expect(policy.secret_arn).toBe(
      '${one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)}',
    );
  });

  it('starts strictest: GetSecretValue denied to all but the reconciler and secret_readers (no instance)', () => {
    const reader = 'arn:aws:iam::111111111111:role/dba';
    const doc = evalPolicyDocument(policy.policy as string, REFS, {
      secret_readers: { type: 'list(string)', value: JSON.stringify([reader]) },
    });
    expect(doc.Statement).toEqual([
      {
        Sid: 'DenyReadsExceptReconcilerReadersAndBatch',
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: {
          ArnNotEquals: {
            'aws:PrincipalArn': [REFS['one(aws_iam_role.pmm_reconciler_role[*].arn)'], reader],
          },
        },
      },
    ]);
    // No exemption for instance credentials any more: the Lambda allows the instances in
    // flight, one by one (functions/asg-reconciler/src/enrolment-policy.ts).
    expect(JSON.stringify(doc)).not.toContain('ec2:SourceInstanceARN');
  });

  it('leaves later versions to the Lambda (ignore_changes), which may write it on that secret only', () => {
    expect(policy.lifecycle).toEqual({ ignore_changes: ['policy'] });
    const role = evalPolicyDocument(
      resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy as string,
      {
        ...REFS,
        'one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)':
          'arn:aws:secretsmanager:eu-west-1:111111111111:secret:enrolment-AbC',
        'aws_secretsmanager_secret.pmm_admin_secret_secret.arn':
          'arn:aws:secretsmanager:eu-west-1:111111111111:secret:admin-DeF',
      },
      ASGS,
    );
    const writes = (role.Statement as TfJson[]).filter((s) =>
      JSON.stringify(s.Action).match(/Put(ResourcePolicy|SecretValue)/),
    );
    expect(writes).toEqual([
      {
        Sid: 'WriteEnrolmentCredential',
        Effect: 'Allow',
        Action: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:GetResourcePolicy',
          'secretsmanager:PutResourcePolicy',
        ],
        Resource: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:enrolment-AbC',
      },
    ]);
    // Nothing else about secret policies (no DeleteResourcePolicy, no wildcard).
    expect(JSON.stringify(role)).not.toMatch(/DeleteResourcePolicy|secretsmanager:\*/);
  });

  it('hands the Lambda its own role ARN and secret_readers, so a change of secret_readers reaches the policy at its next run', () => {
    const fn = resource(tf, 'aws_lambda_function', 'pmm_reconciler_function');
    const env = (fn.environment as { variables: Record<string, string> }).variables;
    expect(env.RECONCILER_ROLE_ARN).toBe('${one(aws_iam_role.pmm_reconciler_role[*].arn)}');
    expect(env.SECRET_READER_ARNS).toBe('${jsonencode(compact(var.secret_readers))}');
  });
});
