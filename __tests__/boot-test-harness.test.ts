/**
 * The boot proof's own parts (scripts/boot-test), checked without booting: its shell is
 * shellcheck-clean, the renderer refuses a user data reference it has no value for, and the
 * Docker stub records what PMM would start on without ever recording the password.
 * The boot itself runs in `npm run test:boot` (part of the gate), not in jest.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOOT_TEST_ATTRIBUTES, substituteAttributes } from '../scripts/boot-test/render-user-data';
import { shellcheckPath } from './helpers/shellcheck';

const DIR = join(__dirname, '..', 'scripts', 'boot-test');
const GUEST = join(DIR, 'guest');

describe('boot test harness', () => {
  const shellScripts = [
    'run.sh',
    'rootfs.sh',
    ...readdirSync(GUEST)
      .filter((f) => readFileSync(join(GUEST, f), 'utf8').startsWith('#!/bin/bash'))
      .map((f) => `guest/${f}`),
  ];

  it.each(shellScripts)('%s is shellcheck clean', (script) => {
    const r = spawnSync(shellcheckPath(), ['--severity=style', join(DIR, script)], {
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('stubs exactly docker, the AWS CLI, snap and the CloudWatch agent (nothing of ours)', () => {
    expect(readdirSync(GUEST).sort()).toEqual([
      'amazon-cloudwatch-agent-ctl',
      'aws',
      'docker',
      'docker.service',
      'readyz-server.py',
      'snap',
    ]);
  });

  it('replaces resource attributes with HCL string literals', () => {
    const ref = 'aws_ebs_volume.pmm_data_volume_volume.id';
    expect(substituteAttributes(`X=\${${ref}}`)).toBe(`X=\${"${BOOT_TEST_ATTRIBUTES[ref]}"}`);
  });

  it('refuses a resource attribute it has no test value for, naming it', () => {
    expect(() =>
      substituteAttributes('${aws_instance.pmm_host_instance.private_ip} ${var.pmm_version}'),
    ).toThrow(/reads aws_instance\.pmm_host_instance\.private_ip: add test values/);
  });
});

describe('docker stub (guest)', () => {
  it('records an exec password by hash only, never the password', () => {
    const root = mkdtempSync(join(tmpdir(), 'pmm-docker-stub-'));
    try {
      // The stub writes to /var/log/boot-test; run it with that path redirected.
      const script = readFileSync(join(GUEST, 'docker'), 'utf8').replaceAll(
        '/var/log/boot-test',
        join(root, 'log'),
      );
      const r = spawnSync('bash', ['-c', script, 'docker', 'exec', '-i', 'pmm-server', 'x'], {
        input: 'Canary-Pa55word\n',
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      const calls = readFileSync(join(root, 'log', 'calls.log'), 'utf8');
      expect(calls).toMatch(/docker-exec-stdin-sha256 [0-9a-f]{64}\n$/);
      expect(calls).not.toContain('Canary');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
