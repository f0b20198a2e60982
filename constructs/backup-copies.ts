import { IResolvable, Token } from 'cdktf';
import { PropValidationError } from './util/validate';

/** One vault that receives a copy of every recovery point of the plan's rules. */
export interface BackupCopyDestination {
  /** `arn:<partition>:backup:<region>:<account>:backup-vault:<name>` */
  readonly destinationVaultArn: string;
  /** Days the copy is kept in the destination vault. */
  readonly retentionDays: number;
  /**
   * Days after which the copy moves to cold (archive) storage; it must then be kept at least
   * 90 more days there.
   * @default - never moves to cold storage
   */
  readonly coldStorageAfterDays?: number;
}

/** The copy destinations as a literal list or a Terraform list(object) expression. */
export type CopyDestinations = readonly BackupCopyDestination[] | IResolvable;

/** AWS Backup vault ARNs (any partition; vault names are 2-50 of A-Za-z0-9-_.). */
export const BACKUP_VAULT_ARN =
  '^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$';
/** AWS Backup keeps a recovery point in cold storage for at least this many days. */
export const COLD_STORAGE_MIN_DAYS = 90;
export const MAX_RETENTION_DAYS = 35040;

/**
 * The destinations as Terraform sees them (snake_case objects, `cold_storage_after_days`
 * null when unset), after checking a literal list; an expression passes through unchanged
 * (the module variable's own validations check it at plan time).
 */
export function copyDestinationList(construct: string, destinations: CopyDestinations): unknown {
  if (Token.isUnresolved(destinations)) return destinations;
  const list = destinations as readonly BackupCopyDestination[];
  const seen = new Set<string>();
  return list.map((d, i) => {
    const where = `copyDestinations[${i}]`;
    const bad = (msg: string) => new PropValidationError(construct, where, msg);
    if (!new RegExp(BACKUP_VAULT_ARN).test(d.destinationVaultArn)) {
      throw bad(
        `destinationVaultArn must be a backup vault ARN (arn:aws:backup:<region>:<account>:backup-vault:<name>), got ${JSON.stringify(d.destinationVaultArn)}`,
      );
    }
    if (seen.has(d.destinationVaultArn)) {
      throw bad(`destinationVaultArn ${d.destinationVaultArn} is listed twice`);
    }
    seen.add(d.destinationVaultArn);
    if (!isWholeInRange(d.retentionDays, 1, MAX_RETENTION_DAYS)) {
      throw bad(`retentionDays must be an integer from 1 to ${MAX_RETENTION_DAYS}`);
    }
    const cold = d.coldStorageAfterDays;
    if (cold !== undefined) {
      if (!isWholeInRange(cold, 1, MAX_RETENTION_DAYS)) {
        throw bad(`coldStorageAfterDays must be an integer from 1 to ${MAX_RETENTION_DAYS}`);
      }
      if (d.retentionDays < cold + COLD_STORAGE_MIN_DAYS) {
        throw bad(
          `retentionDays (${d.retentionDays}) must be at least coldStorageAfterDays + ${COLD_STORAGE_MIN_DAYS} (${cold + COLD_STORAGE_MIN_DAYS}): AWS Backup keeps cold recovery points ${COLD_STORAGE_MIN_DAYS} days`,
        );
      }
    }
    return {
      destination_vault_arn: d.destinationVaultArn,
      retention_days: d.retentionDays,
      cold_storage_after_days: cold ?? null,
    };
  });
}

function isWholeInRange(n: number, min: number, max: number): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/**
 * The `copy_action` dynamic block inside each plan rule (JSON syntax: a `dynamic` key in the
 * rule's `content`). One copy per destination; cold storage only when the destination sets
 * `cold_storage_after_days`, with the archive opt-in EBS snapshots need (without it AWS
 * Backup ignores the transition for EBS).
 */
export function copyActionBlock(destinations: unknown) {
  const v = (field: string) => `\${copy_action.value.${field}}`;
  return {
    for_each: destinations,
    content: {
      destination_vault_arn: v('destination_vault_arn'),
      lifecycle: {
        delete_after: v('retention_days'),
        cold_storage_after: v('cold_storage_after_days'),
        opt_in_to_archive_for_supported_resources:
          '${copy_action.value.cold_storage_after_days != null}',
      },
    },
  };
}
