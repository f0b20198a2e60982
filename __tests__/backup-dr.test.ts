import { Testing, TerraformStack } from 'cdktf';
import { BackupPlanConstruct } from '../constructs/backup';
import { FAILED_COPY_STATES, FAILED_RESTORE_STATUSES } from '../constructs/backup-events';
import { resource, resourcesOf, synthModule, TfJson } from './helpers/synth';

/** Issue 14 on the synthesized JSON: copies, restore testing, vault lock, failure events. */
const tf = synthModule();
const plan = resource(tf, 'aws_backup_plan', 'backup_plan');
const VAULT_ARN = '${aws_backup_vault.pmm_backup_vault.arn}';
const ROLE_ARN = '${aws_iam_role.pmm_backup_role.arn}';
const TOPIC = '${aws_sns_topic.pmm_notifications_topic.arn}';

describe('copies to other regions or accounts (module)', () => {
  const content = plan.dynamic.rule.content;

  it('adds one copy_action per backup_copy_destinations entry inside every rule (daily, and weekly when enabled)', () => {
    const copy = content.dynamic.copy_action;
    expect(copy.for_each).toBe('${var.backup_copy_destinations}');
    expect(copy.content.destination_vault_arn).toBe('${copy_action.value.destination_vault_arn}');
    expect(copy.content.lifecycle).toEqual({
      delete_after: '${copy_action.value.retention_days}',
      cold_storage_after: '${copy_action.value.cold_storage_after_days}',
      opt_in_to_archive_for_supported_resources:
        '${copy_action.value.cold_storage_after_days != null}',
    });
    // The copies sit in the rule content, so the weekly rule (only when enabled) gets them too.
    expect(plan.dynamic.rule.for_each).toContain('var.enable_weekly_backup ?');
    expect(plan.copy_action).toBeUndefined();
  });

  it('lets the backup role copy into exactly the destination vaults, only when there is one', () => {
    const doc = tf.data.aws_iam_policy_document.pmm_backup_copy_policy;
    expect(doc.count).toBe('${(length(var.backup_copy_destinations) >= 1) ? 1 : 0}');
    expect(doc.statement).toEqual([
      {
        sid: 'CopyIntoDestinationVaults',
        actions: ['backup:CopyIntoBackupVault'],
        resources: '${var.backup_copy_destinations[*].destination_vault_arn}',
      },
    ]);
    const policy = resource(tf, 'aws_iam_role_policy', 'backup_role_copies');
    expect(policy.count).toBe(doc.count);
    expect(policy.role).toBe('${aws_iam_role.pmm_backup_role.name}');
    expect(policy.policy).toBe(
      '${one(data.aws_iam_policy_document.pmm_backup_copy_policy[*].json)}',
    );
  });

  it('declares the destinations as a typed list, empty by default, and documents the KMS consequences', () => {
    const v = tf.variable.backup_copy_destinations;
    expect(v.default).toEqual([]);
    expect(v.type).toBe(
      'list(object({ destination_vault_arn = string, retention_days = number, cold_storage_after_days = optional(number) }))',
    );
    expect(v.description).toMatch(/destination vault's KMS key/);
    expect(v.description).toMatch(/customer-managed key/);
    expect(v.description).toMatch(/backup:CopyIntoBackupVault/);
    expect(v.validation).toHaveLength(4);
  });
});

describe('restore testing (module)', () => {
  const rtp = resource(tf, 'aws_backup_restore_testing_plan', 'restore_testing_plan');
  const rts = resource(tf, 'aws_backup_restore_testing_selection', 'restore_testing_selection');

  it('exists only when enable_restore_testing (plan-time), on restore_testing_schedule', () => {
    expect(rtp.count).toBe('${var.enable_restore_testing ? 1 : 0}');
    expect(rts.count).toBe('${var.enable_restore_testing ? 1 : 0}');
    expect(rtp.schedule_expression).toBe('${var.restore_testing_schedule}');
    expect(tf.variable.enable_restore_testing.default).toBe(true);
    expect(tf.variable.restore_testing_schedule.default).toBe('cron(0 7 1 * ? *)');
  });

  it("tests the latest snapshot of this deployment's vault only", () => {
    expect(rtp.recovery_point_selection).toEqual([
      {
        algorithm: 'LATEST_WITHIN_WINDOW',
        include_vaults: [VAULT_ARN],
        recovery_point_types: ['SNAPSHOT'],
        selection_window_days: 7,
      },
    ]);
  });

  it("restores the data volume (never the root volume) into the instance's AZ, keeps it for the validation window, with this deployment's role", () => {
    expect(rts.protected_resource_type).toBe('EBS');
    expect(rts.protected_resource_arns).toEqual(['${local.pmm_data_volume_current_arn}']);
    expect(rts.protected_resource_conditions).toBeUndefined();
    const volume = resource(tf, 'aws_ebs_volume', 'data_volume_volume');
    // The AZ of the instance's subnet (where the current data volume is): a real restore lands there.
    expect(rts.restore_metadata_overrides).toEqual({
      availabilityZone: '${data.aws_subnet.pmm_network_instance_subnet.availability_zone}',
    });
    expect(volume).toBeDefined();
    expect(rts.validation_window_hours).toBe(2);
    expect(rts.iam_role_arn).toBe(ROLE_ARN);
    expect(rts.restore_testing_plan_name).toBe(
      '${one(aws_backup_restore_testing_plan.pmm_backup_restore_testing_plan[*].name)}',
    );
  });

  it('relies on the managed restore policy of the backup role (restore and cleanup of the test volume)', () => {
    const attached = Object.values(resourcesOf(tf, 'aws_iam_role_policy_attachment'))
      .filter((a) => a.role === '${aws_iam_role.pmm_backup_role.name}')
      .map((a) => a.policy_arn as string);
    expect(attached.some((a) => a.endsWith('AWSBackupServiceRolePolicyForRestores'))).toBe(true);
  });
});

describe('failed copy and restore jobs reach the topic and count in an alarm (module)', () => {
  const copyRule = resource(tf, 'aws_cloudwatch_event_rule', 'backup_failed_copies');
  const restoreRule = resource(tf, 'aws_cloudwatch_event_rule', 'backup_failed_restores');

  it("forwards failed copy jobs out of this deployment's vault, only with alarms on and a destination set", () => {
    expect(copyRule.count).toBe(
      '${(var.enable_backup_alarms && (length(var.backup_copy_destinations) >= 1)) ? 1 : 0}',
    );
    expect(copyRule.event_pattern).toBe(
      `\${jsonencode({"source" = ["aws.backup"], "detail-type" = ["Copy Job State Change"], "detail" = {"state" = ["FAILED", "PARTIAL"], "sourceBackupVaultArn" = [${VAULT_ARN.slice(2, -1)}]}})}`,
    );
    expect(FAILED_COPY_STATES).not.toContain('COMPLETED');
    const target = resource(tf, 'aws_cloudwatch_event_target', 'backup_failed_copies_to_topic');
    expect(target.count).toBe(copyRule.count);
    expect(target.arn).toBe(TOPIC);
    expect(target.rule).toBe('${one(aws_cloudwatch_event_rule.pmm_backup_failed_copies[*].name)}');
  });

  it("forwards failed restore jobs run with this deployment's role (status, not state), with alarms on", () => {
    expect(restoreRule.count).toBe('${var.enable_backup_alarms ? 1 : 0}');
    expect(restoreRule.event_pattern).toBe(
      `\${jsonencode({"source" = ["aws.backup"], "detail-type" = ["Restore Job State Change"], "detail" = {"status" = ["FAILED", "ABORTED"], "iamRoleArn" = [${ROLE_ARN.slice(2, -1)}]}})}`,
    );
    expect(FAILED_RESTORE_STATUSES).toEqual(['FAILED', 'ABORTED']);
    const target = resource(tf, 'aws_cloudwatch_event_target', 'backup_failed_restores_to_topic');
    expect(target.count).toBe(restoreRule.count);
    expect(target.arn).toBe(TOPIC);
  });

  it.each([
    ['backup_copy_jobs_failed', 'backup_failed_copies'],
    ['restore_tests_failed', 'backup_failed_restores'],
  ])(
    'alarm %s counts the matches of exactly the rule that notifies (%s), with the same plan-time switch',
    (alarmId, ruleId) => {
      const alarm = resource(tf, 'aws_cloudwatch_metric_alarm', `monitoring_${alarmId}`);
      const rule = resource(tf, 'aws_cloudwatch_event_rule', ruleId);
      expect(alarm.namespace).toBe('AWS/Events');
      expect(alarm.metric_name).toBe('TriggeredRules');
      expect(alarm.dimensions).toEqual({ RuleName: rule.name });
      expect(alarm.count).toBe(rule.count);
      expect(alarm.alarm_actions).toContain(TOPIC.slice(2, -1));
    },
  );

  it('lets EventBridge publish to the topic (the topic policy names events.amazonaws.com)', () => {
    const doc = JSON.stringify(tf.data.aws_iam_policy_document);
    expect(doc).toContain('events.amazonaws.com');
  });
});

describe('vault lock (module)', () => {
  const lock = resource(tf, 'aws_backup_vault_lock_configuration', 'backup_vault_lock');

  it('is off by default and created only when backup_vault_lock is set (plan-time)', () => {
    expect(tf.variable.backup_vault_lock.default).toBeNull();
    expect(lock.count).toBe('${(var.backup_vault_lock == null) ? 0 : 1}');
    expect(lock.backup_vault_name).toBe('${aws_backup_vault.pmm_backup_vault.name}');
  });

  it('sends changeable_for_days only in compliance mode (the provider makes a governance lock without it)', () => {
    expect(lock.changeable_for_days).toBe(
      '${(var.backup_vault_lock.mode == "compliance") ? var.backup_vault_lock.changeable_for_days : null}',
    );
  });

  it('warns in the description that compliance mode can never be undone', () => {
    const d: string = tf.variable.backup_vault_lock.description;
    expect(d).toMatch(/WARNING/);
    expect(d).toMatch(/can NEVER be removed or changed by anyone, including the account root user/);
  });

  it('checks each rule retention against the lock at plan (preconditions naming the variables)', () => {
    const messages = lock.lifecycle.precondition.map((p: TfJson) => p.error_message);
    expect(messages).toEqual([
      expect.stringContaining('backup_retention_days'),
      expect.stringContaining('weekly_backup_retention_days'),
    ]);
  });
});

function synthBackup(
  overrides: Partial<ConstructorParameters<typeof BackupPlanConstruct>[2]>,
): TfJson {
  const stack = new TerraformStack(Testing.app(), 'backup');
  new BackupPlanConstruct(stack, 'backup', {
    namePrefix: 'pmm-test',
    dataVolumeArn: 'arn:aws:ec2:eu-west-1:111122223333:volume/vol-data',
    rootVolumeArn: 'arn:aws:ec2:eu-west-1:111122223333:volume/vol-root',
    backupRootVolume: false,
    schedule: 'cron(0 5 ? * * *)',
    retentionDays: 30,
    enableWeeklyBackup: false,
    weeklySchedule: 'cron(0 6 ? * 1 *)',
    weeklyRetentionDays: 90,
    forceDestroy: false,
    notificationTopicArn: 'arn:aws:sns:eu-west-1:111122223333:alarms',
    enableFailureNotifications: true,
    availabilityZone: 'eu-west-1a',
    ...overrides,
  });
  return JSON.parse(Testing.synth(stack));
}

const DR = 'arn:aws:backup:eu-central-1:444455556666:backup-vault:pmm-dr';

describe('BackupPlanConstruct (literal props) rejects bad DR settings at synth', () => {
  it('renders literal destinations as snake_case objects, with null cold storage when unset', () => {
    const out = synthBackup({
      copyDestinations: [
        { destinationVaultArn: DR, retentionDays: 30 },
        {
          destinationVaultArn: 'arn:aws:backup:us-east-1:111122223333:backup-vault:cold',
          retentionDays: 365,
          coldStorageAfterDays: 30,
        },
      ],
    });
    const p = Object.values(resourcesOf(out, 'aws_backup_plan'))[0];
    expect(p.dynamic.rule.content.dynamic.copy_action.for_each).toEqual([
      { destination_vault_arn: DR, retention_days: 30, cold_storage_after_days: null },
      {
        destination_vault_arn: 'arn:aws:backup:us-east-1:111122223333:backup-vault:cold',
        retention_days: 365,
        cold_storage_after_days: 30,
      },
    ]);
  });

  it.each([
    [[{ destinationVaultArn: 'pmm-dr', retentionDays: 30 }], /backup vault ARN/],
    [[{ destinationVaultArn: 'arn:aws:s3:::bucket', retentionDays: 30 }], /backup vault ARN/],
    [
      [
        { destinationVaultArn: DR, retentionDays: 30 },
        { destinationVaultArn: DR, retentionDays: 60 },
      ],
      /listed twice/,
    ],
    [[{ destinationVaultArn: DR, retentionDays: 0 }], /retentionDays must be an integer/],
    [[{ destinationVaultArn: DR, retentionDays: 119, coldStorageAfterDays: 30 }], /\+ 90 \(120\)/],
    [
      [{ destinationVaultArn: DR, retentionDays: 200, coldStorageAfterDays: 0 }],
      /coldStorageAfterDays/,
    ],
  ])('rejects copy destinations %j', (copyDestinations, message) => {
    expect(() => synthBackup({ copyDestinations })).toThrow(message);
  });

  it('accepts cold storage exactly 90 days before the copy expires', () => {
    expect(() =>
      synthBackup({
        copyDestinations: [
          { destinationVaultArn: DR, retentionDays: 120, coldStorageAfterDays: 30 },
        ],
      }),
    ).not.toThrow();
  });

  it.each(['cron(*/5 * ? * * *)', 'cron(0,30 * ? * * *)', 'cron(* 5 ? * * *)', 'rate(1 hour)'])(
    'rejects schedule %s (more often than hourly, or not cron)',
    (schedule) => {
      expect(() => synthBackup({ schedule })).toThrow(/"schedule"/);
    },
  );

  it('accepts an every-6-hours schedule', () => {
    const out = synthBackup({ schedule: 'cron(0 */6 ? * * *)' });
    const p = Object.values(resourcesOf(out, 'aws_backup_plan'))[0];
    expect(p.dynamic.rule.for_each).toContain('cron(0 */6 ? * * *)');
  });

  it('rejects a literal vault lock whose range excludes a rule retention, or bad lock values', () => {
    const lock = { mode: 'governance' as const, minRetentionDays: 7, maxRetentionDays: 60 };
    expect(() => synthBackup({ vaultLock: lock })).not.toThrow();
    expect(() => synthBackup({ vaultLock: { ...lock, minRetentionDays: 31 } })).toThrow(
      /backup_retention_days \(30\) must lie between minRetentionDays \(31\)/,
    );
    // The weekly rule (90 days) counts only when enabled.
    expect(() => synthBackup({ vaultLock: lock, enableWeeklyBackup: true })).toThrow(
      /weekly_backup_retention_days \(90\)/,
    );
    expect(() =>
      synthBackup({ vaultLock: { ...lock, mode: 'legal' as unknown as 'governance' } }),
    ).toThrow(/governance" or "compliance/);
    expect(() => synthBackup({ vaultLock: { ...lock, minRetentionDays: 61 } })).toThrow(
      /must not exceed/,
    );
    expect(() =>
      synthBackup({ vaultLock: { ...lock, mode: 'compliance', changeableForDays: 2 } }),
    ).toThrow(/changeableForDays/);
  });

  it('creates no vault lock when none is given, and a compliance lock with changeable_for_days', () => {
    expect(resourcesOf(synthBackup({}), 'aws_backup_vault_lock_configuration')).toEqual({});
    const out = synthBackup({
      vaultLock: { mode: 'compliance', minRetentionDays: 7, maxRetentionDays: 60 },
    });
    const l = Object.values(resourcesOf(out, 'aws_backup_vault_lock_configuration'))[0];
    expect(l.count).toBeUndefined();
    expect(l.changeable_for_days).toBe('${("compliance" == "compliance") ? 3 : null}');
  });

  it('rejects a validation window outside 1..168 hours', () => {
    expect(() => synthBackup({ restoreTestingValidationWindowHours: 0 })).toThrow(
      /restoreTestingValidationWindowHours/,
    );
  });
});
