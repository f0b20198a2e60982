import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsEc2InstanceType } from '@cdktf/provider-aws/lib/data-aws-ec2-instance-type';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { NetworkInterface } from '@cdktf/provider-aws/lib/network-interface';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { DataResource, Fn, Op, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AgentMetricDimensions, agentMetricsFor } from '../agent-metrics';
import { DataVolume } from '../data-volume';
import { PmmConfig } from '../pmm-config';
import { Flag } from '../util/plan-time';
import { requireInRange } from '../util/validate';
import { HostRole } from './iam';
import { instanceTypeChecks } from './instance-type';
import { USER_DATA_LIMIT_BYTES, renderUserData } from './user-data';

/** Canonical's AWS account, which publishes the Ubuntu Pro AMIs. */
export const CANONICAL_OWNER_ID = '099720109477';
/** The smallest root volume that holds Ubuntu, Docker and the PMM image with headroom. */
export const MIN_ROOT_VOLUME_GIB = 16;

export interface PmmHostProps {
  /** Prefix for names (`<service>-<environment>`). */
  readonly namePrefix: string;
  /** Private subnet of the instance and its network interface (the data volume is in its AZ). */
  readonly subnetId: string;
  /** Security group of the instance (on its network interface). */
  readonly securityGroupId: string;
  /** EC2 instance type: x86_64, at least MIN_MEMORY_MIB and MIN_VCPUS (checked at plan). */
  readonly instanceType: string;
  /** Root volume size in GiB (at least MIN_ROOT_VOLUME_GIB). */
  readonly rootVolumeSizeGiB: number;
  /** KMS key for the root volume. @default - the AWS-managed aws/ebs key */
  readonly kmsKeyId?: string;
  /** EC2 key pair for SSH. @default - no key pair */
  readonly sshKeyName?: string;
  /** 1-minute EC2 detailed monitoring. */
  readonly enableDetailedMonitoring: Flag;
  /**
   * EC2's simplified automatic recovery stays at AWS's default when true and is disabled when
   * false (plan-time), so enable_auto_recovery = false means no automatic recovery at all.
   * @default true
   */
  readonly enableAutoRecovery?: Flag;
  /** The data volume attached as /dev/xvdf and mounted at /srv. */
  readonly dataVolume: DataVolume;
  /** The admin password secret the host reads with its role. */
  readonly adminSecretArn: string;
  /** PMM's runtime configuration in SSM, which the host applies (image, telemetry, ...). */
  readonly config: PmmConfig;
  /** Log group the CloudWatch agent ships the journal and agent logs to. */
  readonly logGroupName: string;
  /** ARN of that log group (scopes the role's Logs permissions). */
  readonly logGroupArn: string;
}

/**
 * The PMM EC2 instance: Ubuntu Pro 24.04 (amd64), IMDSv2 only, encrypted gp3 root volume, the
 * data volume attached as /dev/xvdf, a persistent network interface (its private IP survives
 * instance replacement), an instance role with only what it needs, and a boot sequence
 * (templates/host) that mounts the data volume without ever reformatting it and runs PMM
 * under systemd. The user data is static: PMM's configuration comes from SSM at run time.
 */
export class PmmHost extends Construct {
  public readonly instanceId: string;
  /** The persistent network interface's private IP (stable across instance replacement). */
  public readonly privateIp: string;
  public readonly networkInterfaceId: string;
  /** ARN of the instance's root EBS volume. */
  public readonly rootVolumeArn: string;
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly agentMetricDimensions: AgentMetricDimensions;
  /** The instance type's memory in MiB, known at plan (`aws_ec2_instance_type.memory_size`). */
  public readonly instanceMemoryMiB: number;

