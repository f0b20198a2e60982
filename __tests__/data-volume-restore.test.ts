/**
 * Declarative restore and AZ move (issue 12 item 5): the data volume's generations, evaluated
 * by real Terraform from the synthesized expressions, with the discovered volumes, the inputs
 * and the restore snapshot replaced by variables. The emulator proves the same end to end
 * (scripts/verify/day2-changes.ts rows restore-*, subnet-az-change, kms-key-change ...).
 */
import { Testing, TerraformStack } from 'cdktf';
import { DataVolume } from '../constructs/data-volume';
import { MODULE_VARIABLES } from '../stacks/module-variables';
import { resource, synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const tf = synthModule();
const volume = resource(tf, 'aws_ebs_volume', 'data_volume_volume');
/** The generation checks (the EBS combination checks are tested in data-volume.test.ts). */
const preconditions = (
  volume.lifecycle.precondition as { condition: string; error_message: string }[]
).filter((p) => p.condition.includes('local.pmm_data_volume_'));

/** The synthesized text with the data sources, the inputs and each.key as variables. */
function rewire(expr: string): string {
  return expr
    .replace(/^\$\{/, '')
    .replace(/\}$/, '')
    .replaceAll('local.pmm_data_volume_inputs', 'var.inputs')
    .replaceAll('data.aws_ebs_volume.pmm_data_volume_known', 'var.known')
    .replaceAll('data.aws_ebs_snapshot.pmm_data_volume_restore_snapshot', 'var.snap')
    .replaceAll('each.key', 'var.each_key');
}

interface Known {
  az: string;
  size?: number;
  type?: string;
  snapshot?: string;
  tags: Record<string, string>;
}

interface Scenario {
  snapshot?: string | null;
  az?: string;
  size?: number;
  type?: string;
  kms?: string | null;
  region?: string;
  /** Discovered volumes by id. */
  known?: Record<string, Known>;
  /** The restore snapshot data source (present only while its volume does not exist). */
  snapVolumeSize?: number;
}

const hcl = (v: unknown): string => {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(hcl).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${JSON.stringify(k)} = ${hcl(x)}`)
    .join(', ')}}`;
};

function values(s: Scenario, eachKey?: string) {
  const inputs = {
    prefix: 'pmm-server-prod',
    az: s.az ?? 'us-east-1a',
    size: s.size ?? 100,
    type: s.type ?? 'gp3',
    iops: 3000,
    throughput: 125,
    kms_key_id: s.kms ?? null,
    snapshot: s.snapshot ?? null,
    region: s.region ?? 'us-east-1',
  };
  const known = Object.fromEntries(
    Object.entries(s.known ?? {}).map(([id, k]) => [
      id,
      {
        id,
        availability_zone: k.az,
        size: k.size ?? 100,
        volume_type: k.type ?? 'gp3',
        iops: 3000,
        throughput: 125,
        snapshot_id: k.snapshot ?? '',
        kms_key_id: 'arn:aws:kms:us-east-1:123456789012:key/aws-ebs',
        tags: k.tags,
      },
    ]),
  );
  const snap = s.snapVolumeSize === undefined ? [] : [{ volume_size: s.snapVolumeSize }];
  return { inputs: hcl(inputs), known: hcl(known), snap: hcl(snap), each_key: hcl(eachKey ?? '') };
}

const variables = {
  inputs: { type: 'any' },
  known: { type: 'any' },
  snap: { type: 'any' },
  each_key: { type: 'any' },
};
const locals = {
  pmm_data_volume_generations: `\${${rewire(tf.locals.pmm_data_volume_generations)}}`,
  pmm_data_volume_volumes: `\${${rewire(tf.locals.pmm_data_volume_volumes)}}`,
};

/** The volumes Terraform would manage: generation key -> attributes. */
function volumes(s: Scenario): Record<string, Record<string, unknown>> {
  return terraformEval('local.pmm_data_volume_volumes', {
    variables,
    values: values(s),
    locals,
  }) as Record<string, Record<string, unknown>>;
}

/** The error messages of the data volume preconditions failing for the given instance key. */
function refusals(s: Scenario, eachKey: string): string[] {
  const list = preconditions.map((p) => rewire(p.condition));
  const results = terraformEval(`[${list.join(', ')}]`, {
    variables,
    values: values(s, eachKey),
    locals,
  }) as boolean[];
  return preconditions.filter((_, i) => !results[i]).map((p) => p.error_message);
}

const inUse = (generation: string, extra: Record<string, string> = {}) => ({
  'pmm:deployment': 'pmm-server-prod',
  'pmm:volume': 'data',
  'pmm:data-volume-generation': generation,
  'pmm:data-volume-state': 'in-use',
  'pmm:data-volume-kms-key': 'aws/ebs',
  Name: 'pmm-server-prod-data',
  ...extra,
});
const detached = (generation: string) => ({
  ...inUse(generation),
  'pmm:data-volume-state': 'detached',
});

/** The deployment after its first apply: one blank volume in us-east-1a. */
const FIRST = { 'vol-0000000000000aaaa': { az: 'us-east-1a', tags: inUse('initial') } };
const SNAP_A = 'snap-0123456789abcdef0';
const SNAP_B = 'snap-0fedcba9876543210';

describe('data volume generations', () => {
  it('first apply: one blank volume, in use, from the variables', () => {
    const v = volumes({});
    expect(Object.keys(v)).toEqual(['initial']);
    expect(v.initial).toMatchObject({
      az: 'us-east-1a',
      size: 100,
      type: 'gp3',
      snapshot_id: null,
    });
    expect(v.initial.tags).toMatchObject({
      'pmm:data-volume-generation': 'initial',
      'pmm:data-volume-state': 'in-use',
      'pmm:data-volume-kms-key': 'aws/ebs',
      'pmm:deployment': 'pmm-server-prod',
    });
    expect(refusals({}, 'initial')).toEqual([]);
  });

  it('second apply without changes keeps the same single generation (no new volume)', () => {
    expect(Object.keys(volumes({ known: FIRST }))).toEqual(['initial']);
    expect(refusals({ known: FIRST }, 'initial')).toEqual([]);
  });

  it('a restore adds a generation from the snapshot and keeps the old volume, frozen and detached', () => {
    // Size and type changed in the same apply: they go to the new volume only.
    const v = volumes({
      known: FIRST,
      snapshot: SNAP_A,
      size: 200,
      type: 'io2',
      snapVolumeSize: 100,
    });
    expect(Object.keys(v).sort()).toEqual(['initial', SNAP_A]);
    expect(v[SNAP_A]).toMatchObject({
      snapshot_id: SNAP_A,
      az: 'us-east-1a',
      size: 200,
      type: 'io2',
    });
    expect(v.initial).toMatchObject({
      snapshot_id: null,
      size: 100,
      type: 'gp3',
      az: 'us-east-1a',
    });
    expect(v.initial.tags).toMatchObject({ 'pmm:data-volume-state': 'detached' });
    expect(refusals({ known: FIRST, snapshot: SNAP_A, snapVolumeSize: 100 }, SNAP_A)).toEqual([]);
  });

  it('accepts an AWS Backup recovery point ARN as the same generation as its snapshot id', () => {
    const arn = `arn:aws:ec2:us-east-1::snapshot/${SNAP_A}`;
    const v = volumes({ known: FIRST, snapshot: arn, snapVolumeSize: 100 });
    expect(Object.keys(v).sort()).toEqual(['initial', SNAP_A]);
    expect(v[SNAP_A].snapshot_id).toBe(SNAP_A);
    expect(refusals({ known: FIRST, snapshot: arn, snapVolumeSize: 100 }, SNAP_A)).toEqual([]);
  });

  it('moves to another AZ with a snapshot: the new volume is in the new AZ, the old stays where it is', () => {
    const s = { known: FIRST, snapshot: SNAP_A, az: 'us-east-1b', snapVolumeSize: 100 };
    const v = volumes(s);
    expect(v[SNAP_A].az).toBe('us-east-1b');
    expect(v.initial.az).toBe('us-east-1a');
    expect(refusals(s, SNAP_A)).toEqual([]);
    expect(refusals(s, 'initial')).toEqual([]);
  });

  it('refuses an AZ change without a snapshot, naming private_subnet_ids and data_volume_snapshot_id', () => {
    const errors = refusals({ known: FIRST, az: 'us-east-1b' }, 'initial');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^private_subnet_ids\[0\] is in another Availability Zone/);
    expect(errors[0]).toContain('data_volume_snapshot_id');
    expect(errors[0]).toContain('docs/recovery.md');
  });

  it('refuses a kms_key_id change without a snapshot, and allows it with one', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const errors = refusals({ known: FIRST, kms: key }, 'initial');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^kms_key_id differs/);
    expect(errors[0]).toContain('data_volume_snapshot_id');
    const s = { known: FIRST, kms: key, snapshot: SNAP_A, snapVolumeSize: 100 };
    expect(refusals(s, SNAP_A)).toEqual([]);
    expect(volumes(s)[SNAP_A].tags).toMatchObject({ 'pmm:data-volume-kms-key': key });
  });

  it('refuses switching back to a detached generation (variable removed after a restore)', () => {
    const known = {
      'vol-0000000000000aaaa': { az: 'us-east-1a', tags: detached('initial') },
      'vol-0000000000000bbbb': { az: 'us-east-1a', snapshot: SNAP_A, tags: inUse(SNAP_A) },
    };
    const errors = refusals({ known, snapshot: null }, 'initial');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^data_volume_snapshot_id selects a data volume that is detached/);
    // ... and the volume in use is kept in the map anyway: nothing would be destroyed.
    expect(Object.keys(volumes({ known, snapshot: null })).sort()).toEqual(['initial', SNAP_A]);
  });

  it('never drops a known volume from the map, whatever the inputs (no planned destroy)', () => {
    const known = {
      'vol-0000000000000aaaa': { az: 'us-east-1a', tags: detached('initial') },
      'vol-0000000000000bbbb': { az: 'us-east-1a', snapshot: SNAP_A, tags: detached(SNAP_A) },
      'vol-0000000000000cccc': { az: 'us-east-1b', snapshot: SNAP_B, tags: inUse(SNAP_B) },
    };
    for (const snapshot of [null, SNAP_A, SNAP_B, 'snap-0aaaaaaaaaaaaaaaa']) {
      for (const az of ['us-east-1a', 'us-east-1b']) {
        const keys = Object.keys(volumes({ known, snapshot, az }));
        expect(keys).toEqual(expect.arrayContaining(['initial', SNAP_A, SNAP_B]));
      }
    }
  });

  it('ignores volumes without a generation tag, and survives two volumes claiming one generation', () => {
    const known = {
      ...FIRST,
      'vol-0000000000000dddd': { az: 'us-east-1a', tags: { 'pmm:deployment': 'pmm-server-prod' } },
      'vol-0000000000000eeee': { az: 'us-east-1a', tags: inUse('initial') },
    };
    expect(Object.keys(volumes({ known }))).toEqual(['initial']);
  });

  it('refuses a recovery point from another region, naming data_volume_snapshot_id', () => {
    const s = {
      known: FIRST,
      snapshot: `arn:aws:ec2:eu-west-1::snapshot/${SNAP_A}`,
      snapVolumeSize: 100,
    };
    expect(refusals(s, SNAP_A)).toEqual([
      expect.stringMatching(/^data_volume_snapshot_id is a recovery point in another region/),
    ]);
  });

  it('refuses a volume smaller than the snapshot, naming ebs_volume_size', () => {
    const s = { known: FIRST, snapshot: SNAP_A, size: 50, snapVolumeSize: 100 };
    expect(refusals(s, SNAP_A)).toEqual([
      expect.stringMatching(/^ebs_volume_size is smaller than the snapshot/),
    ]);
  });

  it('checks nothing on detached generations (their attributes are frozen, not the variables)', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    expect(
      refusals(
        { known: FIRST, snapshot: SNAP_A, az: 'us-east-1b', kms: key, snapVolumeSize: 100 },
        'initial',
      ),
    ).toEqual([]);
  });
});

