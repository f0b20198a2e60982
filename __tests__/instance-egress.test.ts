import { resource, synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const tf = synthModule();
const rule = (name: string) => resource(tf, 'aws_vpc_security_group_egress_rule', name);
const VARS = {
  instance_egress_cidr_blocks: { type: 'list(string)', default: null },
  rds_security_group_ids: { type: 'list(string)' },
};
const evalWith = (expr: string, egress: string) =>
  terraformEval(expr, {
    variables: VARS,
    values: {
      instance_egress_cidr_blocks: egress,
      rds_security_group_ids: '["sg-0123456789abcdef0"]',
    },
  });

describe('instance egress: open by default, allow-list when set (issue 13)', () => {
  it('null (default): the two open rules and nothing else, at the pre-existing addresses', () => {
    expect(evalWith(rule('pmm_network_instance_all_out_ipv4').count, 'null')).toBe(1);
    expect(evalWith(rule('pmm_network_instance_all_out_ipv6').count, 'null')).toBe(1);
    expect(evalWith(rule('pmm_network_instance_out_allowed').for_each, 'null')).toEqual([]);
    expect(evalWith(rule('pmm_network_instance_mysql_to_rds').for_each, 'null')).toEqual([]);
    expect(tf.variable.instance_egress_cidr_blocks.default).toBeNull();
  });

  it('a list: no open rule, one rule per block, and PostgreSQL/MySQL to each RDS group', () => {
    const list = '["10.0.0.0/16", "192.168.1.0/24"]';
    expect(evalWith(rule('pmm_network_instance_all_out_ipv4').count, list)).toBe(0);
    expect(evalWith(rule('pmm_network_instance_all_out_ipv6').count, list)).toBe(0);
    expect(evalWith(rule('pmm_network_instance_out_allowed').for_each, list)).toEqual([
      '10.0.0.0/16',
      '192.168.1.0/24',
    ]);
    for (const engine of ['mysql', 'postgresql']) {
      const r = rule(`pmm_network_instance_${engine}_to_rds`);
      expect(evalWith(r.for_each, list)).toEqual(['sg-0123456789abcdef0']);
      expect(r.referenced_security_group_id).toBe('${each.value}');
    }
    expect(rule('pmm_network_instance_out_allowed').cidr_ipv4).toBe('${each.value}');
  });

  it('rejects an empty list, host bits and IPv6 at plan time, with the variable named', () => {
    const v = tf.variable.instance_egress_cidr_blocks.validation[0];
    const ok = (value: string) =>
      terraformEval(v.condition, {
        variables: VARS,
        values: { instance_egress_cidr_blocks: value },
      });
    expect(ok('null')).toBe(true);
    expect(ok('["10.0.0.0/8"]')).toBe(true);
    expect(ok('[]')).toBe(false);
    expect(ok('["10.0.0.1/16"]')).toBe(false);
    expect(ok('["::/0"]')).toBe(false);
    expect(v.error_message).toMatch(/^instance_egress_cidr_blocks must be null/);
  });

  it('log_kms_key_id encrypts both log groups when set', () => {
    for (const g of ['pmm_logs_log_group', 'pmm_reconciler_log_group']) {
      expect(resource(tf, 'aws_cloudwatch_log_group', g).kms_key_id).toBe('${var.log_kms_key_id}');
    }
  });
});
