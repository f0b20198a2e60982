/**
 * Module inputs the emulator run sets away from their defaults so that the apply, the re-plan
 * and the teardown also cover what they switch on (the defaults are covered by the
 * "defaults + required values" plan of the bad-inputs step and by the unit tests). Each entry
 * says what it exercises; the summary lists them.
 */
export const EMULATOR_COVERAGE_INPUTS: Readonly<
  Record<string, { value: unknown; exercises: string }>
> = {
  backup_schedule: {
    value: 'cron(0 */6 ? * * *)',
    exercises: 'a more frequent (every 6 hours) backup rule',
  },
  enable_weekly_backup: {
    value: true,
    exercises: 'the weekly rule, with the copy actions inside it',
  },
  backup_copy_destinations: {
    value: [
      {
        destination_vault_arn: 'arn:aws:backup:eu-central-1:123456789012:backup-vault:pmm-dr',
        retention_days: 120,
        cold_storage_after_days: 30,
      },
      {
        destination_vault_arn: 'arn:aws:backup:us-west-2:123456789012:backup-vault:pmm-dr-2',
        retention_days: 30,
      },
    ],
    exercises:
      'copy_action blocks (one with cold storage and the archive opt-in), the copy permission policy, the copy failure rule and alarm',
  },
  backup_vault_lock: {
    value: { mode: 'governance', min_retention_days: 7, max_retention_days: 120 },
    exercises: 'a governance-mode vault lock within the rules retention (removable at teardown)',
  },
};