describe('data volume resource', () => {
  it('has the five generation checks next to the EBS combination checks', () => {
    expect(preconditions).toHaveLength(5);
  });

  it('keeps the literal prevent_destroy on every generation', () => {
    expect(volume.lifecycle.prevent_destroy).toBe(true);
    expect(volume.for_each).toBe('${local.pmm_data_volume_volumes}');
  });

  it('reads the restore snapshot only while its volume does not exist yet (expired recovery points)', () => {
    const snap = tf.data.aws_ebs_snapshot.pmm_data_volume_restore_snapshot;
    const count = (s: Scenario) =>
      terraformEval(rewire(snap.count), { variables, values: values(s), locals });
    expect(count({})).toBe(0);
    expect(count({ known: FIRST, snapshot: SNAP_A })).toBe(1);
    const restored = {
      ...FIRST,
      'vol-0000000000000bbbb': { az: 'us-east-1a', tags: inUse(SNAP_A) },
    };
    expect(count({ known: restored, snapshot: SNAP_A })).toBe(0);
  });

  it('finds its volumes by deployment and data tags only', () => {
    const found = tf.data.aws_ebs_volumes.pmm_data_volume_discovered;
    expect(found.filter).toEqual([
      { name: 'tag:pmm:deployment', values: ['${var.service_name}-${var.environment}'] },
      { name: 'tag:pmm:volume', values: ['data'] },
    ]);
  });

  it('attaches, backs up and names the current generation; outputs the detached ones', () => {
    expect(tf.locals.pmm_data_volume_current_id).toBe(
      '${aws_ebs_volume.pmm_data_volume_volume[local.pmm_data_volume_generations.current].id}',
    );
    expect(tf.locals.pmm_data_volume_current_arn).toBe(
      '${aws_ebs_volume.pmm_data_volume_volume[local.pmm_data_volume_generations.current].arn}',
    );
    expect(resource(tf, 'aws_volume_attachment', 'data_volume_attachment').volume_id).toBe(
      '${local.pmm_data_volume_current_id}',
    );
    expect(resource(tf, 'aws_backup_selection', 'backup_selection').resources).toContain(
      '[local.pmm_data_volume_current_arn]',
    );
    expect(tf.output.ebs_volume_id.value).toBe('${local.pmm_data_volume_current_id}');
    expect(tf.locals.pmm_data_volume_detached_ids).toBe(
      '${[for k, v in aws_ebs_volume.pmm_data_volume_volume : v.id if k != local.pmm_data_volume_generations.current]}',
    );
    expect(tf.output.detached_data_volume_ids.value).toBe('${local.pmm_data_volume_detached_ids}');
  });

  it('moves a volume from before generations to the "initial" key (no replacement on upgrade)', () => {
    expect(tf.moved).toContainEqual({
      from: 'aws_ebs_volume.pmm_data_volume_volume',
      to: 'aws_ebs_volume.pmm_data_volume_volume["initial"]',
    });
  });

  it('does not replace the initial snapshot on a restore', () => {
    const snapshot = resource(tf, 'aws_ebs_snapshot', 'data_volume_initial_snapshot');
    expect(snapshot.lifecycle.ignore_changes).toEqual(['volume_id', 'description']);
  });
});

