import { resource, synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

/**
 * Evaluates the synthesized plan-time expressions with real Terraform (`terraform console`,
 * no providers, no network) for different variable values.
 */
const tf = synthModule();
const unwrap = (expr: string) => expr.replace(/^\$\{/, '').replace(/\}$/, '');
const variables = Object.fromEntries(
  [
    'enable_weekly_backup',
    'backup_schedule',
    'backup_retention_days',
    'weekly_backup_schedule',
    'weekly_backup_retention_days',
    'ebs_volume_type',
    'backup_root_volume',
  ].map((v) => [v, tf.variable[v]]),
);

const evaluate = (expr: string, values: Record<string, string>): unknown =>
  terraformEval(expr, { variables, values });

describe('plan-time switches evaluated by terraform', () => {
  const plan = resource(tf, 'aws_backup_plan', 'backup_plan');
  const rules = `[for r in ${unwrap(plan.dynamic.rule.for_each)} : r]`;

  it('has only the daily rule by default and adds the weekly rule when enable_weekly_backup = true', () => {
    expect(evaluate(rules, {})).toEqual([
      { rule_name: 'daily', schedule: 'cron(0 5 ? * * *)', delete_after: 30 },
    ]);
    const both = evaluate(rules, { enable_weekly_backup: 'true' }) as { rule_name: string }[];
    expect(both).toContainEqual({
      rule_name: 'weekly',
      schedule: 'cron(0 6 ? * 1 *)',
      delete_after: 90,
    });
    expect(both).toHaveLength(2);
  });

  it.each([
    ['gp2', 1],
    ['gp3', 0],
    ['io1', 0],
    ['io2', 0],
  ])('creates %s volumes %i burst balance alarm(s)', (type, count) => {
    const alarm = resource(tf, 'aws_cloudwatch_metric_alarm', 'data_volume_burst_balance_low');
    expect(evaluate(unwrap(alarm.count), { ebs_volume_type: type })).toBe(count);
  });

  it('selects the root volume only when backup_root_volume = true', () => {
    const sel = resource(tf, 'aws_backup_selection', 'backup_selection');
    // Stand-ins for the volume ARNs, which only exist after apply.
    // Stand-ins for the volume ARNs, which only exist after apply (whatever form they take).
    const expr = unwrap(sel.resources)
      .replace(/^concat\(\[.*?\], /, 'concat(["data"], ')
      .replace(/\? \[.*\] : \[\]\)$/, '? ["root"] : [])');
    expect(expr).toBe('concat(["data"], var.backup_root_volume ? ["root"] : [])');
    expect(evaluate(expr, {})).toEqual(['data']);
    expect(evaluate(expr, { backup_root_volume: 'true' })).toEqual(['data', 'root']);
  });
});
