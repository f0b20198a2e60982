import { DataAwsEbsSnapshot } from '@cdktf/provider-aws/lib/data-aws-ebs-snapshot';
import { DataAwsEbsVolume } from '@cdktf/provider-aws/lib/data-aws-ebs-volume';
import { DataAwsEbsVolumes } from '@cdktf/provider-aws/lib/data-aws-ebs-volumes';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { EbsSnapshot } from '@cdktf/provider-aws/lib/ebs-snapshot';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Fn, Op, TerraformIterator, TerraformLocal, Token } from 'cdktf';
import { Construct } from 'constructs';
import { MovedBlock } from './util/moved';
import { countWhen, Flag, oneAttribute } from './util/plan-time';
import { isLiteral, PropValidationError, requireInRange, requireOneOf } from './util/validate';

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
  /**
   * Restore the data volume from this EBS snapshot (`snap-...`) or AWS Backup recovery point
   * (`arn:aws:ec2:<region>::snapshot/snap-...`): a new volume is created from it and attached;
   * the previous volume stays, detached and protected. @default - a blank volume
   */
  readonly snapshotId?: string;
}

/** The generation key of the volume created blank (no snapshot). */
export const INITIAL_GENERATION = 'initial';
/** Tags the module uses to find its own data volumes (current and detached). */
export const DATA_VOLUME_TAGS = {
  deployment: 'pmm:deployment',
  generation: 'pmm:data-volume-generation',
  state: 'pmm:data-volume-state',
  kmsKey: 'pmm:data-volume-kms-key',
} as const;
/** `pmm:data-volume-kms-key` of a volume encrypted with the AWS-managed key. */
export const AWS_MANAGED_EBS_KEY = 'aws/ebs';

/**
 * The PMM data volume: encrypted, in the instance's AZ, never destroyed by Terraform
 * (`prevent_destroy`), tagged for backup. The host attaches it as /dev/xvdf and mounts it at
 * /srv; it outlives any instance.
 *
 * Volumes are keyed by their *generation*: `initial` (created blank) or the snapshot they were
 * restored from. Setting `snapshotId` adds a generation; the volumes of earlier generations
 * are found again on every plan by their tags (`pmm:deployment`, `pmm:data-volume-generation`)
 * and stay in the for_each with their own recorded attributes, so Terraform never plans to
 * destroy them: they stay detached, tagged `pmm:data-volume-state = detached`, until the
 * operator deletes them on purpose (docs/recovery.md).
 */
export class DataVolume extends Construct {
  /** ID of the volume in use (the current generation). */
  public readonly volumeId: string;
  public readonly volumeArn: string;
  /** ID of the initial snapshot; null when create_initial_snapshot is false. */
  public readonly initialSnapshotId: string;
  /** IDs of the module's data volumes that are no longer attached (earlier generations). */
  public readonly detachedVolumeIds: string[];

  constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    requireOneOf('DataVolume', 'volumeType', props.volumeType, DATA_VOLUME_TYPES);
    requireInRange('DataVolume', 'sizeGiB', props.sizeGiB, 1, 16384);
    requireInRange('DataVolume', 'iops', props.iops, 100, 64000);
    requireInRange('DataVolume', 'throughputMiBps', props.throughputMiBps, 125, 1000);
    requireSnapshotReference('DataVolume', 'snapshotId', props.snapshotId);

    const takesIops = Fn.contains([...IOPS_VOLUME_TYPES], props.volumeType);
    const takesThroughput = Op.eq(props.volumeType, 'gp3');
    const region = new DataAwsRegion(this, 'region', {});
    // Every value the expressions below need, as one local (tokens cannot be embedded in a
    // hand-written HCL expression, but a local's attributes can be referenced from one).
    const inputs = new TerraformLocal(this, 'inputs', {
      prefix: props.namePrefix,
      az: props.availabilityZone,
      size: props.sizeGiB,
      type: props.volumeType,
      iops: Fn.conditional(takesIops, props.iops, Token.nullValue()),
      throughput: Fn.conditional(takesThroughput, props.throughputMiBps, Token.nullValue()),
      kms_key_id: props.kmsKeyId ?? Token.nullValue(),
      snapshot: props.snapshotId ?? Token.nullValue(),
      region: region.name,
    });
    const input = `local.${inputs.friendlyUniqueId}`;

    // The module's data volumes that exist now, found by their tags.
    const discovered = new DataAwsEbsVolumes(this, 'discovered', {
      filter: [
        { name: `tag:${DATA_VOLUME_TAGS.deployment}`, values: [props.namePrefix] },
        { name: 'tag:pmm:volume', values: ['data'] },
      ],
    });
    const each = TerraformIterator.fromList(discovered.ids);
    const known = new DataAwsEbsVolume(this, 'known', {
      forEach: each,
      filter: [{ name: 'volume-id', values: [each.value] }],
    });
    const knownAddr = `data.${known.terraformResourceType}.${known.friendlyUniqueId}`;

