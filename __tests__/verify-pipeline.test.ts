import { BAD_INPUTS, badInputCases } from '../scripts/verify/bad-inputs';
import { classify, unusedSkips } from '../scripts/verify/lib/checkov';
import { EMULATOR_DRIFT } from '../scripts/verify/emulator-gaps';
import {
  compareVersions,
  moduleBlocksWithSource,
  terraformEnv,
} from '../scripts/verify/lib/terraform';
import {
  excludeWithDependents,
  preventDestroyResources,
  validatedVariables,
} from '../scripts/verify/lib/tf-json';
import { documentsContaining } from '../scripts/verify/lib/secret-canary';
import { synthModule } from './helpers/synth';

describe('bad-input table (scripts/verify/bad-inputs.ts)', () => {
  it('has a bad value for every validation block of every validated module variable', () => {
    const { problems, cases } = badInputCases(synthModule());
    expect(problems).toEqual([]);
    const covered = new Set(cases.map((c) => `${c.variable}#${c.rule}`));
    for (const v of validatedVariables(synthModule())) {
      for (const r of v.rules) expect(covered).toContain(`${v.name}#${r.index}`);
    }
  });

  it('reports a new validated variable without a bad value, and entries for unvalidated ones', () => {
    const tf = {
      variable: {
        fresh: { type: 'string', validation: [{ condition: '${true}', error_message: 'fresh!' }] },
        plain: { type: 'string' },
      },
    };
    const { problems, cases } = badInputCases(tf, { plain: [{ value: 'x' }] });
    expect(cases).toEqual([]);
    expect(problems.join('\n')).toMatch(/"fresh" validation #0 \("fresh!"\) has no bad value/);
    expect(problems.join('\n')).toMatch(/values for "plain", which has no validation block/);
  });

  it('takes the expected message from the module JSON, per validation block', () => {
    const { cases } = badInputCases(synthModule(), BAD_INPUTS);
    const port = cases.find((c) => c.variable === 'monitored_asgs' && c.rule === 1)!;
    expect(port.expectedMessage).toBe(
      synthModule().variable.monitored_asgs.validation[1].error_message,
    );
  });
});

describe('emulator helpers', () => {
  it('leaves out a resource type together with everything that depends on it', () => {
    const tf = {
      resource: {
        aws_a: { one: {} },
        aws_b: { two: { x: '${aws_a.one.id}' } },
        aws_c: { three: { y: '${aws_b.two.arn}' } },
        aws_d: { four: {} },
      },
    };
    expect(excludeWithDependents(tf, ['aws_a'])).toEqual({
      kept: ['aws_d.four'],
      excluded: ['aws_a.one', 'aws_b.two', 'aws_c.three'],
    });
  });

  it('finds the data volume as the prevent_destroy resource of the module', () => {
    expect(preventDestroyResources(synthModule())).toContain(
      'aws_ebs_volume.pmm_data_volume_volume',
    );
  });

  it('finds the caller module block', () => {
    const hcl = `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
module "pmm" {
  source = "../.."
  environment = var.environment
}
`;
    expect(moduleBlocksWithSource(hcl, '../..')).toEqual(['pmm']);
  });
});

describe('checkov classification', () => {
  const report = {
    results: {
      passed_checks: [{}, {}],
      failed_checks: [
        { check_id: 'CKV_1', check_name: 'one', resource: 'resource.vol', file_path: '/a' },
        {
          check_id: 'CKV_2',
          check_name: 'two',
          resource: 'module.pmm.aws_lb.alb',
          file_path: '/p',
        },
        { check_id: 'CKV_2', check_name: 'two', resource: 'aws_lb.other', file_path: '/p' },
      ],
    },
  };
  const skips = [
    { id: 'CKV_1', resources: ['aws_ebs_volume.vol'], reason: 'because of the design' },
    { id: 'CKV_2', resources: ['aws_lb.alb'], reason: 'because of the design' },
    { id: 'CKV_9', reason: 'never matches anything at all' },
  ];

  it('counts a failed check as skipped only for the resources its skip names', () => {
    const sum = classify(report, skips);
    expect(sum.passed).toBe(2);
    expect(sum.skipped.map((s) => s.resource)).toEqual(['resource.vol', 'module.pmm.aws_lb.alb']);
    expect(sum.failed.map((f) => f.resource)).toEqual(['aws_lb.other']);
    expect(unusedSkips(skips, [sum]).map((s) => s.id)).toEqual(['CKV_9']);
  });

  it('applies a skip scoped to one scan only to that scan', () => {
    const scoped = [
      { id: 'CKV_1', reason: 'variable not evaluated in synth JSON', scan: 'synth' as const },
    ];
    expect(classify(report, scoped, 'synth').skipped).toHaveLength(1);
    expect(classify(report, scoped, 'plan').skipped).toHaveLength(0);
    expect(classify(report, scoped, 'plan').failed).toHaveLength(3);
  });
});

describe('verify helpers', () => {
  it('orders provider versions numerically, so the lowest mirror version is picked', () => {
    expect(['5.99.0', '5.100.0', '6.0.0', '5.9.1'].sort(compareVersions)).toEqual([
      '5.9.1',
      '5.99.0',
      '5.100.0',
      '6.0.0',
    ]);
  });

  it('accepts description drift only for rules that reference a security group', () => {
    for (const type of [
      'aws_vpc_security_group_ingress_rule',
      'aws_vpc_security_group_egress_rule',
    ]) {
      const drift = EMULATOR_DRIFT[type];
      expect(drift.appliesTo?.({ referenced_security_group_id: 'sg-0123456789abcdef0' })).toBe(
        true,
      );
      expect(
        drift.appliesTo?.({ referenced_security_group_id: null, cidr_ipv4: '0.0.0.0/0' }),
      ).toBe(false);
    }
  });

  it("runs terraform without the caller's TF_VAR_* inputs or TF_CLI_ARGS flags", () => {
    const saved = { ...process.env };
    process.env.TF_VAR_environment = 'from-the-shell';
    process.env.TF_CLI_ARGS_plan = '-refresh=false';
    try {
      const env = terraformEnv('/tmp/cli.tfrc');
      expect(env.TF_VAR_environment).toBeUndefined();
      expect(env.TF_CLI_ARGS_plan).toBeUndefined();
      expect(env.TF_CLI_CONFIG_FILE).toBe('/tmp/cli.tfrc');
    } finally {
      process.env = saved;
    }
  });
});

describe('admin password canary (scripts/verify/lib/secret-canary.ts)', () => {
  const secret = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4f';

  it('finds the password raw, JSON-escaped or base64-encoded, and names the document', () => {
    const docs = [
      { name: 'plan', text: `{"after":{"secret_string":"${secret}"}}` },
      { name: 'state', text: JSON.stringify({ v: Buffer.from(secret).toString('base64') }) },
      { name: 'clean', text: '{"secret_string_wo_version":1,"has_secret_string_wo":true}' },
    ];
    expect(documentsContaining(secret, docs)).toEqual(['plan', 'state']);
  });

  it('finds a password with characters JSON escapes', () => {
    const odd = 'abc"def\\ghi/jkl0123456789';
    expect(documentsContaining(odd, [{ name: 's', text: JSON.stringify({ x: odd }) }])).toEqual([
      's',
    ]);
  });

  it('refuses an empty or short canary instead of passing vacuously', () => {
    expect(() => documentsContaining('', [{ name: 'x', text: 'anything' }])).toThrow(/too short/);
    expect(() => documentsContaining('abc', [{ name: 'x', text: 'abc' }])).toThrow(/too short/);
  });
});
