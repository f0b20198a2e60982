import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY2_BEGIN, DAY2_END, renderDay2Table, spliceDay2 } from '../scripts/day2-docs';
import { DAY2_CHANGES } from '../scripts/verify/day2-changes';
import {
  baselineInputs,
  checkRefused,
  classifyPlan,
  compareClass,
  matrixConfig,
  moduleRelative,
  planErrors,
} from '../scripts/verify/day2-matrix';
import { synthModule } from './helpers/synth';

describe('README "What each change does"', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

  it('is generated from the day-2 table (run `npm run docs` after changing it)', () => {
    expect(spliceDay2(readme, renderDay2Table(DAY2_CHANGES))).toBe(readme);
  });

  it('has one row per change, and refusals quote their message', () => {
    const section = readme.slice(readme.indexOf(DAY2_BEGIN), readme.indexOf(DAY2_END));
    expect(
      section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Change')),
    ).toHaveLength(DAY2_CHANGES.length);
    for (const r of DAY2_CHANGES.filter((x) => x.expect.kind === 'refused'))
      expect(section).toContain((r.expect as { message: string }).message);
  });
});

describe('the day-2 table', () => {
  const tf = synthModule();
  const resources = new Set(
    Object.entries(tf.resource as Record<string, object>).flatMap(([t, byName]) =>
      Object.keys(byName).map((n) => `${t}.${n}`),
    ),
  );

  it('covers every change issue 12 asks for', () => {
    const ids = DAY2_CHANGES.map((r) => r.id);
    for (const id of [
      'instance-size',
      'x86-family',
      'graviton',
      'ebs-size',
      'ebs-type',
      'pmm-version',
      'telemetry',
      'custom-queries',
      'dns-name-added',
      'dns-first-name-changed',
      'weekly-backup',
      'asg-added',
      'tags',
      'environment-rename',
      'service-name-rename',
      'subnet-az-change',
      'kms-key-change',
      'restore-same-az',
      'restore-other-az',
    ])
      expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names only resources the module has', () => {
    for (const r of DAY2_CHANGES) {
      if (r.expect.kind !== 'change') continue;
      for (const a of [
        ...(r.expect.replaces ?? []),
        ...(r.expect.creates ?? []),
        ...(r.expect.deletes ?? []),
      ])
        expect(`${r.id}: ${resources.has(a) ? 'ok' : a}`).toBe(`${r.id}: ok`);
    }
  });

  it('changes only module variables', () => {
    const ctx = {
      privateSubnetIds: ['subnet-a', 'subnet-b'],
      baseline: { monitored_asgs: [], tags: {} },
      snapshotId: 'snap-1',
      secondSnapshotId: 'snap-2',
      kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/x',
      secondAsg: { asg_name: 'a', security_group_id: 'sg-1' },
      region: 'us-east-1',
    };
    for (const r of DAY2_CHANGES)
      for (const k of Object.keys(r.inputs(ctx))) expect(Object.keys(tf.variable)).toContain(k);
  });
});

const change = (address: string, actions: string[], mode = 'managed') => ({
  address,
  mode,
  change: { actions },
});

