/**
 * The boot proof's own parts (scripts/boot-test), checked without booting: its shell is
 * shellcheck-clean, the renderer refuses a user data reference it has no value for, and the
 * Docker stub records what PMM would start on without ever recording the password.
 * The boot itself runs in `npm run test:boot` (part of the gate), not in jest.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BOOT_TEST_ATTRIBUTES,
  renderBootUserData,
  substituteAttributes,
} from '../scripts/boot-test/render-user-data';
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

  it('stubs exactly docker, the AWS CLI, snap, the CloudWatch agent and the metadata IP (nothing of ours)', () => {
    expect(readdirSync(GUEST).sort()).toEqual([
      'amazon-cloudwatch-agent-ctl',
      'aws',
      'docker',
      'docker.service',
      'imds-private-ip.conf',
      'readyz-server.py',
      'snap',
    ]);
  });

  it('replaces resource attributes with HCL string literals', () => {
    const ref = 'aws_ebs_volume.pmm_data_volume_volume.id';
    expect(substituteAttributes(`X=\${${ref}}`)).toBe(`X=\${"${BOOT_TEST_ATTRIBUTES[ref]}"}`);
  });

  it('writes numeric attributes as HCL numbers', () => {
    expect(
      substituteAttributes('${aws_ec2_instance_type.t.memory_size < 16384}', {
        'aws_ec2_instance_type.t.memory_size': 8192,
      }),
    ).toBe('${8192 < 16384}');
  });

  // The boot proof runs last in the gate; a user data reference without a test value must fail
  // here, in jest, not 20 minutes later.
  it('renders the synthesized module user data with real Terraform', () => {
    const out = mkdtempSync(join(tmpdir(), 'pmm-boot-render-test-'));
    try {
      const expected = renderBootUserData(out);
      expect(expected.PUBLIC_ADDRESS).toBe('pmm.boot-test.example.com');
      expect(Number(expected.USER_DATA_GZIP_BYTES)).toBeLessThanOrEqual(16384);
      const config = readFileSync(join(out, 'ssm-config'), 'utf8');
      expect(config).toMatch(/^PMM_CLICKHOUSE_CONFIG=low-memory$/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

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

describe('aws stub (guest): the Parameter Store apply-config.sh reads and writes', () => {
  /** Runs the stub with /var/log/boot-test and /var/lib/boot-test redirected under root. */
  const runStub = (root: string, ...args: string[]) => {
    const script = readFileSync(join(GUEST, 'aws'), 'utf8')
      .replaceAll('/var/log/boot-test', join(root, 'log'))
      .replaceAll('/var/lib/boot-test', join(root, 'lib'));
    return spawnSync('bash', ['-c', script, 'aws', ...args], { encoding: 'utf8' });
  };
  const get = ['--query', 'Parameter.Value', '--output', 'text'];

  it('serves a written parameter, refuses a missing one, and records every SSM call', () => {
    const root = mkdtempSync(join(tmpdir(), 'pmm-aws-stub-'));
    try {
      mkdirSync(join(root, 'lib', 'ssm', 'params', 'p'), { recursive: true });
      writeFileSync(join(root, 'lib', 'ssm', 'params', 'p', 'config'), 'PMM_A=1\nPMM_B=2\n');
      const got = runStub(root, 'ssm', 'get-parameter', '--name', '/p/config', ...get);
      expect(got.status).toBe(0);
      expect(got.stdout).toBe('PMM_A=1\nPMM_B=2\n\n');

      const missing = runStub(root, 'ssm', 'get-parameter', '--name', '/p/image', ...get);
      expect(missing.status).toBe(254);
      expect(missing.stderr).toContain('ParameterNotFound');

      const value = 'config=abc image=percona/pmm-server@sha256:00 tag=3';
      const put = runStub(
        root,
        'ssm',
        'put-parameter',
        '--name',
        '/p/image',
        '--type',
        'String',
        '--overwrite',
        '--value',
        value,
      );
      expect(put.status).toBe(0);
      expect(runStub(root, 'ssm', 'get-parameter', '--name', '/p/image', ...get).stdout).toBe(
        `${value}\n`,
      );

      // Not the shape apply-config.sh uses: refused, so a changed call cannot pass silently.
      expect(runStub(root, 'ssm', 'get-parameter', '--name', '/p/config').status).toBe(252);
      expect(runStub(root, 'ssm', 'put-parameter', '--name', '/p/x', '--value', 'v').status).toBe(
        252,
      );
      expect(runStub(root, 'ssm', 'get-parameter', '--name', '/p/../secret', ...get).status).toBe(
        254,
      );

      const ssmCalls = readFileSync(join(root, 'lib', 'ssm', 'calls.log'), 'utf8')
        .trim()
        .split('\n');
      expect(ssmCalls).toHaveLength(7);
      expect(ssmCalls[2]).toContain(
        `ssm put-parameter --name /p/image --type String --overwrite --value ${value}`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('docker stub (guest): digest resolution', () => {
  it('answers RepoDigests for the expected tag only', () => {
    const root = mkdtempSync(join(tmpdir(), 'pmm-docker-stub-'));
    try {
      mkdirSync(join(root, 'lib'));
      writeFileSync(join(root, 'lib', 'image-tag'), 'percona/pmm-server:3.4.1\n');
      writeFileSync(join(root, 'lib', 'image-digest'), `sha256:${'a'.repeat(64)}\n`);
      const script = readFileSync(join(GUEST, 'docker'), 'utf8')
        .replaceAll('/var/log/boot-test', join(root, 'log'))
        .replaceAll('/var/lib/boot-test', join(root, 'lib'));
      const inspect = (ref: string) =>
        spawnSync(
          'bash',
          [
            '-c',
            script,
            'docker',
            'image',
            'inspect',
            '--format',
            '{{range .RepoDigests}}{{println .}}{{end}}',
            ref,
          ],
          {
            encoding: 'utf8',
          },
        );
      const ok = inspect('percona/pmm-server:3.4.1');
      expect(ok.status).toBe(0);
      expect(ok.stdout).toBe(`percona/pmm-server@sha256:${'a'.repeat(64)}\n`);
      expect(inspect('percona/pmm-server:3.4.2').status).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
