import { EbsSnapshot } from '@cdktf/provider-aws/lib/ebs-snapshot';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { countWhen, Flag, oneAttribute } from './util/plan-time';
import { requireInRange, requireOneOf } from './util/validate';

export const DATA_VOLUME_TYPES = ['gp3', 'gp2', 'io1', 'io2'] as const;
/** Volume types that take a provisioned IOPS value. */
export const IOPS_VOLUME_TYPES = ['gp3', 'io1', 'io2'] as const;
/** Volume types that take a throughput value. */
export const THROUGHPUT_VOLUME_TYPES = ['gp3'] as const;

export interface DataVolumeProps {
  /** Prefix for names (`<service>-<environment>`). */
  readonly namePrefix: string;
  /** The instance's Availability Zone. */
  readonly availabilityZone: string;
  /** Size in GiB (1..16384). */
  readonly sizeGiB: number;
  /** gp3, gp2, io1 or io2. */
  readonly volumeType: string;
  /** Provisioned IOPS; applied to gp3, io1 and io2 only (decided at plan time). */
  readonly iops: number;
  /** Throughput in MiB/s; applied to gp3 only (decided at plan time). */
  readonly throughputMiBps: number;
  /** KMS key (id or ARN) for encryption. @default - the AWS-managed aws/ebs key */
  readonly kmsKeyId?: string;
  /** Take a snapshot right after the volume is created. */
  readonly createInitialSnapshot: Flag;
}

/**
 * The PMM data volume: encrypted, in the instance's AZ, never destroyed by Terraform
 * (`prevent_destroy`), tagged for backup. The host attaches it as /dev/xvdf and mounts it at
 * /srv; it outlives any instance.
 */
export class DataVolume extends Construct {
  public readonly volumeId: string;
  public readonly volumeArn: string;
  /** ID of the initial snapshot; null when create_initial_snapshot is false. */
  public readonly initialSnapshotId: string;

  constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    requireOneOf('DataVolume', 'volumeType', props.volumeType, DATA_VOLUME_TYPES);
    requireInRange('DataVolume', 'sizeGiB', props.sizeGiB, 1, 16384);
    requireInRange('DataVolume', 'iops', props.iops, 100, 64000);
    requireInRange('DataVolume', 'throughputMiBps', props.throughputMiBps, 125, 1000);

    const takesIops = Fn.contains([...IOPS_VOLUME_TYPES], props.volumeType);
    const takesThroughput = Op.eq(props.volumeType, 'gp3');
    const volume = new EbsVolume(this, 'volume', {
      availabilityZone: props.availabilityZone,
      size: props.sizeGiB,
      type: props.volumeType,
      iops: Token.asNumber(Fn.conditional(takesIops, props.iops, Token.nullValue())),
      throughput: Token.asNumber(
        Fn.conditional(takesThroughput, props.throughputMiBps, Token.nullValue()),
      ),
      encrypted: true,
      kmsKeyId: props.kmsKeyId,
      tags: { Name: `${props.namePrefix}-data`, Backup: 'true', 'pmm:volume': 'data' },
      // The one literal switch: Terraform must never destroy PMM's data.
      lifecycle: { preventDestroy: true },
    });

    const snapshot = new EbsSnapshot(this, 'initial_snapshot', {
      count: countWhen(props.createInitialSnapshot),
      volumeId: volume.id,
      description: `Initial snapshot of the ${props.namePrefix} PMM data volume`,
      tags: { Name: `${props.namePrefix}-data-initial` },
    });

    this.volumeId = volume.id;
    this.volumeArn = volume.arn;
    this.initialSnapshotId = oneAttribute(snapshot, 'id');
  }
}
