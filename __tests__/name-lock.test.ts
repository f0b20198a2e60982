/**
 * Renames are refused at plan time, before anything changes: real Terraform (builtin provider
 * only) on the synthesized name lock, next to stand-ins for the stateful resources the names
 * feed (a vault, a log group, the SNS topic), each replaced when its name changes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourcesOf, synthModule } from './helpers/synth';
import { terraformTestEnv } from './helpers/terraform';

const tf = synthModule();
const lockEntry = Object.entries(resourcesOf(tf, 'terraform_data')).find(([k]) =>
  k.includes('name_lock'),
);

describe('name lock', () => {
  it('keeps service_name and environment of the first apply and ignores later values', () => {
    expect(lockEntry).toBeDefined();
    const [, lock] = lockEntry!;
    expect(lock.input).toEqual({
      service_name: '${var.service_name}',
      environment: '${var.environment}',
      sns_topic_name:
        '${coalesce(var.sns_topic_name, "${var.service_name}-${var.environment}-alarms")}',
    });
    expect(lock.lifecycle.ignore_changes).toEqual(['input']);
    expect(lock.lifecycle.postcondition.map((p: { condition: string }) => p.condition)).toEqual([
      '${(self.output.service_name == var.service_name)}',
      '${(self.output.environment == var.environment)}',
      '${(self.output.sns_topic_name == coalesce(var.sns_topic_name, "${var.service_name}-${var.environment}-alarms"))}',
    ]);
  });

  describe('with real Terraform', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmm-tf-name-lock-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const env = terraformTestEnv();
    const terraform = (...args: string[]) => {
      try {
        const out = execFileSync('terraform', [...args, '-no-color', '-input=false'], {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
          env,
        });
        return { code: 0, out };
      } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        return { code: err.status, out: `${err.stdout}${err.stderr}` };
      }
    };
    const vars = (service: string, environment: string, topic?: string) => [
      '-var',
      `service_name=${service}`,
      '-var',
      `environment=${environment}`,
      ...(topic ? ['-var', `sns_topic_name=${topic}`] : []),
    ];
    const state = () => readFileSync(join(dir, 'terraform.tfstate'), 'utf8');

    beforeAll(() => {
      const [address, lock] = lockEntry!;
      // Stand-ins: each is replaced when its name changes, like the real resources.
      const stateful = (name: string) => ({
        input: name,
        triggers_replace: name,
      });
      writeFileSync(
        join(dir, 'main.tf.json'),
        JSON.stringify({
          variable: {
            service_name: { type: 'string' },
            environment: { type: 'string' },
            sns_topic_name: { type: 'string', default: null },
          },
          resource: {
            terraform_data: {
              [address]: lock,
              backup_vault: stateful('${var.service_name}-${var.environment}-backup'),
              log_group: stateful('/aws/ec2/${var.service_name}'),
              sns_topic: stateful('${var.service_name}-${var.environment}-alarms'),
            },
          },
        }),
      );
      expect(terraform('init').code).toBe(0);
      expect(terraform('apply', '-auto-approve', ...vars('pmm-server', 'production')).code).toBe(0);
    }, 60_000);

    it('plans no changes with the same names', () => {
      const r = terraform('plan', ...vars('pmm-server', 'production'));
      expect(r.out).toContain('No changes.');
      // The derived topic name spelled out explicitly is the same name.
      const same = terraform(
        'plan',
        ...vars('pmm-server', 'production', 'pmm-server-production-alarms'),
      );
      expect(same.out).toContain('No changes.');
    }, 30_000);

    it('refuses a new sns_topic_name, pointing at alarm_topic_arns', () => {
      const r = terraform('plan', ...vars('pmm-server', 'production', 'ops-alarms'));
      expect(r.code).not.toBe(0);
      const flat = r.out.replace(/\s+/g, ' ');
      expect(flat).toContain(
        'sns_topic_name is "pmm-server-production-alarms" in this deployment and "ops-alarms"',
      );
      expect(flat).toContain('add the other topic to alarm_topic_arns');
    }, 30_000);

    it.each([
      [
        'environment',
        'pmm-server',
        'staging',
        'environment is "production" in this deployment and "staging"',
      ],
      [
        'service_name',
        'pmm',
        'production',
        'service_name is "pmm-server" in this deployment and "pmm"',
      ],
    ])(
      'refuses a change of %s at plan, naming the variable, its kept value and the way forward',
      (variable, service, environment, message) => {
        const r = terraform('plan', ...vars(service, environment));
        expect(r.code).not.toBe(0);
        const flat = r.out.replace(/\s+/g, ' ');
        expect(flat).toContain(message);
        expect(flat).toContain(`Set ${variable} back to`);
        expect(flat).toContain('docs/operations.md, "Renaming a deployment"');
        expect(flat).not.toContain('will be destroyed');
      },
      30_000,
    );

    it('an apply with a new name fails before destroying or replacing anything', () => {
      const before = state();
      const r = terraform('apply', '-auto-approve', ...vars('pmm-server', 'prod'));
      expect(r.code).not.toBe(0);
      expect(r.out).toContain('environment is "production" in this deployment and "prod"');
      expect(r.out).not.toMatch(/Destroying|Creating/);
      expect(state()).toBe(before);
    }, 30_000);
  });
});
