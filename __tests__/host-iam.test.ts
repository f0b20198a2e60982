import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resource, resourcesOf, synthModule, TfJson } from './helpers/synth';
import { evalPolicyDocument } from './helpers/policy';
import { AGENT_NAMESPACE } from '../constructs/agent-metrics';
import { SSM_AGENT_ACTIONS } from '../constructs/host/iam';
import { TEMPLATE_DIR } from '../constructs/host/user-data';

const tf = synthModule();
const REFS = {
  'data.aws_partition.pmm_host_partition.partition': 'aws',
  'data.aws_region.pmm_host_region.name': 'eu-west-1',
  'data.aws_caller_identity.pmm_host_account.account_id': '111111111111',
  'aws_secretsmanager_secret.pmm_admin_secret_secret.arn':
    'arn:aws:secretsmanager:eu-west-1:111111111111:secret:pmm-admin-AbCdEf',
  'aws_cloudwatch_log_group.pmm_logs_log_group.arn':
    'arn:aws:logs:eu-west-1:111111111111:log-group:/aws/ec2/pmm-server',
};
const doc = evalPolicyDocument(
  resource(tf, 'aws_iam_role_policy', 'host_iam_policy').policy as string,
  REFS,
);
const statements = doc.Statement as TfJson[];
const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
const actions = (s: TfJson): string[] => [s.Action].flat();

describe('instance role: least privilege', () => {
  it('is assumable by EC2 only and has an instance profile', () => {
    const role = resource(tf, 'aws_iam_role', 'host_iam_role');
    expect(role.assume_role_policy).toContain('"Service" = "ec2.amazonaws.com"');
    expect(resource(tf, 'aws_iam_instance_profile', 'host_iam_profile').role).toBe(
      '${aws_iam_role.pmm_host_iam_role.name}',
    );
  });

  it('has no managed policy (AmazonSSMManagedInstanceCore grants ssm:GetParameter* on all)', () => {
    const attachments = Object.values(resourcesOf(tf, 'aws_iam_role_policy_attachment'));
    expect(attachments.filter((a) => String(a.role).includes('pmm_host_iam_role'))).toEqual([]);
    expect(JSON.stringify(tf)).not.toMatch(/AmazonSSMManagedInstanceCore/);
  });

  it('gives the SSM agent exactly Session Manager and Run Command, parameters only its own', () => {
    const configSids = ['ReadPmmConfig', 'RecordPmmImage', 'PublishPmmCaCertificate'];
    const agent = statements.filter((st) => !configSids.includes(String(st.Sid))).flatMap(actions);
    expect(agent.filter((a) => /^(ssm|ssmmessages|ec2messages):/.test(a)).sort()).toEqual(
      [
        ...SSM_AGENT_ACTIONS.register,
        ...SSM_AGENT_ACTIONS.sessions,
        ...SSM_AGENT_ACTIONS.commands,
      ].sort(),
    );
    expect(agent.join(' ')).not.toMatch(/ssm:GetParameter|ssm:\*|ssm:GetDocument|ssm:PutInventory/);
    // Parameters: only the PMM configuration (read) and the image record (write), never `*`.
    expect(actions(bySid('ReadPmmConfig'))).toEqual(['ssm:GetParameter']);
    expect(actions(bySid('RecordPmmImage'))).toEqual(['ssm:PutParameter']);
    // The CA certificate: exactly its own parameter (templates/host/pmm-tls.sh).
    expect(bySid('PublishPmmCaCertificate')).toMatchObject({
      Action: ['ssm:GetParameter', 'ssm:PutParameter'],
      Resource: '<aws_ssm_parameter.pmm_config_ca_certificate.arn>',
    });
    for (const sid of configSids) {
      const r = bySid(sid).Resource as string | string[];
      for (const arn of Array.isArray(r) ? r : [r]) expect(arn).not.toBe('*');
    }
    // Registration only as an instance of this account and region.
    expect(bySid('SsmAgentRegisters').Resource).toBe(
      'arn:aws:ec2:eu-west-1:111111111111:instance/*',
    );
  });

  it('reads and describes only the admin secret and writes only its own log group', () => {
    expect(bySid('ReadAdminSecret')).toMatchObject({
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: REFS['aws_secretsmanager_secret.pmm_admin_secret_secret.arn'],
    });
    expect(bySid('WriteOwnLogGroup').Resource).toEqual([
      REFS['aws_cloudwatch_log_group.pmm_logs_log_group.arn'],
      `${REFS['aws_cloudwatch_log_group.pmm_logs_log_group.arn']}:*`,
    ]);
    expect(statements.flatMap(actions).filter((a) => a.startsWith('secretsmanager:'))).toHaveLength(
      2,
    );
    expect(statements.flatMap(actions).join(' ')).not.toMatch(/:\*(\s|$)|^\*$/);
  });

  it('publishes metrics only to the agent namespace', () => {
    expect(bySid('PublishAgentMetrics')).toEqual({
      Sid: 'PublishAgentMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:PutMetricData',
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': AGENT_NAMESPACE } },
    });
  });

  it('uses * only for actions AWS cannot scope to a resource', () => {
    const starred = statements.filter((s) => s.Resource === '*').flatMap(actions);
    expect(starred.sort()).toEqual(
      [
        'cloudwatch:PutMetricData',
        ...SSM_AGENT_ACTIONS.sessions,
        ...SSM_AGENT_ACTIONS.commands,
      ].sort(),
    );
  });
});

describe('instance role: no EC2 API grants, because nothing on the host calls one', () => {
  it('has no ec2: action (DescribeVolumes/DescribeTags were unused)', () => {
    expect(statements.flatMap(actions).filter((a) => a.startsWith('ec2:'))).toEqual([]);
  });

  it('host scripts call only the Secrets Manager and SSM parameter actions the role grants', () => {
    const calls = new Set<string>();
    for (const f of readdirSync(TEMPLATE_DIR)) {
      const text = readFileSync(join(TEMPLATE_DIR, f), 'utf8');
      for (const m of text.matchAll(/"\$aws"\s+([a-z0-9-]+)\s+([a-z0-9-]+)/g)) {
        calls.add(`${m[1]} ${m[2]}`);
      }
      // No other AWS client on the host: the CLI runs only through "$aws".
      expect(text).not.toMatch(/\baws (ec2|ssm|s3|logs|cloudwatch) /);
    }
    expect([...calls].sort()).toEqual([
      'secretsmanager describe-secret',
      'secretsmanager get-secret-value',
      'ssm get-parameter',
      'ssm put-parameter',
    ]);
  });

  it('the CloudWatch agent config needs no EC2 API: InstanceId from IMDS, no tag or EBS keys', () => {
    const config = JSON.parse(
      readFileSync(join(TEMPLATE_DIR, 'cloudwatch-agent.json'), 'utf8'),
    ) as TfJson;
    const text = JSON.stringify(config);
    // ec2tagger calls DescribeTags only for these, DescribeVolumes only for EBS device keys.
    expect(text).not.toMatch(/AutoScalingGroupName|ec2_instance_tag_keys|ebs_device_keys/);
    expect(Object.values(config.metrics.append_dimensions)).toEqual(['${aws:InstanceId}']);
  });
});
