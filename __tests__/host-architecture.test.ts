/**
 * Switching instance_type between x86 and Graviton replaces the instance (the AMI differs),
 * instead of an in-place type change on the old AMI (ignore_changes = [ami]). Checked in the
 * synthesized JSON, and with real Terraform (builtin provider only) on the synthesized
 * replace_triggered_by, which must be a form Terraform accepts in JSON and act on a change.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resource, resourcesOf, synthModule } from './helpers/synth';
import { terraformTestEnv } from './helpers/terraform';

const tf = synthModule();
const instance = resource(tf, 'aws_instance', 'host_instance');
const IS_ARM =
  'contains(data.aws_ec2_instance_type.pmm_host_instance_type.supported_architectures, "arm64")';

describe('instance architecture', () => {
  it('keeps the resolved architecture in a terraform_data resource', () => {
    expect(resourcesOf(tf, 'terraform_data')).toEqual({
      pmm_host_architecture: { input: { architecture: `\${${IS_ARM} ? "arm64" : "x86_64"}` } },
    });
  });

  it('replaces the instance when that architecture changes, still ignoring newer AMIs', () => {
    expect(instance.lifecycle.replace_triggered_by).toEqual([
      'terraform_data.pmm_host_architecture',
    ]);
    expect(instance.lifecycle.ignore_changes).toEqual(['ami']);
  });

  it('plans a replacement with real Terraform when the architecture changes, not before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmm-tf-arch-'));
    const env = terraformTestEnv();
    const terraform = (...args: string[]) =>
      execFileSync('terraform', [...args, '-no-color', '-input=false'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
        env,
      });
    try {
      // The synthesized lifecycle on a stand-in for the instance; the architecture from a variable.
      writeFileSync(
        join(dir, 'main.tf.json'),
        JSON.stringify({
          variable: { arch: { type: 'string' } },
          resource: {
            terraform_data: {
              pmm_host_architecture: { input: { architecture: '${var.arch}' } },
              instance: {
                input: 'pmm',
                lifecycle: { replace_triggered_by: instance.lifecycle.replace_triggered_by },
              },
            },
          },
        }),
      );
      terraform('init');
      terraform('apply', '-auto-approve', '-var', 'arch=x86_64');
      expect(terraform('plan', '-var', 'arch=x86_64')).toContain('No changes.');
      expect(terraform('plan', '-var', 'arch=arm64')).toContain(
        'terraform_data.instance will be replaced due to changes in replace_triggered_by',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
