import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { Construct } from 'constructs';
import { AdminSecret } from './admin-secret';
import { AGENT_NAMESPACE, AgentMetricDimensions } from './agent-metrics';
import { DataVolume } from './data-volume';
import { Flag } from './util/plan-time';

export interface PostgresqlCustomQueries {
  /** @default - none */
  readonly high?: string;
  /** @default - none */
  readonly medium?: string;
  /** @default - none */
  readonly low?: string;
}

export interface PmmHostProps {
  readonly namePrefix: string;
  readonly serviceName: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  readonly instanceType: string;
  readonly rootVolumeSizeGiB: number;
  /** @default - the AWS-managed aws/ebs key */
  readonly kmsKeyId?: string;
  /** @default - no key pair */
  readonly sshKeyName?: string;
  readonly enableDetailedMonitoring: Flag;
  readonly pmmVersion: string;
  readonly disableTelemetry: Flag;
  /** Public host name PMM advertises (PMM_PUBLIC_ADDRESS). */
  readonly publicAddress: string;
  readonly dataVolume: DataVolume;
  readonly adminSecret: AdminSecret;
  readonly logGroupName: string;
  readonly logGroupArn: string;
  readonly postgresqlCustomQueries: PostgresqlCustomQueries;
}

/** The PMM EC2 instance, its role and boot sequence (issue #3 fills this in). */
export class PmmHost extends Construct {
  public readonly instanceId: string;
  public readonly privateIp: string;
  public readonly rootVolumeArn: string;
  public readonly roleArn: string;
  public readonly agentMetricDimensions: AgentMetricDimensions;

  constructor(scope: Construct, id: string, props: PmmHostProps) {
    super(scope, id);
    const ami = new DataAwsAmi(this, 'ami', {
      mostRecent: true,
      owners: ['099720109477'],
      filter: [
        {
          name: 'name',
          values: ['ubuntu-pro-server/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-pro-server-*'],
        },
      ],
    });
    const instance = new Instance(this, 'instance', {
      ami: ami.id,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [props.securityGroupId],
      tags: { Name: props.namePrefix },
    });
    new VolumeAttachment(this, 'data_volume_attachment', {
      deviceName: '/dev/xvdf',
      volumeId: props.dataVolume.volumeId,
      instanceId: instance.id,
      stopInstanceBeforeDetaching: true,
    });
    this.instanceId = instance.id;
    this.privateIp = instance.privateIp;
    this.rootVolumeArn = instance.arn;
    this.roleArn = '';
    const byInstance = { InstanceId: instance.id };
    this.agentMetricDimensions = {
      memoryUsedPercent: {
        namespace: AGENT_NAMESPACE,
        metricName: 'mem_used_percent',
        dimensions: byInstance,
      },
      rootDiskUsedPercent: {
        namespace: AGENT_NAMESPACE,
        metricName: 'disk_used_percent',
        dimensions: { ...byInstance, path: '/' },
      },
      dataDiskUsedPercent: {
        namespace: AGENT_NAMESPACE,
        metricName: 'disk_used_percent',
        dimensions: { ...byInstance, path: '/srv' },
      },
    };
  }
}