describe('data_volume_snapshot_id', () => {
  const rule = MODULE_VARIABLES.data_volume_snapshot_id.rules[0];
  const valid = (value: string) =>
    terraformEval(rule.expr, {
      variables: { data_volume_snapshot_id: { type: 'any' } },
      values: { data_volume_snapshot_id: value },
    });

  it.each([
    'null',
    'snap-0123456789abcdef0',
    'snap-01234567',
    'arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0',
    'arn:aws-cn:ec2:cn-north-1::snapshot/snap-0123456789abcdef0',
  ])('accepts %s', (v) => {
    expect(valid(v === 'null' ? 'null' : JSON.stringify(v))).toBe(true);
  });

  it.each([
    'vol-0123456789abcdef0',
    'snap-XYZ',
    'arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7',
    'arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0',
    'arn:aws:ec2:us-east-1:123456789012:snapshot/snap-0123456789abcdef0',
  ])('rejects %s', (v) => {
    expect(valid(JSON.stringify(v))).toBe(false);
  });

  it('rejects a literal prop that is not a snapshot reference at synth', () => {
    const stack = new TerraformStack(Testing.app(), 'bad');
    expect(
      () =>
        new DataVolume(stack, 'dv', {
          namePrefix: 'x',
          availabilityZone: 'eu-west-1a',
          sizeGiB: 100,
          volumeType: 'gp3',
          iops: 3000,
          throughputMiBps: 125,
          createInitialSnapshot: false,
          snapshotId: 'vol-0123456789abcdef0',
        }),
    ).toThrow('DataVolume: invalid prop "snapshotId"');
  });
});
