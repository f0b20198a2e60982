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

/**
 * EBS limits checked at plan time (Amazon EBS User Guide, volume types): gp3 takes 3,000 to
 * 16,000 IOPS, at most 500 IOPS per GiB, and at most 0.25 MiB/s of throughput per IOPS (1,000
 * MiB/s); io1 at most 50 IOPS per GiB, io2 (Block Express) at most 1,000 IOPS per GiB, both
 * from 4 GiB and at most 64,000 IOPS here (the module's ebs_iops range).
 */
export const EBS_LIMITS = {
  gp3: { minIops: 3000, maxIops: 16000, iopsPerGiB: 500, maxThroughput: 1000 },
  io1: { minIops: 100, maxIops: 64000, iopsPerGiB: 50, minSizeGiB: 4 },
  io2: { minIops: 100, maxIops: 64000, iopsPerGiB: 1000, minSizeGiB: 4 },
} as const;

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
      lifecycle: {
        // The one literal switch: Terraform must never destroy PMM's data.
        preventDestroy: true,
        // Combinations EBS rejects fail at plan, naming the variables, not at apply.
        precondition: dataVolumePreconditions(props),
      },
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

/** `type != t || condition`: a check that applies to one volume type only. */
function forType(volumeType: string, type: string, condition: unknown) {
  return Op.or(Op.neq(volumeType, type), condition);
}

/**
 * Plan-time checks of the cross-variable EBS rules (the variables' own validations check each
 * value alone). gp2 takes neither IOPS nor throughput, so nothing is checked for it.
 */
export function dataVolumePreconditions(
  props: Pick<DataVolumeProps, 'volumeType' | 'sizeGiB' | 'iops' | 'throughputMiBps'>,
) {
  const { volumeType: type, sizeGiB: size, iops, throughputMiBps: throughput } = props;
  const gp3 = EBS_LIMITS.gp3;
  const provisioned = (t: 'io1' | 'io2') => {
    const l = EBS_LIMITS[t];
    return {
      condition: forType(
        type,
        t,
        Op.and(
          Op.and(Op.gte(size, l.minSizeGiB), Op.gte(iops, l.minIops)),
          Op.and(Op.lte(iops, l.maxIops), Op.lte(iops, Op.mul(size, l.iopsPerGiB))),
        ),
      ),
      errorMessage:
        `ebs_volume_type "${t}" needs ebs_volume_size >= ${l.minSizeGiB} GiB and ebs_iops from ` +
        `${l.minIops} to ${l.iopsPerGiB} x ebs_volume_size (at most ${l.maxIops}).`,
    };
  };
  return [
    {
      condition: forType(type, 'gp3', Op.and(Op.gte(iops, gp3.minIops), Op.lte(iops, gp3.maxIops))),
      errorMessage: `ebs_volume_type "gp3" needs ebs_iops from ${gp3.minIops} to ${gp3.maxIops}.`,
    },
    {
      condition: forType(type, 'gp3', Op.lte(iops, Op.mul(size, gp3.iopsPerGiB))),
      errorMessage: `ebs_volume_type "gp3" allows at most ${gp3.iopsPerGiB} IOPS per GiB: ebs_iops must be <= ${gp3.iopsPerGiB} x ebs_volume_size.`,
    },
    {
      condition: forType(
        type,
        'gp3',
        Op.and(Op.lte(throughput, Op.div(iops, 4)), Op.lte(throughput, gp3.maxThroughput)),
      ),
      errorMessage: `ebs_volume_type "gp3" allows at most 0.25 MiB/s per IOPS: ebs_throughput must be <= ebs_iops / 4 (and <= ${gp3.maxThroughput}).`,
    },
    provisioned('io1'),
    provisioned('io2'),
  ];
}
