import { BackupVaultLockConfiguration } from '@cdktf/provider-aws/lib/backup-vault-lock-configuration';
import { Fn, IResolvable, Op, propertyAccess, Token } from 'cdktf';
import { Construct } from 'constructs';
import { Flag } from './util/plan-time';
import { PropValidationError } from './util/validate';

export const VAULT_LOCK_MODES = ['governance', 'compliance'] as const;
export type VaultLockMode = (typeof VAULT_LOCK_MODES)[number];
/** AWS Backup's cooling-off period before a compliance-mode lock becomes immutable. */
export const MIN_CHANGEABLE_FOR_DAYS = 3;
export const MAX_LOCK_DAYS = 36500;

/** AWS Backup Vault Lock settings. */
export interface BackupVaultLock {
  /**
   * `governance`: users with the IAM permission can change or remove the lock.
   * `compliance`: after `changeableForDays` NOBODY (not the root user, not AWS) can remove
   * the lock, shorten retention or delete the vault before its recovery points expire.
   */
  readonly mode: VaultLockMode;
  readonly minRetentionDays: number;
  readonly maxRetentionDays: number;
  /** Compliance mode only: days until the lock becomes immutable. @default 3 */
  readonly changeableForDays?: number;
}

export interface VaultLockProps {
  readonly vaultName: string;
  /** The lock as a literal or a Terraform object expression that may be null (no lock). */
  readonly lock: BackupVaultLock | IResolvable;
  /** The retention of each rule that writes to the vault, with its variable name. */
  readonly rules: readonly {
    readonly name: string;
    readonly retentionDays: number;
    readonly when: Flag;
  }[];
}

const CONSTRUCT = 'BackupPlanConstruct';

/** Checks a literal lock (an expression is checked by the variable's validations). */
export function checkVaultLock(lock: BackupVaultLock | IResolvable): void {
  if (Token.isUnresolved(lock)) return;
  const l = lock as BackupVaultLock;
  const bad = (msg: string) => new PropValidationError(CONSTRUCT, 'vaultLock', msg);
  if (!VAULT_LOCK_MODES.includes(l.mode)) {
    throw bad(`mode must be "governance" or "compliance", got ${JSON.stringify(l.mode)}`);
  }
  const whole = (n: number, min: number) => Number.isInteger(n) && n >= min && n <= MAX_LOCK_DAYS;
  if (!whole(l.minRetentionDays, 1) || !whole(l.maxRetentionDays, 1)) {
    throw bad(`minRetentionDays and maxRetentionDays must be integers from 1 to ${MAX_LOCK_DAYS}`);
  }
  if (l.minRetentionDays > l.maxRetentionDays) {
    throw bad('minRetentionDays must not exceed maxRetentionDays');
  }
  if (l.changeableForDays !== undefined && !whole(l.changeableForDays, MIN_CHANGEABLE_FOR_DAYS)) {
    throw bad(
      `changeableForDays must be an integer from ${MIN_CHANGEABLE_FOR_DAYS} to ${MAX_LOCK_DAYS}`,
    );
  }
}

/** A field of the lock: `var.x.field` for an expression, the value for a literal. */
function field(lock: BackupVaultLock | IResolvable, name: string, literal: unknown): unknown {
  return Token.isUnresolved(lock) ? propertyAccess(lock, [name]) : literal;
}

/**
 * The vault lock, created only when the lock is set (plan-time: `lock == null ? 0 : 1`).
 * Governance mode sends no `changeable_for_days` (the provider's way to ask for governance);
 * compliance mode sends it. Preconditions stop the plan when a rule's retention falls outside
 * the lock's range (AWS Backup would fail every job of that rule).
 */
export function createVaultLock(scope: Construct, props: VaultLockProps): void {
  const { lock } = props;
  checkVaultLock(lock);
  const literal = Token.isUnresolved(lock) ? undefined : (lock as BackupVaultLock);
  const min = field(lock, 'min_retention_days', literal?.minRetentionDays);
  const max = field(lock, 'max_retention_days', literal?.maxRetentionDays);
  const mode = field(lock, 'mode', literal?.mode);
  const changeable = field(
    lock,
    'changeable_for_days',
    literal?.changeableForDays ?? MIN_CHANGEABLE_FOR_DAYS,
  );
  if (literal !== undefined) checkRulesAgainstLiteralLock(literal, props.rules);
  new BackupVaultLockConfiguration(scope, 'vault_lock', {
    count:
      literal === undefined
        ? Token.asNumber(Fn.conditional(Op.eq(lock, Token.nullValue()), 0, 1))
        : undefined,
    backupVaultName: props.vaultName,
    minRetentionDays: Token.asNumber(min),
    maxRetentionDays: Token.asNumber(max),
    changeableForDays: Token.asNumber(
      Fn.conditional(Op.eq(mode, 'compliance'), changeable, Token.nullValue()),
    ),
    lifecycle: {
      precondition: props.rules.map((r) => ({
        condition: Token.asAny(
          Op.or(Op.not(r.when), Op.and(Op.gte(r.retentionDays, min), Op.lte(r.retentionDays, max))),
        ),
        errorMessage: `backup_vault_lock: ${r.name} must lie between the lock's min_retention_days and max_retention_days, or every backup job of that rule fails.`,
      })),
    },
  });
}

function checkRulesAgainstLiteralLock(lock: BackupVaultLock, rules: VaultLockProps['rules']): void {
  for (const r of rules) {
    if (Token.isUnresolved(r.retentionDays) || Token.isUnresolved(r.when) || r.when === false) {
      continue;
    }
    if (r.retentionDays < lock.minRetentionDays || r.retentionDays > lock.maxRetentionDays) {
      throw new PropValidationError(
        CONSTRUCT,
        'vaultLock',
        `${r.name} (${r.retentionDays}) must lie between minRetentionDays (${lock.minRetentionDays}) and maxRetentionDays (${lock.maxRetentionDays})`,
      );
    }
  }
}
