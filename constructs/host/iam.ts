import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { AGENT_NAMESPACE } from '../agent-metrics';

export interface HostRoleProps {
  readonly namePrefix: string;
  readonly partition: DataAwsPartition;
  /** Region of the deployment (in the instance ARNs the SSM agent may register). */
  readonly region: string;
  /** Account of the deployment. */
  readonly accountId: string;
  /** The admin password secret: the only secret the host may read. */
  readonly adminSecretArn: string;
  /** The host's log group: the only one it may write to. */
  readonly logGroupArn: string;
  /** The PMM runtime configuration parameters the host reads (ARNs or ARN patterns). */
  readonly configParameterArns: string[];
  /** The image record parameter, which the host writes. */
  readonly imageParameterArn: string;
  /** The CA certificate parameter, which the host publishes (templates/host/pmm-tls.sh). */
  readonly caParameterArn: string;
}

/**
 * What the SSM agent needs for Session Manager and Run Command, and nothing of
 * AmazonSSMManagedInstanceCore's rest (it also grants ssm:GetParameter(s) on every parameter
 * of the account, documents, inventory, patching and State Manager associations, none of
 * which this host uses).
 */
export const SSM_AGENT_ACTIONS = {
  /** Registration and heartbeat of the managed instance. */
  register: ['ssm:UpdateInstanceInformation'],
  /** Session Manager (and Run Command on agents that use the control channel). */
  sessions: [
    'ssmmessages:CreateControlChannel',
    'ssmmessages:CreateDataChannel',
    'ssmmessages:OpenControlChannel',
    'ssmmessages:OpenDataChannel',
  ],
  /** Run Command delivery. */
  commands: [
    'ec2messages:AcknowledgeMessage',
    'ec2messages:DeleteMessage',
    'ec2messages:FailMessage',
    'ec2messages:GetEndpoint',
    'ec2messages:GetMessages',
    'ec2messages:SendReply',
  ],
} as const;

/**
 * The instance role and profile, with only what the host calls: the SSM agent (Session
 * Manager, Run Command), reading the admin secret (fetch-admin-password.sh,
 * set-admin-password.sh: GetSecretValue, DescribeSecret), its runtime configuration (SSM
 * parameters, apply-config.sh), recording the image it runs and publishing its CA certificate
 * (one parameter each), the CloudWatch agent writing its own
 * log group and publishing to its metric namespace. Nothing on the host calls EC2 APIs: the
 * data volume is found by its NVMe serial, and the CloudWatch agent takes InstanceId from the
 * instance metadata (templates/host/cloudwatch-agent.json names no tag or EBS dimension).
 * ssmmessages, ec2messages and PutMetricData have no resource-level permissions (`*`);
 * PutMetricData is limited by namespace.
 */
export class HostRole extends Construct {
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly instanceProfileName: string;

  constructor(scope: Construct, id: string, props: HostRoleProps) {
    super(scope, id);
    const role = new IamRole(this, 'role', {
      namePrefix: `${props.namePrefix}-host-`,
      description: 'PMM host: SSM agent, admin secret, own log group, agent metrics',
      assumeRolePolicy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'ec2.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    });
    new IamRolePolicy(this, 'policy', {
      name: 'pmm-host',
      role: role.id,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'SsmAgentRegisters',
            Effect: 'Allow',
            Action: [...SSM_AGENT_ACTIONS.register],
            Resource: `arn:${props.partition.partition}:ec2:${props.region}:${props.accountId}:instance/*`,
          },
          {
            Sid: 'SsmSessionsAndCommands',
            Effect: 'Allow',
            Action: [...SSM_AGENT_ACTIONS.sessions, ...SSM_AGENT_ACTIONS.commands],
            Resource: '*',
          },
          {
            Sid: 'ReadAdminSecret',
            Effect: 'Allow',
            // DescribeSecret: the password timer polls the current version (metadata only).
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: props.adminSecretArn,
          },
          {
            Sid: 'WriteOwnLogGroup',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            Resource: [props.logGroupArn, `${props.logGroupArn}:*`],
          },
          {
            Sid: 'PublishAgentMetrics',
            Effect: 'Allow',
            Action: 'cloudwatch:PutMetricData',
            Resource: '*',
            Condition: { StringEquals: { 'cloudwatch:namespace': AGENT_NAMESPACE } },
          },
          {
            Sid: 'ReadPmmConfig',
            Effect: 'Allow',
            Action: 'ssm:GetParameter',
            Resource: props.configParameterArns,
          },
          {
            Sid: 'RecordPmmImage',
            Effect: 'Allow',
            Action: 'ssm:PutParameter',
            Resource: props.imageParameterArn,
          },
          {
            // Get: published only when it differs.
            Sid: 'PublishPmmCaCertificate',
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'ssm:PutParameter'],
            Resource: props.caParameterArn,
          },
        ],
      }),
    });
    const profile = new IamInstanceProfile(this, 'profile', {
      namePrefix: `${props.namePrefix}-host-`,
      role: role.name,
    });
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.instanceProfileName = profile.name;
  }
}
