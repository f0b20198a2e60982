import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsEc2InstanceType } from '@cdktf/provider-aws/lib/data-aws-ec2-instance-type';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { DataResource, Fn, Op, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { AdminSecret } from '../admin-secret';
import { AgentMetricDimensions, agentMetricsFor } from '../agent-metrics';
import { DataVolume } from '../data-volume';
import { Flag } from '../util/plan-time';
import { requireInRange } from '../util/validate';
import { HostRole } from './iam';
import {
  CUSTOM_QUERY_RESOLUTIONS,
  USER_DATA_LIMIT_BYTES,
  customQueriesPath,
  gzipFileEntryPrefix,
  renderUserData,
} from './user-data';

/** Canonical's AWS account, which publishes the Ubuntu Pro AMIs. */
export const CANONICAL_OWNER_ID = '099720109477';
/** The smallest root volume that holds Ubuntu, Docker and the PMM image with headroom. */
export const MIN_ROOT_VOLUME_GIB = 16;

export interface PostgresqlCustomQueries {
  /** YAML for the high-resolution collector. @default - none */
  readonly high?: string;
  /** YAML for the medium-resolution collector. @default - none */
  readonly medium?: string;
  /** YAML for the low-resolution collector. @default - none */
  readonly low?: string;
}

export interface PmmHostProps {
  /** Prefix for names (`<service>-<environment>`). */
  readonly namePrefix: string;
  /** The service name (`service_name`). */
  readonly serviceName: string;
  /** Private subnet for the instance (the data volume is in its AZ). */
  readonly subnetId: string;
  /** Security group of the instance. */
  readonly securityGroupId: string;
  /** EC2 instance type; Graviton types get the arm64 AMI. */
  readonly instanceType: string;
  /** Root volume size in GiB (at least MIN_ROOT_VOLUME_GIB). */
  readonly rootVolumeSizeGiB: number;
  /** KMS key for the root volume. @default - the AWS-managed aws/ebs key */
  readonly kmsKeyId?: string;
  /** EC2 key pair for SSH. @default - no key pair */
  readonly sshKeyName?: string;
  /** 1-minute EC2 detailed monitoring. */
  readonly enableDetailedMonitoring: Flag;
  /** Tag of percona/pmm-server (e.g. "3"). */
  readonly pmmVersion: string;
  /** Disable PMM telemetry (PMM_ENABLE_TELEMETRY=false). */
  readonly disableTelemetry: Flag;
  /** Public host name PMM advertises (PMM_PUBLIC_ADDRESS). */
  readonly publicAddress: string;
  /** The data volume attached as /dev/xvdf and mounted at /srv. */
  readonly dataVolume: DataVolume;
  /** The admin password secret the host reads with its role. */
  readonly adminSecret: AdminSecret;
  /** Log group the CloudWatch agent ships the journal and agent logs to. */
  readonly logGroupName: string;
  /** ARN of that log group (scopes the role's Logs permissions). */
  readonly logGroupArn: string;
  /** Custom PostgreSQL query YAML, mounted read-only into PMM when set. */
  readonly postgresqlCustomQueries: PostgresqlCustomQueries;
}

/**
 * The PMM EC2 instance: Ubuntu Pro 24.04, IMDSv2 only, encrypted gp3 root volume, the data
 * volume attached as /dev/xvdf, an instance role with only what it needs, and a boot
 * sequence (templates/host) that mounts the data volume without ever reformatting it and
 * runs PMM under systemd.
 */
export class PmmHost extends Construct {
  public readonly instanceId: string;
  public readonly privateIp: string;
  /** ARN of the instance's root EBS volume. */
  public readonly rootVolumeArn: string;
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly agentMetricDimensions: AgentMetricDimensions;

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

    const instanceType = new DataAwsEc2InstanceType(this, 'instance_type', {
      instanceType: props.instanceType,
    });
    const isArm = Fn.contains(instanceType.supportedArchitectures, 'arm64');
    const ami = new DataAwsAmi(this, 'ami', {
      mostRecent: true,
      owners: [CANONICAL_OWNER_ID],
      filter: [
        {
          name: 'name',
          values: [
            Token.asString(
              Fn.format('ubuntu-pro-server/images/hvm-ssd-gp3/ubuntu-noble-24.04-%s-pro-server-*', [
                Fn.conditional(isArm, 'arm64', 'amd64'),
              ]),
            ),
          ],
        },
        {
          name: 'architecture',
          values: [Token.asString(Fn.conditional(isArm, 'arm64', 'x86_64'))],
        },
        { name: 'virtualization-type', values: ['hvm'] },
        { name: 'root-device-type', values: ['ebs'] },
      ],
    });

    // The architecture the instance type resolves to, as a managed value: switching between
    // x86 and Graviton changes it, and the instance is replaced (replace_triggered_by) with
    // the AMI of the new architecture. Without it, ignore_changes = [ami] would let the
    // provider try an in-place type change on the old AMI, which fails with PMM stopped.
    const architecture = new DataResource(this, 'architecture', {
      input: { architecture: Fn.conditional(isArm, 'arm64', 'x86_64') },
    });

    const role = new HostRole(this, 'iam', {
      namePrefix: props.namePrefix,
      partition,
      region: region.name,
      accountId: account.accountId,
      adminSecretArn: props.adminSecret.secretArn,
      logGroupArn: props.logGroupArn,
    });

    const customQueryFiles = CUSTOM_QUERY_RESOLUTIONS.flatMap((resolution) => {
      const yaml = props.postgresqlCustomQueries[resolution];
      if (yaml === undefined) return [];
      return [
        Token.asString(
          Fn.conditional(
            Op.eq(yaml, Token.nullValue()),
            '',
            Fn.join('', [
              gzipFileEntryPrefix(customQueriesPath(resolution)),
              Fn.base64gzip(yaml),
              '\n',
            ]),
          ),
        ),
      ];
    });
    const userData = new TerraformLocal(
      this,
      'user_data',
      renderUserData(
        {
          PMM_VERSION: props.pmmVersion,
          DATA_VOLUME_ID: props.dataVolume.volumeId,
          ADMIN_SECRET_ARN: props.adminSecret.secretArn,
          REGION: region.name,
          LOG_GROUP_NAME: props.logGroupName,
          ENABLE_TELEMETRY: Token.asString(Fn.conditional(props.disableTelemetry, 'false', 'true')),
          PUBLIC_ADDRESS: props.publicAddress,
        },
        customQueryFiles,
      ),
    );
    const userDataBase64 = Fn.base64gzip(userData.asString);

    const instance = new Instance(this, 'instance', {
      ami: ami.id,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [props.securityGroupId],
      // Private subnet, reached through the load balancer only: never a public address, even
      // where the subnet maps one on launch.
      associatePublicIpAddress: false,
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
      // The boot sequence runs once per instance: a changed boot sequence (PMM version,
      // telemetry, custom queries) takes effect on a new instance; the data volume re-attaches.
      userDataReplaceOnChange: true,
      tags: { Name: props.namePrefix },
      lifecycle: {
        // A newer Ubuntu AMI must not replace the host; a new architecture must.
        ignoreChanges: ['ami'],
        // A bare address: Terraform rejects the "${...}" form cdktf writes for a resource
        // object in replace_triggered_by of JSON configuration.
        replaceTriggeredBy: [
          `${architecture.terraformResourceType}.${architecture.friendlyUniqueId}`,
        ],
        precondition: [
          {
            condition: Op.lte(decodedLength(userDataBase64), USER_DATA_LIMIT_BYTES),
            errorMessage:
              'The PMM user data exceeds the 16 KB EC2 limit after gzip (the custom PostgreSQL query files are too large); shorten them.',
          },
        ],
      },
    });

    new VolumeAttachment(this, 'data_volume_attachment', {
      deviceName: '/dev/xvdf',
      volumeId: props.dataVolume.volumeId,
      instanceId: instance.id,
      // Stop PMM cleanly (and the instance) before detaching, so the filesystem is consistent.
      stopInstanceBeforeDetaching: true,
    });

    this.instanceId = instance.id;
    this.privateIp = instance.privateIp;
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