describe('classifyPlan / compareClass', () => {
  const plan = {
    resource_changes: [
      change('module.pmm.aws_instance.pmm_host_instance', ['delete', 'create']),
      change('module.pmm.aws_ebs_volume.pmm_data_volume_volume["snap-1"]', ['create']),
      change('module.pmm.aws_ebs_volume.pmm_data_volume_volume["initial"]', ['update']),
      change('module.pmm.aws_lb_target_group_attachment.pmm_front_door_target', [
        'create',
        'delete',
      ]),
      change('module.pmm.aws_sns_topic.pmm_notifications_topic', ['delete']),
      change('module.pmm.data.aws_ami.pmm_host_ami', ['read'], 'data'),
      change('module.pmm.aws_lb.pmm_front_door_alb', ['no-op']),
    ],
  };

  it('sorts changes by kind, module-relative and without instance keys', () => {
    expect(moduleRelative('module.a.module.b.aws_x.y["k"]')).toBe('aws_x.y');
    expect(classifyPlan(plan)).toEqual({
      replaces: [
        'aws_instance.pmm_host_instance',
        'aws_lb_target_group_attachment.pmm_front_door_target',
      ],
      creates: ['aws_ebs_volume.pmm_data_volume_volume'],
      deletes: ['aws_sns_topic.pmm_notifications_topic'],
      updates: ['aws_ebs_volume.pmm_data_volume_volume'],
    });
  });

  it('fails a row on any unlisted replacement, creation or deletion', () => {
    const got = classifyPlan(plan);
    expect(compareClass(got, { kind: 'change' })).toHaveLength(3);
    expect(
      compareClass(got, {
        kind: 'change',
        replaces: [
          'aws_instance.pmm_host_instance',
          'aws_lb_target_group_attachment.pmm_front_door_target',
        ],
        creates: ['aws_ebs_volume.pmm_data_volume_volume'],
        deletes: ['aws_sns_topic.pmm_notifications_topic'],
      }),
    ).toEqual([]);
    // A listed replacement that does not happen fails too.
    expect(
      compareClass(classifyPlan({ resource_changes: [] }), {
        kind: 'change',
        replaces: ['aws_instance.pmm_host_instance'],
      }),
    ).toEqual(['replaces: expected [aws_instance.pmm_host_instance], plan has []']);
  });

  it('drops resources the emulator run leaves out from both sides', () => {
    const got = classifyPlan({ resource_changes: [] });
    expect(
      compareClass(
        got,
        { kind: 'change', replaces: ['aws_backup_selection.pmm_backup_selection'] },
        ['aws_backup_selection.pmm_backup_selection'],
      ),
    ).toEqual([]);
  });
});

describe('checkRefused', () => {
  const diag = (summary: string, detail: string) =>
    JSON.stringify({ type: 'diagnostic', diagnostic: { severity: 'error', summary, detail } });

  it('needs a failed plan whose error contains the message (line breaks ignored)', () => {
    const errors = planErrors(
      [
        '{"type":"version"}',
        diag('Resource precondition failed', 'kms_key_id differs\nfrom the key'),
      ].join('\n'),
    );
    expect(checkRefused(1, errors, 'kms_key_id differs from the key')).toEqual([]);
    expect(checkRefused(0, [], 'x')).toEqual(['the plan succeeded; expected it to be refused']);
    expect(checkRefused(1, errors, 'another message')[0]).toMatch(/^no error contains/);
  });

  it("fails when Terraform's generic prevent_destroy error appears", () => {
    const errors = planErrors(
      [
        diag('Resource precondition failed', 'kms_key_id differs'),
        diag('Instance cannot be destroyed', 'Resource x has lifecycle.prevent_destroy set'),
      ].join('\n'),
    );
    expect(checkRefused(1, errors, 'kms_key_id differs')).toEqual([
      "Terraform's generic prevent_destroy error appeared (the row must be refused earlier)",
    ]);
  });
});

describe('matrix configuration', () => {
  it('passes every module variable through, with the module defaults', () => {
    const tf = synthModule();
    const cfg = matrixConfig(tf, 'pmm', { region: 'us-east-1' });
    expect(Object.keys(cfg.variable).sort()).toEqual(Object.keys(tf.variable).sort());
    expect(cfg.variable.instance_type.default).toBe(tf.variable.instance_type.default);
    expect(cfg.variable.environment).not.toHaveProperty('default');
    expect(cfg.module.pmm.environment).toBe('${var.environment}');
    expect(cfg.module.pmm.source).toBe('../..');
  });

  it('takes the baseline from the first plan: literals and variables', () => {
    const plan = {
      variables: { region: { value: 'us-east-1' }, environment: { value: 'verify' } },
      configuration: {
        root_module: {
          module_calls: {
            pmm: {
              expressions: {
                tags: { constant_value: { team: 'dba' } },
                environment: { references: ['var.environment'] },
              },
            },
          },
        },
      },
    };
    expect(baselineInputs(plan, 'pmm')).toEqual({ tags: { team: 'dba' }, environment: 'verify' });
    expect(() => baselineInputs(plan, 'other')).toThrow('no module call "other"');
  });
});
