import { resource, synthModule, TfJson } from './helpers/synth';
import { EMULATOR_COVERAGE_INPUTS } from '../scripts/verify/emulator-coverage';
import { terraformEval } from './helpers/terraform';

/**
 * Issue 14's plan-time switches, expressions and variable validations evaluated by real
 * Terraform (`terraform console`, no providers): what a plan would compute for given values.
 */
const tf = synthModule();
const variables = Object.fromEntries(
  [
    'backup_copy_destinations',
    'backup_vault_lock',
    'enable_restore_testing',
    'restore_testing_schedule',
    'enable_backup_alarms',
    'backup_schedule',
    'weekly_backup_schedule',
    'backup_retention_days',
    'weekly_backup_retention_days',
    'enable_weekly_backup',
    'service_name',
    'environment',
  ].map((v) => {
    // Required variables get a default so that console runs without -var for them.
    const { validation, ...decl } = tf.variable[v] as TfJson;
    void validation;
    return [v, v === 'environment' ? { ...decl, default: 'production' } : decl];
  }),
);
const evaluate = (expr: string, values: Record<string, string> = {}): unknown =>
  terraformEval(expr, { variables, values });
const unwrap = (expr: string) => expr.replace(/^\$\{/, '').replace(/\}$/, '');

const DR = 'arn:aws:backup:eu-central-1:444455556666:backup-vault:pmm-dr';
const DR2 = 'arn:aws:backup:us-east-1:111122223333:backup-vault:pmm-dr-2';
const copies = (...entries: string[]) => `[${entries.join(', ')}]`;
const ONE = `{ destination_vault_arn = "${DR}", retention_days = 30 }`;
const COLD = `{ destination_vault_arn = "${DR2}", retention_days = 365, cold_storage_after_days = 30 }`;
const lock = (fields: string) => `{ ${fields} }`;

describe('copy actions evaluated by terraform', () => {
  const plan = resource(tf, 'aws_backup_plan', 'backup_plan');
  const copy = plan.dynamic.rule.content.dynamic.copy_action;
  // The copy_action content, evaluated for each element the way the dynamic block does.
  const l = copy.content.lifecycle;
  const actions = [
    `[for copy_action in [for d in ${unwrap(copy.for_each)} : { value = d }] : {`,
    `arn = ${unwrap(copy.content.destination_vault_arn)},`,
    `delete_after = ${unwrap(l.delete_after)},`,
    `cold_storage_after = ${unwrap(l.cold_storage_after)},`,
    `opt_in = ${unwrap(l.opt_in_to_archive_for_supported_resources)} }]`,
  ].join(' ');

  it('adds no copy by default', () => {
    expect(evaluate(actions)).toEqual([]);
  });

  it('adds one copy per destination; cold storage (with the EBS archive opt-in) only where set', () => {
    expect(evaluate(actions, { backup_copy_destinations: copies(ONE, COLD) })).toEqual([
      { arn: DR, delete_after: 30, cold_storage_after: null, opt_in: false },
      { arn: DR2, delete_after: 365, cold_storage_after: 30, opt_in: true },
    ]);
  });

  it.each([
    ['[]', 0],
    [copies(ONE), 1],
    [copies(ONE, COLD), 1],
  ])('backup_copy_destinations = %s: copy permission count %i', (value, count) => {
    const policy = resource(tf, 'aws_iam_role_policy', 'backup_role_copies');
    expect(evaluate(unwrap(policy.count), { backup_copy_destinations: value })).toBe(count);
    const doc = tf.data.aws_iam_policy_document.pmm_backup_copy_policy;
    expect(evaluate(unwrap(doc.count), { backup_copy_destinations: value })).toBe(count);
  });

  it('grants CopyIntoBackupVault on exactly the listed vaults', () => {
    const doc = tf.data.aws_iam_policy_document.pmm_backup_copy_policy;
    expect(
      evaluate(unwrap(doc.statement[0].resources), { backup_copy_destinations: copies(ONE, COLD) }),
    ).toEqual([DR, DR2]);
  });

  it.each([
    ['true', '[]', 0],
    ['true', copies(ONE), 1],
    ['false', copies(ONE), 0],
  ])(
    'enable_backup_alarms = %s, destinations %s: copy failure rule and alarm count %i',
    (alarms, value, count) => {
      const values = { enable_backup_alarms: alarms, backup_copy_destinations: value };
      const rule = resource(tf, 'aws_cloudwatch_event_rule', 'backup_failed_copies');
      const alarm = resource(
        tf,
        'aws_cloudwatch_metric_alarm',
        'monitoring_backup_copy_jobs_failed',
      );
      expect(evaluate(unwrap(rule.count), values)).toBe(count);
      expect(evaluate(unwrap(alarm.count), values)).toBe(count);
    },
  );
});

