import { Testing, TerraformStack } from 'cdktf';
import { BackupPlanConstruct, FAILED_JOB_STATES } from '../constructs/backup';
import { resource, resourcesOf, synthModule, TfJson } from './helpers/synth';

describe('AWS Backup (module stack)', () => {
  const tf = synthModule();
  const vault = resource(tf, 'aws_backup_vault', 'backup_vault');
  const plan = resource(tf, 'aws_backup_plan', 'backup_plan');
  const selection = resource(tf, 'aws_backup_selection', 'backup_selection');

  it('creates one dedicated vault per deployment with the backup KMS key and force_destroy variables', () => {
    expect(Object.keys(resourcesOf(tf, 'aws_backup_vault'))).toHaveLength(1);
    expect(vault.name).toBe('${var.service_name}-${var.environment}-backup');
    expect(vault.kms_key_arn).toBe('${var.backup_kms_key_id}');
    expect(vault.force_destroy).toBe('${var.backup_vault_force_destroy}');
  });

  it('builds the plan rules from the daily rule plus the weekly rule only when enable_weekly_backup', () => {
    expect(plan.rule).toBeUndefined();
    const dyn = plan.dynamic.rule;
    const forEach: string = dyn.for_each;
    expect(forEach).toContain(
      '[{"rule_name" = "daily", "schedule" = var.backup_schedule, "delete_after" = var.backup_retention_days}]',
    );
    expect(forEach).toContain(
      'var.enable_weekly_backup ? [{"rule_name" = "weekly", "schedule" = var.weekly_backup_schedule, "delete_after" = var.weekly_backup_retention_days}] : []',
    );
    // The weekly values appear nowhere outside that conditional.
    expect(forEach.split('var.weekly_backup_schedule')).toHaveLength(2);
    expect(JSON.stringify(dyn.content)).not.toContain('weekly');
  });

  it('gives every rule its schedule, retention, windows and this vault', () => {
    const content = plan.dynamic.rule.content;
    const it = plan.dynamic.rule.iterator;
    expect(content.schedule).toBe(`\${${it}.value.schedule}`);
    expect(content.rule_name).toBe(`\${${it}.value.rule_name}`);
    expect(content.lifecycle.delete_after).toBe(`\${${it}.value.delete_after}`);
    expect(content.target_vault_name).toBe('${aws_backup_vault.pmm_backup_vault.name}');
    expect(content.start_window).toBe(60);
    expect(content.completion_window).toBe(720);
    expect(content.completion_window).toBeGreaterThanOrEqual(content.start_window + 60);
  });

  it("selects only this deployment's volumes by ARN: the data volume always, the root volume only when backup_root_volume", () => {
    expect(selection.selection_tag).toBeUndefined();
    expect(selection.condition).toBeUndefined();
    expect(selection.resources).toBe(
      '${concat([local.pmm_data_volume_current_arn], var.backup_root_volume ? [join(":", ["arn", data.aws_partition.pmm_host_partition.partition, "ec2", data.aws_region.pmm_host_region.name, data.aws_caller_identity.pmm_host_account.account_id, join("/", ["volume", aws_instance.pmm_host_instance.root_block_device[0].volume_id])])] : [])}',
    );
    expect(selection.plan_id).toBe('${aws_backup_plan.pmm_backup_plan.id}');
    expect(selection.iam_role_arn).toBe('${aws_iam_role.pmm_backup_role.arn}');
  });

  it('lets AWS Backup assume a role with the managed backup and restore policies', () => {
    const role = resource(tf, 'aws_iam_role', 'backup_role');
    expect(role.assume_role_policy).toBe(
      '${data.aws_iam_policy_document.pmm_backup_assume_role.json}',
    );
    const assume = tf.data.aws_iam_policy_document.pmm_backup_assume_role;
    expect(assume.statement[0].principals).toEqual([
      { type: 'Service', identifiers: ['backup.amazonaws.com'] },
    ]);
    const attached = Object.entries(resourcesOf(tf, 'aws_iam_role_policy_attachment'))
      .filter(([, a]) => a.role === '${aws_iam_role.pmm_backup_role.name}')
      .map(([, a]) => a.policy_arn)
      .sort();
    expect(attached).toEqual([
      'arn:${data.aws_partition.pmm_backup_partition.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup',
      'arn:${data.aws_partition.pmm_backup_partition.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores',
    ]);
  });

  it('sends a message for each failed, aborted or expired job of this vault to the alarm topic only when enable_backup_alarms', () => {
    const rule = resource(tf, 'aws_cloudwatch_event_rule', 'backup_failed_jobs');
    expect(rule.count).toBe('${var.enable_backup_alarms ? 1 : 0}');
    expect(rule.event_pattern).toBe(
      '${jsonencode({"source" = ["aws.backup"], "detail-type" = ["Backup Job State Change"], "detail" = {"state" = ["FAILED", "ABORTED", "EXPIRED"], "backupVaultName" = [aws_backup_vault.pmm_backup_vault.name]}})}',
    );
    const target = resource(tf, 'aws_cloudwatch_event_target', 'backup_failed_jobs_to_topic');
    expect(target.count).toBe('${var.enable_backup_alarms ? 1 : 0}');
    expect(target.rule).toBe('${one(aws_cloudwatch_event_rule.pmm_backup_failed_jobs[*].name)}');
    expect(target.arn).toBe('${aws_sns_topic.pmm_notifications_topic.arn}');
    expect(FAILED_JOB_STATES).toEqual(['FAILED', 'ABORTED', 'EXPIRED']);
  });

  it('uses no vault notifications (their failure events are deprecated and never sent)', () => {
    expect(resourcesOf(tf, 'aws_backup_vault_notifications')).toEqual({});
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

describe('BackupPlanConstruct with literal props', () => {
  it('keeps literal switches as plan-time expressions, not synth-time branches', () => {
    const tf = synthBackup({ enableWeeklyBackup: true, backupRootVolume: true });
    const plan = Object.values(resourcesOf(tf, 'aws_backup_plan'))[0];
    expect(plan.dynamic.rule.for_each).toContain('true ? [{"rule_name" = "weekly"');
    const sel = Object.values(resourcesOf(tf, 'aws_backup_selection'))[0];
    expect(sel.resources).toBe(
      '${concat(["arn:aws:ec2:eu-west-1:111122223333:volume/vol-data"], true ? ["arn:aws:ec2:eu-west-1:111122223333:volume/vol-root"] : [])}',
    );
  });

  it('rejects literal retention outside 1..35040 days', () => {
    expect(() => synthBackup({ retentionDays: 0 })).toThrow(/retentionDays/);
    expect(() => synthBackup({ weeklyRetentionDays: 40000 })).toThrow(/weeklyRetentionDays/);
  });

  it('rejects a completion window that does not leave an hour after the start window', () => {
    expect(() => synthBackup({ startWindowMinutes: 120, completionWindowMinutes: 150 })).toThrow(
      /completionWindowMinutes/,
    );
  });
});
