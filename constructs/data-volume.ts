import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Construct } from 'constructs';
import { Flag } from './util/plan-time';

export interface DataVolumeProps {
  readonly namePrefix: string;
  /** The instance's Availability Zone. */
  readonly availabilityZone: string;
  readonly sizeGiB: number;
  /** gp3, gp2, io1 or io2. */
  readonly volumeType: string;
  /** Applied to gp3, io1 and io2 only. */
  readonly iops: number;
  /** Applied to gp3 only. */
  readonly throughputMiBps: number;
  /** @default - the AWS-managed aws/ebs key */
  readonly kmsKeyId?: string;
  readonly createInitialSnapshot: Flag;
}

/** The encrypted, never-destroyed PMM data volume (issue #3 fills this in). */
export class DataVolume extends Construct {
  public readonly volumeId: string;
  public readonly volumeArn: string;

  constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    const volume = new EbsVolume(this, 'volume', {
      availabilityZone: props.availabilityZone,
      size: props.sizeGiB,
      type: props.volumeType,
      encrypted: true,
      kmsKeyId: props.kmsKeyId,
      tags: { Name: `${props.namePrefix}-data` },
      lifecycle: { preventDestroy: true },
    });
    this.volumeId = volume.id;
    this.volumeArn = volume.arn;
  }
}
