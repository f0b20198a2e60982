import { BAD_INPUTS } from '../scripts/verify/bad-inputs';
import { synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

/**
 * The monitored_rds validation blocks, evaluated by real Terraform: every bad-input row
 * breaks exactly the block it names (and only that one), and a good list passes them all.
 * (`npm run verify` also plans each row and checks the printed message.)
 */
const tf = synthModule();
const v = tf.variable.monitored_rds;
const rules: { condition: string; error_message: string }[] = v.validation;
const check = (value: unknown): boolean[] =>
  terraformEval(`[${rules.map((r) => r.condition.slice(2, -1)).join(', ')}]`, {
    variables: { monitored_rds: { type: v.type, default: [] } },
    values: { monitored_rds: JSON.stringify(value) },
  }) as boolean[];

describe('monitored_rds validation', () => {
  it('accepts a good list (instance and cluster, defaults, labels, port)', () => {
    const good = [
      {
        identifier: 'orders-db',
        engine: 'mysql',
        username: 'pmm',
        password_secret_arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-AbC',
      },
      {
        identifier: 'aurora-pg',
        engine: 'postgresql',
        username: 'pmm_user',
        password_secret_arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:b-AbC',
        port: 5433,
        query_source: 'none',
        custom_labels: { team: 'data' },
      },
    ];
    expect(check(good).every(Boolean)).toBe(true);
    expect(check([]).every(Boolean)).toBe(true);
  });

  it.each(
    BAD_INPUTS.monitored_rds.map((b) => [JSON.stringify(b.value), b.rule ?? 0, b.value] as const),
  )('%s breaks rule %i only', (_j, rule, value) => {
    const result = check(value);
    expect(result[rule]).toBe(false);
    expect(result.filter((ok) => !ok)).toHaveLength(1);
  });

  it('every message names the variable', () => {
    for (const r of rules) expect(r.error_message).toMatch(/^monitored_rds\[\*\]\./);
  });
});