describe('restore testing evaluated by terraform', () => {
  const rtp = resource(tf, 'aws_backup_restore_testing_plan', 'restore_testing_plan');
  const rts = resource(tf, 'aws_backup_restore_testing_selection', 'restore_testing_selection');

  it.each([
    [{}, 1],
    [{ enable_restore_testing: 'false' }, 0],
  ])('%j: plan and selection count %i', (values, count) => {
    expect(evaluate(unwrap(rtp.count), values)).toBe(count);
    expect(evaluate(unwrap(rts.count), values)).toBe(count);
  });

  it('restore failure rule and alarm follow enable_backup_alarms', () => {
    const rule = resource(tf, 'aws_cloudwatch_event_rule', 'backup_failed_restores');
    const alarm = resource(tf, 'aws_cloudwatch_metric_alarm', 'monitoring_restore_tests_failed');
    for (const [v, n] of [
      ['true', 1],
      ['false', 0],
    ] as const) {
      expect(evaluate(unwrap(rule.count), { enable_backup_alarms: v })).toBe(n);
      expect(evaluate(unwrap(alarm.count), { enable_backup_alarms: v })).toBe(n);
    }
  });

  it.each([
    ['pmm-server', 'production', 'pmm_server_production_restore'],
    [
      'a2345678901234567890',
      'e2345678901234567890',
      'a2345678901234567890_e2345678901234567890_restore',
    ],
  ])(
    'names the plan for %s/%s with letters, digits and underscores, 50 at most (AWS rule)',
    (service, env, name) => {
      const values = { service_name: service, environment: env };
      const got = evaluate(`"${rtp.name}"`, values) as string;
      expect(got).toBe(name);
      expect(got).toMatch(/^[A-Za-z0-9_]{1,50}$/);
      const sel = evaluate(`"${rts.name}"`, values) as string;
      expect(sel).toMatch(/^[A-Za-z0-9_]{1,50}$/);
    },
  );
});

describe('vault lock evaluated by terraform', () => {
  const l = resource(tf, 'aws_backup_vault_lock_configuration', 'backup_vault_lock');
  const GOV = lock('mode = "governance", min_retention_days = 7, max_retention_days = 120');
  const COMP = lock('mode = "compliance", min_retention_days = 7, max_retention_days = 120');

  it('creates no lock by default and one when set', () => {
    expect(evaluate(unwrap(l.count))).toBe(0);
    expect(evaluate(unwrap(l.count), { backup_vault_lock: GOV })).toBe(1);
  });

  it('governance sends no changeable_for_days; compliance sends it (3 unless set)', () => {
    expect(evaluate(unwrap(l.changeable_for_days), { backup_vault_lock: GOV })).toBeNull();
    expect(evaluate(unwrap(l.changeable_for_days), { backup_vault_lock: COMP })).toBe(3);
    const comp30 = lock(
      'mode = "compliance", min_retention_days = 7, max_retention_days = 120, changeable_for_days = 30',
    );
    expect(evaluate(unwrap(l.changeable_for_days), { backup_vault_lock: comp30 })).toBe(30);
  });

  const preconditions = (values: Record<string, string>) =>
    (l.lifecycle.precondition as TfJson[]).map((p) => ({
      ok: evaluate(unwrap(p.condition), values),
      message: p.error_message as string,
    }));

  it('passes when every active rule lies in the lock range (weekly disabled: its retention does not count)', () => {
    const r = preconditions({
      backup_vault_lock: lock(
        'mode = "governance", min_retention_days = 7, max_retention_days = 60',
      ),
    });
    expect(r.map((x) => x.ok)).toEqual([true, true]);
  });

  it('fails the plan naming backup_retention_days when the daily retention is below the minimum', () => {
    const r = preconditions({
      backup_vault_lock: lock(
        'mode = "governance", min_retention_days = 31, max_retention_days = 365',
      ),
    });
    expect(r.filter((x) => !x.ok).map((x) => x.message)).toEqual([
      expect.stringContaining('backup_retention_days must lie between'),
    ]);
  });

  it('fails naming weekly_backup_retention_days when the enabled weekly rule exceeds the maximum', () => {
    const r = preconditions({
      enable_weekly_backup: 'true',
      backup_vault_lock: lock(
        'mode = "governance", min_retention_days = 7, max_retention_days = 60',
      ),
    });
    expect(r.filter((x) => !x.ok).map((x) => x.message)).toEqual([
      expect.stringContaining('weekly_backup_retention_days must lie between'),
    ]);
  });
});

