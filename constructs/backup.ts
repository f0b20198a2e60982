import { BackupVault } from '@cdktf/provider-aws/lib/backup-vault';
import { Construct } from 'constructs';
import { Flag } from './util/plan-time';

export interface BackupProps {
  readonly namePrefix: string;
  readonly dataVolumeArn: string;
  readonly rootVolumeArn: string;
  readonly backupRootVolume: Flag;
  readonly schedule: string;
  readonly retentionDays: number;
  readonly enableWeeklyBackup: Flag;
  readonly weeklySchedule: string;
  readonly weeklyRetentionDays: number;
  /** @default - the AWS-managed backup key */
  readonly kmsKeyArn?: string;
  readonly forceDestroy: Flag;
  readonly notificationTopicArn: string;
  readonly enableFailureNotifications: Flag;
}

/** AWS Backup vault, plan and selection (issue #5 fills this in). */
export class BackupPlanConstruct extends Construct {
  public readonly vaultName: string;
  public readonly roleArn: string;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    const vault = new BackupVault(this, 'vault', { name: `${props.namePrefix}-backup` });
    this.vaultName = vault.name;
    this.roleArn = '';
  }
}