  constructor(scope: Construct, id: string, props: PmmHostProps) {
    super(scope, id);
    requireInRange(
      'PmmHost',
      'rootVolumeSizeGiB',
      props.rootVolumeSizeGiB,
      MIN_ROOT_VOLUME_GIB,
      16384,
    );

    const partition = new DataAwsPartition(this, 'partition', {});
    const region = new DataAwsRegion(this, 'region', {});
    const account = new DataAwsCallerIdentity(this, 'account', {});

    // The type's real properties, checked at plan (postconditions): x86_64, memory, vCPUs.
    const instanceTypeData = new DataAwsEc2InstanceType(this, 'instance_type', {
      instanceType: props.instanceType,
      lifecycle: { postcondition: instanceTypeChecks(props.instanceType) },
    });
    const ami = new DataAwsAmi(this, 'ami', {
      mostRecent: true,
      owners: [CANONICAL_OWNER_ID],
      filter: [
        {
          name: 'name',
          values: ['ubuntu-pro-server/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-pro-server-*'],
        },
        { name: 'architecture', values: ['x86_64'] },
        { name: 'virtualization-type', values: ['hvm'] },
        { name: 'root-device-type', values: ['ebs'] },
      ],
    });

    const role = new HostRole(this, 'iam', {
      namePrefix: props.namePrefix,
      partition,
      region: region.name,
      accountId: account.accountId,
      adminSecretArn: props.adminSecretArn,
      logGroupArn: props.logGroupArn,
      configParameterArns: [
        props.config.configParameterArn,
        props.config.customQueriesParameterArnPattern,
        props.config.imageParameterArn,
      ],
      imageParameterArn: props.config.imageParameterArn,
      caParameterArn: props.config.caParameterArn,
    });

    // The host's address: a network interface that outlives the instance (like the data
    // volume), so a replaced instance keeps the private IP registered pmm-agents dial.
    const eni = new NetworkInterface(this, 'network_interface', {
      subnetId: props.subnetId,
      securityGroups: [props.securityGroupId],
      description: `PMM server ${props.namePrefix}: stable private address for pmm-agents`,
      tags: { Name: `${props.namePrefix}-pmm` },
    });

    // Static: nothing in it changes on day 2 or is unknown at plan (see UserDataValues).
    const userData = new TerraformLocal(
      this,
      'user_data',
      renderUserData({
        REGION: region.name,
        LOG_GROUP_NAME: props.logGroupName,
        CONFIG_PATH: props.config.path,
      }),
    );
    const userDataBase64 = Fn.base64gzip(userData.asString);

    // The data volume the instance runs with. A different volume (a restore) replaces the
    // instance: the volume attachment stops the instance before detaching and would leave it
    // stopped, while a new instance boots running, keeps the private IP (network interface)
    // and mounts the new volume (its id comes from the SSM configuration).
    const dataVolumeId = new DataResource(this, 'data_volume_id', {
      input: { volume_id: props.dataVolume.volumeId },
    });

    const instance = new Instance(this, 'instance', {
      ami: ami.id,
      // Through the data source, so its checks always run before the instance is planned
      // (also under -target, which leaves out data sources nothing references).
      instanceType: instanceTypeData.instanceType,
      networkInterface: [{ networkInterfaceId: eni.id, deviceIndex: 0 }],
      // Private subnet, reached through the load balancer only: the instance's one interface is
      // the persistent network interface above, created without a public address (EC2 assigns
      // public IPv4 on launch only to interfaces it creates itself).
      iamInstanceProfile: role.instanceProfileName,
      keyName: props.sshKeyName,
      monitoring: props.enableDetailedMonitoring,
      ebsOptimized: true,
      metadataOptions: {
        httpEndpoint: 'enabled',
        httpTokens: 'required',
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: 'disabled',
      },
      rootBlockDevice: {
        volumeType: 'gp3',
        volumeSize: props.rootVolumeSizeGiB,
        encrypted: true,
        kmsKeyId: props.kmsKeyId,
        deleteOnTermination: true,
        tags: { Name: `${props.namePrefix}-root` },
      },
      userDataBase64,
      // The boot sequence runs once per instance: a new boot sequence (a module upgrade that
      // changes templates/host) takes effect on a new instance; the data volume re-attaches
      // and the network interface keeps the address. Day-2 variables never change it.
      userDataReplaceOnChange: true,
      tags: { Name: props.namePrefix },
      lifecycle: {
        // A newer Ubuntu AMI must not replace the host.
        ignoreChanges: ['ami'],
        // A bare address: Terraform rejects the "${...}" form cdktf writes for a resource
        // object in replace_triggered_by of JSON configuration.
        replaceTriggeredBy: [
          `${dataVolumeId.terraformResourceType}.${dataVolumeId.friendlyUniqueId}`,
        ],
        precondition: [
          {
            condition: Op.lte(decodedLength(userDataBase64), USER_DATA_LIMIT_BYTES),
            errorMessage: 'The PMM user data exceeds the 16 KB EC2 limit after gzip.',
          },
        ],
      },
    });

    // Simplified automatic recovery (EC2's own, on by default for supported types) is left to
    // AWS's default, with no block in the configuration (the provider keeps what EC2 reports);
    // enable_auto_recovery = false writes auto_recovery = "disabled" (an in-place change).
    const autoRecovery = props.enableAutoRecovery ?? true;
    if (autoRecovery !== true) {
      instance.addOverride('dynamic.maintenance_options', {
        for_each: Fn.conditional(autoRecovery, [], ['disabled']),
        content: { auto_recovery: '${maintenance_options.value}' },
      });
    }

    new VolumeAttachment(this, 'data_volume_attachment', {
      deviceName: '/dev/xvdf',
      volumeId: props.dataVolume.volumeId,
      instanceId: instance.id,
      // Stop PMM cleanly (and the instance) before detaching, so the filesystem is consistent.
      stopInstanceBeforeDetaching: true,
    });

    this.instanceId = instance.id;
    this.privateIp = eni.privateIp;
    this.networkInterfaceId = eni.id;
    // Built with join(), not a template: a template inside Fn.* arguments gets escaped.
    this.rootVolumeArn = Token.asString(
      Fn.join(':', [
        'arn',
        partition.partition,
        'ec2',
        region.name,
        account.accountId,
        Fn.join('/', ['volume', instance.rootBlockDevice.volumeId]),
      ]),
    );
    this.roleArn = role.roleArn;
    this.roleName = role.roleName;
    this.agentMetricDimensions = agentMetricsFor(instance.id);
    this.instanceMemoryMiB = instanceTypeData.memorySize;
  }
}

/**
 * The exact number of bytes a base64 string decodes to, as a plan-time expression:
 * floor(length without its `=` padding x 3 / 4). (The padded length alone cannot tell 16,384
 * bytes from 16,386.)
 */
export function decodedLength(base64: string): number {
  return Token.asNumber(Fn.floor(Op.div(Op.mul(Fn.lengthOf(Fn.trim(base64, '=')), 3), 4)));
}