/** Every validation block of a variable, evaluated by terraform for one value. */
function validationResults(name: string, value: string): boolean[] {
  const rules = tf.variable[name].validation as TfJson[];
  return rules.map((r) => evaluate(unwrap(r.condition), { [name]: value }) as boolean);
}

describe('new validations accept the values they promise to accept (bad values: scripts/verify/bad-inputs.ts)', () => {
  it.each([
    'cron(0 */6 ? * * *)',
    'cron(0 * ? * * *)',
    'cron(59 5 ? * * *)',
    'cron(15 0/4 ? * MON-FRI *)',
  ])('backup_schedule %s is accepted (at most hourly)', (v) => {
    expect(validationResults('backup_schedule', v)).toEqual([true, true, true]);
  });

  it.each(['cron(*/5 * ? * * *)', 'cron(0,30 * ? * * *)', 'cron(60 5 ? * * *)'])(
    'backup_schedule %s is rejected by the hourly rule',
    (v) => {
      // rules 0-1: AWS cron field ranges (awsCronRules); rule 2: at most hourly
      expect(validationResults('backup_schedule', v)[2]).toBe(false);
    },
  );

  it('accepts destinations with and without cold storage, including exactly cold + 90', () => {
    const edge = `{ destination_vault_arn = "${DR2}", retention_days = 120, cold_storage_after_days = 30 }`;
    expect(validationResults('backup_copy_destinations', copies(ONE, COLD))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(validationResults('backup_copy_destinations', copies(edge))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(validationResults('backup_copy_destinations', '[]')).toEqual([true, true, true, true]);
    const govCloud = `{ destination_vault_arn = "arn:aws-us-gov:backup:us-gov-west-1:111122223333:backup-vault:dr", retention_days = 30 }`;
    expect(validationResults('backup_copy_destinations', copies(govCloud))[0]).toBe(true);
  });

  it('accepts no lock, a governance lock and a compliance lock with the default 3 days', () => {
    for (const v of [
      'null',
      lock('mode = "governance", min_retention_days = 1, max_retention_days = 36500'),
      lock('mode = "compliance", min_retention_days = 30, max_retention_days = 30'),
    ]) {
      expect(validationResults('backup_vault_lock', v)).toEqual([true, true, true]);
    }
  });

  it('restore_testing_schedule accepts the default and rejects a word', () => {
    expect(validationResults('restore_testing_schedule', 'cron(0 7 1 * ? *)')).toEqual([
      true,
      true,
    ]);
    expect(validationResults('restore_testing_schedule', 'monthly')[0]).toBe(false);
    expect(validationResults('restore_testing_schedule', 'cron(0 7 1 * 1 *)')).toEqual([
      true,
      false,
    ]);
  });
});

describe('the emulator run covers the DR switches with values the module accepts', () => {
  it.each(Object.entries(EMULATOR_COVERAGE_INPUTS))(
    '%s: away from its default and valid',
    (name, { value }) => {
      const v = tf.variable[name] as TfJson;
      expect(v).toBeDefined();
      expect(value).not.toEqual(v.default);
      const literal = typeof value === 'string' ? value : JSON.stringify(value);
      const rules = (v.validation ?? []) as TfJson[];
      expect(rules.map((r) => evaluate(unwrap(r.condition), { [name]: literal }))).toEqual(
        rules.map(() => true),
      );
    },
  );

  it('keeps the vault lock in governance mode (compliance could never be removed at teardown)', () => {
    expect(EMULATOR_COVERAGE_INPUTS.backup_vault_lock.value).toMatchObject({ mode: 'governance' });
  });
});
