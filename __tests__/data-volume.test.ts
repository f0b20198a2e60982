import { Testing, TerraformStack } from 'cdktf';
import { DataVolume } from '../constructs/data-volume';
import { resource, synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const tf = synthModule();
const volume = resource(tf, 'aws_ebs_volume', 'data_volume_volume');
const inputs = tf.locals.pmm_data_volume_inputs as Record<string, string>;

/** A synthesized expression evaluated by real Terraform for these variable values. */
function evaluate(expression: string, vars: Record<string, string | number>): unknown {
  const variables = Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [
      k,
      { type: typeof v === 'number' ? 'number' : 'string' },
    ]),
  );
  return terraformEval(expression, { variables, values: vars });
}

describe('data volume', () => {
  it('is always encrypted, with the key, AZ, size and type of its generation', () => {
    // The current generation takes these from the variables (data-volume-restore.test.ts).
    expect(volume.encrypted).toBe(true);
    expect(volume.kms_key_id).toBe('${each.value.kms_key_id}');
    expect(volume.availability_zone).toBe('${each.value.az}');
    expect(volume.size).toBe('${each.value.size}');
    expect(volume.type).toBe('${each.value.type}');
    expect(inputs).toMatchObject({
      kms_key_id: '${var.kms_key_id}',
      az: '${data.aws_subnet.pmm_network_instance_subnet.availability_zone}',
      size: '${var.ebs_volume_size}',
      type: '${var.ebs_volume_type}',
    });
  });

  it('can never be destroyed by Terraform (literal prevent_destroy)', () => {
    expect(volume.lifecycle.prevent_destroy).toBe(true);
    expect(Object.keys(volume.lifecycle).sort()).toEqual(['precondition', 'prevent_destroy']);
  });

  describe('plan-time checks of EBS combinations', () => {
    // The EBS combination checks (the generation checks: data-volume-restore.test.ts).
    const preconditions = (
      volume.lifecycle.precondition as { condition: string; error_message: string }[]
    ).filter((p) => !p.condition.includes('local.pmm_data_volume_'));

    /** The error messages of the preconditions that fail for these variables (real Terraform). */
    function failing(type: string, size: number, iops: number, throughput: number): string[] {
      const list = preconditions.map((p) => p.condition.replace(/^\$\{/, '').replace(/\}$/, ''));
      const results = evaluate(`[${list.join(', ')}]`, {
        ebs_volume_type: type,
        ebs_volume_size: size,
        ebs_iops: iops,
        ebs_throughput: throughput,
      }) as boolean[];
      expect(results).toHaveLength(preconditions.length);
      return preconditions.filter((_, i) => !results[i]).map((p) => p.error_message);
    }

    it.each([
      ['gp3 defaults', 'gp3', 100, 3000, 125],
      ['gp3 at its limits', 'gp3', 32, 16000, 1000],
      ['gp3 throughput at iops/4', 'gp3', 8, 4000, 1000],
      ['gp2 ignores iops and throughput', 'gp2', 1, 64000, 1000],
      ['io1 at 50 IOPS/GiB', 'io1', 100, 5000, 125],
      ['io1 at 64000 IOPS', 'io1', 2000, 64000, 125],
      ['io2 at 1000 IOPS/GiB', 'io2', 4, 4000, 125],
      ['io2 at 64000 IOPS', 'io2', 100, 64000, 125],
    ])('accepts %s', (_, type, size, iops, throughput) => {
      expect(failing(type as string, size as number, iops as number, throughput as number)).toEqual(
        [],
      );
    });

    it.each([
      ['gp3 below 3000 IOPS', 'gp3', 100, 2999, 125, 'needs ebs_iops from 3000 to 16000'],
      ['gp3 above 16000 IOPS', 'gp3', 1000, 16001, 125, 'needs ebs_iops from 3000 to 16000'],
      ['gp3 over 500 IOPS/GiB', 'gp3', 7, 3501, 125, 'ebs_iops must be <= 500 x ebs_volume_size'],
      [
        'gp3 throughput over iops/4',
        'gp3',
        100,
        3000,
        751,
        'ebs_throughput must be <= ebs_iops / 4',
      ],
      ['io1 over 50 IOPS/GiB', 'io1', 100, 5001, 125, '"io1" needs ebs_volume_size >= 4 GiB'],
      ['io1 under 4 GiB', 'io1', 3, 100, 125, '"io1" needs ebs_volume_size >= 4 GiB'],
      ['io2 over 1000 IOPS/GiB', 'io2', 4, 4001, 125, '"io2" needs ebs_volume_size >= 4 GiB'],
      ['io2 under 4 GiB', 'io2', 3, 100, 125, '"io2" needs ebs_volume_size >= 4 GiB'],
    ])('rejects %s with a message naming the variables', (_, type, size, iops, tp, message) => {
      const errors = failing(type as string, size as number, iops as number, tp as number);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(message);
    });
  });

  it('is tagged for backup', () => {
    expect(tf.locals.pmm_data_volume_volumes).toContain('Backup = "true"');
    expect(tf.locals.pmm_data_volume_volumes).toContain(
      'Name = "${local.pmm_data_volume_inputs.prefix}-data"',
    );
    expect(inputs.prefix).toBe('${var.service_name}-${var.environment}');
    expect(volume.tags).toContain('each.value.tags');
  });

  it.each([
    ['gp3', 3000, 125],
    ['gp2', null, null],
    ['io1', 3000, null],
    ['io2', 3000, null],
  ])('%s gets IOPS %s and throughput %s at plan time', (type, iops, throughput) => {
    const vars = { ebs_volume_type: type, ebs_iops: 3000, ebs_throughput: 125 };
    expect(volume.iops).toBe('${each.value.iops}');
    expect(volume.throughput).toBe('${each.value.throughput}');
    expect(evaluate(inputs.iops, vars)).toBe(iops);
    expect(evaluate(inputs.throughput, vars)).toBe(throughput);
  });

  it('takes an initial snapshot only when create_initial_snapshot is true', () => {
    const snapshot = resource(tf, 'aws_ebs_snapshot', 'data_volume_initial_snapshot');
    expect(snapshot.count).toBe('${var.create_initial_snapshot ? 1 : 0}');
    expect(snapshot.volume_id).toBe('${local.pmm_data_volume_current_id}');
  });

  it('rejects a literal volume type EBS does not offer here', () => {
    const stack = new TerraformStack(Testing.app(), 'bad');
    expect(
      () =>
        new DataVolume(stack, 'dv', {
          namePrefix: 'x',
          availabilityZone: 'eu-west-1a',
          sizeGiB: 100,
          volumeType: 'st1',
          iops: 3000,
          throughputMiBps: 125,
          createInitialSnapshot: false,
        }),
    ).toThrow('DataVolume: invalid prop "volumeType": must be one of "gp3", "gp2", "io1", "io2"');
  });
});
