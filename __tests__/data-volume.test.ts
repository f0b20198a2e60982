import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { DataVolume } from '../constructs/data-volume';
import { resource, synthModule } from './helpers/synth';
import { terraformTestEnv } from './helpers/terraform';

const tf = synthModule();
const volume = resource(tf, 'aws_ebs_volume', 'data_volume_volume');

/** Evaluates a synthesized `${...}` expression with real Terraform for the given variables. */
function evaluate(expression: string, vars: Record<string, string | number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pmm-tf-eval-'));
  try {
    const variable = Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [
        k,
        { type: typeof v === 'number' ? 'number' : 'string' },
      ]),
    );
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ variable }));
    const args = Object.entries(vars).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
    return execFileSync('terraform', ['console', ...args], {
      cwd: dir,
      input: expression.replace(/^\$\{/, '').replace(/\}$/, '') + '\n',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env: terraformTestEnv(),
    }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('data volume', () => {
  it('is always encrypted, with the optional KMS key, in the instance AZ', () => {
    expect(volume.encrypted).toBe(true);
    expect(volume.kms_key_id).toBe('${var.kms_key_id}');
    expect(volume.availability_zone).toBe(
      '${data.aws_subnet.pmm_network_instance_subnet.availability_zone}',
    );
    expect(volume.size).toBe('${var.ebs_volume_size}');
    expect(volume.type).toBe('${var.ebs_volume_type}');
  });

  it('can never be destroyed by Terraform (literal prevent_destroy)', () => {
    expect(volume.lifecycle).toEqual({ prevent_destroy: true });
  });

  it('is tagged for backup', () => {
    expect(volume.tags).toContain('"Backup" = "true"');
    expect(volume.tags).toContain('"Name" = "${var.service_name}-${var.environment}-data"');
  });

  it.each([
    ['gp3', '3000', '125'],
    ['gp2', 'tonumber(null)', 'tonumber(null)'],
    ['io1', '3000', 'tonumber(null)'],
    ['io2', '3000', 'tonumber(null)'],
  ])('%s gets IOPS %s and throughput %s at plan time', (type, iops, throughput) => {
    const vars = { ebs_volume_type: type, ebs_iops: 3000, ebs_throughput: 125 };
    expect(evaluate(volume.iops, vars)).toBe(iops);
    expect(evaluate(volume.throughput, vars)).toBe(throughput);
  });

  it('takes an initial snapshot only when create_initial_snapshot is true', () => {
    const snapshot = resource(tf, 'aws_ebs_snapshot', 'data_volume_initial_snapshot');
    expect(snapshot.count).toBe('${var.create_initial_snapshot ? 1 : 0}');
    expect(snapshot.volume_id).toBe('${aws_ebs_volume.pmm_data_volume_volume.id}');
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
