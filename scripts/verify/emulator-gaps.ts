/**
 * Resource types the emulator (moto 5.2.5 in server mode) cannot create, read back or
 * delete faithfully. The apply step leaves them out with `-target` on everything else
 * (their dependents go too, and are listed) and the summary names them with the reason.
 * Keep this list short and explain each entry: it is what the emulator test does NOT prove.
 */
export const EMULATOR_GAPS: Readonly<Record<string, string>> = {
  aws_backup_selection:
    'moto 5.2.5 implements no CreateBackupSelection/GetBackupSelection (AWS Backup has only vaults, plans, tags and report plans)',
  aws_backup_restore_testing_plan:
    'moto 5.2.5 implements no CreateRestoreTestingPlan/GetRestoreTestingPlan (restore testing is on by default)',
  aws_backup_restore_testing_selection:
    'moto 5.2.5 implements no CreateRestoreTestingSelection/GetRestoreTestingSelection',
  aws_backup_vault_policy:
    'moto 5.2.5 implements no PutBackupVaultAccessPolicy/GetBackupVaultAccessPolicy',
};

/**
 * Attributes the emulator does not round-trip, so a re-plan right after apply shows a diff
 * in them although AWS would not. A re-plan whose only changes are these passes and the
 * summary lists them; any other diff fails the step.
 */
export interface KnownDrift {
  readonly attributes: string[];
  readonly reason: string;
  /** Only resources whose planned values match (default: every resource of the type). */
  readonly appliesTo?: (after: Record<string, unknown>) => boolean;
}

/** Security group rules whose other end is a security group, not a CIDR block. */
const referencesSecurityGroup = (after: Record<string, unknown>): boolean =>
  typeof after.referenced_security_group_id === 'string' &&
  after.referenced_security_group_id !== '';

export const EMULATOR_DRIFT: Readonly<Record<string, KnownDrift>> = {
  aws_backup_vault: {
    attributes: ['tags', 'tags_all'],
    reason:
      'moto 5.2.5 ListTags for a backup vault reads the ARN from the wrong URL segment and returns no tags, so the provider sees the tags as missing after every apply',
  },
  aws_backup_plan: {
    attributes: ['tags', 'tags_all'],
    reason:
      'moto 5.2.5 ListTags returns no tags for a backup plan either (same ARN parsing as for vaults)',
  },
  aws_vpc_security_group_ingress_rule: {
    attributes: ['description'],
    reason:
      'moto 5.2.5 DescribeSecurityGroupRules drops the description of a rule whose source is a referenced security group (CIDR rules keep theirs)',
    appliesTo: referencesSecurityGroup,
  },
  aws_vpc_security_group_egress_rule: {
    attributes: ['description'],
    reason:
      'moto 5.2.5 DescribeSecurityGroupRules drops the description of a rule whose destination is a referenced security group (CIDR rules keep theirs)',
    appliesTo: referencesSecurityGroup,
  },
  aws_instance: {
    attributes: ['vpc_security_group_ids'],
    reason:
      'with associate_public_ip_address set, the provider passes the security groups on the primary network interface; moto 5.2.5 keeps them there and DescribeInstances lists no instance security group, so the provider sees them as missing (AWS reports the primary interface groups as the instance groups)',
    appliesTo: (after) => after.associate_public_ip_address === false,
  },
};

/**
 * Module inputs the emulator run sets away from their defaults because moto cannot serve the
 * API the default needs (the provider would retry the failing call until it times out).
 * The summary lists each with its reason: it is what the emulator test does NOT prove.
 */
export const EMULATOR_INPUTS: Readonly<Record<string, { value: unknown; reason: string }>> = {
  enable_detailed_monitoring: {
    value: false,
    reason:
      'moto 5.2.5 raises NotImplementedError for ec2:MonitorInstances, which the provider calls to turn on detailed monitoring',
  },
};
