import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { AGENT_NAMESPACE } from '../agent-metrics';

export interface HostRoleProps {
  readonly namePrefix: string;
  readonly partition: DataAwsPartition;
  /** The admin password secret: the only secret the host may read. */
  readonly adminSecretArn: string;
  /** The host's log group: the only one it may write to. */
  readonly logGroupArn: string;
  /** The PMM runtime configuration parameters the host reads (ARNs or ARN patterns). */
  readonly configParameterArns: string[];
  /** The image record parameter, the only one the host writes. */
  readonly imageParameterArn: string;
}

/**
 * The instance role and profile, with only what the host needs: SSM management, reading the
 * admin secret and its runtime configuration (SSM parameters), recording the image it runs
 * (one parameter), writing its own log group, publishing agent metrics to the agent namespace,
 * and describing volumes and tags. Actions AWS cannot scope to a resource
 * (PutMetricData, DescribeVolumes, DescribeTags) use `*`; PutMetricData is limited by namespace.
 */
export class HostRole extends Construct {
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly instanceProfileName: string;

  constructor(scope: Construct, id: string, props: HostRoleProps) {
    super(scope, id);
    const role = new IamRole(this, 'role', {
      namePrefix: `${props.namePrefix}-host-`,
      description: 'PMM host: SSM, admin secret, own log group, agent metrics',
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
    new IamRolePolicyAttachment(this, 'ssm_core', {
      role: role.name,
      policyArn: `arn:${props.partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });
    new IamRolePolicy(this, 'policy', {
      name: 'pmm-host',
      role: role.id,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
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
            Sid: 'DescribeVolumesAndTags',
            Effect: 'Allow',
            Action: ['ec2:DescribeVolumes', 'ec2:DescribeTags'],
            Resource: '*',
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