    const t = DATA_VOLUME_TAGS;
    const generations = new TerraformLocal(
      this,
      'generations',
      `\${{
        snapshot_id = ${input}.snapshot == null ? null : regex("snap-[0-9a-f]+$", ${input}.snapshot)
        current = ${input}.snapshot == null ? "${INITIAL_GENERATION}" : regex("snap-[0-9a-f]+$", ${input}.snapshot)
        known = { for id, v in ${knownAddr} : v.tags["${t.generation}"] => v... if contains(keys(v.tags), "${t.generation}") }
      }}`,
    );
    const gen = `local.${generations.friendlyUniqueId}`;
    // The volumes Terraform manages: the current generation from the variables, every other
    // known generation frozen at its recorded attributes (so it is never changed or replaced).
    const volumes = new TerraformLocal(
      this,
      'volumes',
      `\${merge(
        { for k, vs in ${gen}.known : k => {
            az = vs[0].availability_zone
            snapshot_id = vs[0].snapshot_id == "" ? null : vs[0].snapshot_id
            size = vs[0].size
            type = vs[0].volume_type
            iops = contains(["gp3", "io1", "io2"], vs[0].volume_type) ? vs[0].iops : null
            throughput = vs[0].volume_type == "gp3" ? vs[0].throughput : null
            kms_key_id = vs[0].kms_key_id == "" ? null : vs[0].kms_key_id
            tags = merge(vs[0].tags, { "${t.state}" = "detached" })
          } if k != ${gen}.current },
        { (${gen}.current) = {
            az = ${input}.az
            snapshot_id = ${gen}.snapshot_id
            size = ${input}.size
            type = ${input}.type
            iops = ${input}.iops
            throughput = ${input}.throughput
            kms_key_id = ${input}.kms_key_id
            tags = {
              Name = "\${${input}.prefix}-data"
              Backup = "true"
              "pmm:volume" = "data"
              "${t.deployment}" = ${input}.prefix
              "${t.generation}" = ${gen}.current
              "${t.state}" = "in-use"
              "${t.kmsKey}" = coalesce(${input}.kms_key_id, "${AWS_MANAGED_EBS_KEY}")
            }
        } }
      )}`,
    );

    // The snapshot a new generation is created from, read only while that volume does not
    // exist yet (AWS Backup deletes expired recovery points; later plans must not need it).
    const snapshot = new DataAwsEbsSnapshot(this, 'restore_snapshot', {
      count: Token.asNumber(
        `\${${gen}.snapshot_id != null && !contains(keys(${gen}.known), ${gen}.current) ? 1 : 0}`,
      ),
      snapshotIds: [Token.asString(`\${${gen}.snapshot_id}`)],
    });
    const snapshotAddr = `data.${snapshot.terraformResourceType}.${snapshot.friendlyUniqueId}`;

    const vol = TerraformIterator.fromMap(Token.asAnyMap(`\${local.${volumes.friendlyUniqueId}}`));
    const volume = new EbsVolume(this, 'volume', {
      forEach: vol,
      availabilityZone: vol.getString('az'),
      snapshotId: vol.getString('snapshot_id'),
      size: vol.getNumber('size'),
      type: vol.getString('type'),
      iops: vol.getNumber('iops'),
      throughput: vol.getNumber('throughput'),
      encrypted: true,
      kmsKeyId: vol.getString('kms_key_id'),
      tags: vol.getStringMap('tags'),
      lifecycle: {
        // The one literal switch: Terraform must never destroy PMM's data.
        preventDestroy: true,
        // Combinations EBS rejects fail at plan, naming the variables, not at apply; so does
        // a change that would need a new volume without a snapshot to fill it.
        precondition: [
          ...dataVolumePreconditions(props),
          ...generationPreconditions(gen, input, snapshotAddr),
        ],
      },
    });
    const volumeAddr = `${volume.terraformResourceType}.${volume.friendlyUniqueId}`;
    // Deployments from before generations had one volume at the bare address.
    new MovedBlock(
      this,
      'moved_to_generations',
      volumeAddr,
      `${volumeAddr}["${INITIAL_GENERATION}"]`,
    );

    // Locals, so that other constructs get real references (a hand-written "${...}" string
    // passed into an Fn.* call would be escaped as a literal).
    const local = (name: string, expression: string) => new TerraformLocal(this, name, expression);
    this.volumeId = local('current_id', `\${${volumeAddr}[${gen}.current].id}`).asString;
    this.volumeArn = local('current_arn', `\${${volumeAddr}[${gen}.current].arn}`).asString;
    this.detachedVolumeIds = local(
      'detached_ids',
      `\${[for k, v in ${volumeAddr} : v.id if k != ${gen}.current]}`,
    ).asList;

    const initial = new EbsSnapshot(this, 'initial_snapshot', {
      count: countWhen(props.createInitialSnapshot),
      volumeId: this.volumeId,
      description: `Initial snapshot of the ${props.namePrefix} PMM data volume`,
      tags: { Name: `${props.namePrefix}-data-initial` },
      // A snapshot of the first (blank) volume; a restore must not replace it.
      lifecycle: { ignoreChanges: ['volume_id', 'description'] },
    });
    this.initialSnapshotId = oneAttribute(initial, 'id');
  }
}

/** A snapshot id or an AWS Backup recovery point ARN of an EBS snapshot. */
export const SNAPSHOT_REFERENCE =
  '^(snap-[0-9a-f]{8,17}|arn:aws[a-z-]*:ec2:[a-z0-9-]+::snapshot/snap-[0-9a-f]{8,17})$';

function requireSnapshotReference(construct: string, prop: string, value?: string): void {
  if (!isLiteral(value)) return;
  if (!new RegExp(SNAPSHOT_REFERENCE).test(value!)) {
    throw new PropValidationError(
      construct,
      prop,
      `"${value}" is neither a snapshot id (snap-...) nor a recovery point ARN (arn:aws:ec2:<region>::snapshot/snap-...)`,
    );
  }
}

/**
 * Plan-time refusals of changes that need a new volume but give no snapshot to fill it, and
 * of a snapshot that cannot be used. They name the variable and the procedure; without them
 * Terraform would stop at prevent_destroy with a message that names neither.
 */
export function generationPreconditions(gen: string, input: string, snapshotAddr: string) {
  const t = DATA_VOLUME_TAGS;
  // Terraform does not short-circuit || and &&: guards are conditionals, so the checks of the
  // current generation's known volume are only evaluated when it exists.
  const ifKnownCurrent = (check: string) =>
    `\${each.key != ${gen}.current ? true : (contains(keys(${gen}.known), ${gen}.current) ? ${check} : true)}`;
  const knownCurrent = `${gen}.known[${gen}.current][0]`;
  const desiredKey = `coalesce(${input}.kms_key_id, "${AWS_MANAGED_EBS_KEY}")`;
  const restore =
    'data_volume_snapshot_id to a new snapshot or AWS Backup recovery point of the data volume (docs/recovery.md, "Restore or move the data volume")';
  return [
    {
      condition: ifKnownCurrent(`${knownCurrent}.availability_zone == ${input}.az`),
      errorMessage: `private_subnet_ids[0] is in another Availability Zone than the data volume, and an EBS volume cannot move between zones. To move PMM, also set ${restore}: the volume is restored in the new zone and the current one stays, detached. Otherwise keep the first private subnet in the volume's zone.`,
    },
    {
      condition: ifKnownCurrent(
        `lookup(${knownCurrent}.tags, "${t.kmsKey}", ${desiredKey}) == ${desiredKey}`,
      ),
      errorMessage: `kms_key_id differs from the key the data volume is encrypted with, and EBS cannot re-encrypt a volume in place. To change the key, also set ${restore}: the new volume is encrypted with the new key and the current one stays, detached. Otherwise keep kms_key_id as it was.`,
    },
    {
      condition: ifKnownCurrent(`lookup(${knownCurrent}.tags, "${t.state}", "in-use") == "in-use"`),
      errorMessage: `data_volume_snapshot_id selects a data volume that is detached (an earlier generation): removing or reverting data_volume_snapshot_id would switch PMM back to old data. Keep data_volume_snapshot_id at the snapshot of the volume in use; to go back to a detached volume, snapshot it and set data_volume_snapshot_id to that snapshot (docs/recovery.md).`,
    },
    {
      condition: `\${each.key != ${gen}.current || ${input}.snapshot == null ? true : (startswith(${input}.snapshot, "arn:") ? split(":", ${input}.snapshot)[3] == ${input}.region : true)}`,
      errorMessage:
        'data_volume_snapshot_id is a recovery point in another region: copy it to this region first (AWS Backup copy job) and use the copy.',
    },
    {
      condition: `\${each.key != ${gen}.current || length(${snapshotAddr}) == 0 ? true : ${input}.size >= ${snapshotAddr}[0].volume_size}`,
      errorMessage:
        'ebs_volume_size is smaller than the snapshot in data_volume_snapshot_id: a volume restored from a snapshot must be at least as large as the snapshot.',
    },
  ];
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
