/**
 * Runs templates/host/boot.sh with stubbed commands (systemctl, systemd-tmpfiles, the package
 * installer and the CloudWatch agent's ctl) and checks what it does: the PMM units are enabled
 * and started even when an optional step fails, the journal export's directories exist before
 * that unit starts, and every step is attempted.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPLATE_DIR, readTemplate } from '../constructs/host/user-data';

const work = mkdtempSync(join(tmpdir(), 'pmm-boot-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const calls = join(work, 'calls');
const bin = join(work, 'bin');
const lib = join(work, 'lib');
mkdirSync(bin);
mkdirSync(lib);

function stub(file: string, body: string): string {
  writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const record = `echo "$(basename "$0") $*" >> ${JSON.stringify(calls)}`;
// Fails the call whose arguments are exactly FAIL_SYSTEMCTL.
stub(join(bin, 'systemctl'), `${record}\n[[ "$*" != "$FAIL_SYSTEMCTL" ]]`);
stub(join(bin, 'systemd-tmpfiles'), record);
// Fails the step named in FAIL_INSTALL (e.g. "cloudwatch-agent").
stub(join(lib, 'install-packages.sh'), `${record}\n[[ $1 != "$FAIL_INSTALL" ]]`);
const ctl = stub(join(bin, 'amazon-cloudwatch-agent-ctl'), record);

function boot(extra: Record<string, string> = {}) {
  writeFileSync(calls, '');
  const r = spawnSync('bash', [join(TEMPLATE_DIR, 'boot.sh')], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      PMM_LIB_DIR: lib,
      PMM_CWAGENT_CTL: ctl,
      FAIL_INSTALL: '',
      FAIL_SYSTEMCTL: 'no-such-argument',
      ...extra,
    },
  });
  return {
    code: r.status,
    out: r.stdout + r.stderr,
    calls: readFileSync(calls, 'utf8').trim().split('\n'),
  };
}

const PMM_UNITS = [
  'systemctl enable pmm-config.service pmm-config.timer pmm-data-volume.service pmm-data-volume.timer pmm-server.service pmm-admin-password.timer pmm-tls.timer',
  'systemctl start pmm-config.service',
  'systemctl start pmm-config.timer',
  'systemctl start pmm-data-volume.service',
  'systemctl start pmm-data-volume.timer',
  'systemctl start --no-block pmm-server.service',
  'systemctl start pmm-admin-password.timer pmm-tls.timer',
];

describe('boot.sh', () => {
  it('runs every step in order: directories, journal export, Docker, AWS CLI, PMM units, agent', () => {
    const r = boot();
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      'systemd-tmpfiles --create /etc/tmpfiles.d/pmm.conf',
      'systemctl daemon-reload',
      'systemctl enable --now pmm-journal-export.service',
      'install-packages.sh docker',
      'install-packages.sh aws-cli',
      'systemctl daemon-reload',
      ...PMM_UNITS,
      'install-packages.sh cloudwatch-agent',
      'amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/pmm-cloudwatch-agent.json',
    ]);
    expect(r.out).toContain('pmm-boot: done');
  });

  it('enables and starts PMM when the CloudWatch agent install fails, and reports the failure', () => {
    const r = boot({ FAIL_INSTALL: 'cloudwatch-agent' });
    for (const call of PMM_UNITS) expect(r.calls).toContain(call);
    expect(r.calls).toContain('install-packages.sh aws-cli');
    expect(r.calls.some((c) => c.startsWith('amazon-cloudwatch-agent-ctl'))).toBe(false);
    expect(r.out).toContain('ERROR: cloudwatch-agent failed');
    expect(r.out).toContain('finished with errors in: cloudwatch-agent');
    expect(r.code).not.toBe(0);
  });

  it('enables and starts PMM when the AWS CLI install fails, and still installs the agent', () => {
    const r = boot({ FAIL_INSTALL: 'aws-cli' });
    for (const call of PMM_UNITS) expect(r.calls).toContain(call);
    expect(r.calls).toContain('install-packages.sh cloudwatch-agent');
    expect(r.out).toContain('finished with errors in: aws-cli');
  });

  it('applies the SSM configuration (needs the AWS CLI) before the data volume and PMM, before the agent', () => {
    const r = boot();
    const config = r.calls.indexOf('systemctl start pmm-config.service');
    const started = r.calls.indexOf('systemctl start --no-block pmm-server.service');
    expect(config).toBeGreaterThan(r.calls.indexOf('install-packages.sh aws-cli'));
    expect(config).toBeLessThan(r.calls.indexOf('systemctl start pmm-data-volume.service'));
    expect(started).toBeGreaterThan(r.calls.indexOf('install-packages.sh docker'));
    expect(started).toBeLessThan(r.calls.indexOf('install-packages.sh cloudwatch-agent'));
  });

  it('keeps going when the configuration cannot be applied yet (pmm-config.timer retries)', () => {
    const r = boot({ FAIL_SYSTEMCTL: 'start pmm-config.service' });
    expect(r.calls).toContain('systemctl start pmm-config.timer');
    expect(r.calls).toContain('systemctl start --no-block pmm-server.service');
    expect(r.out).toContain('configuration not applied yet');
    expect(r.code).toBe(0);
  });

  it('keeps going when the data volume is not attached yet (the timer retries)', () => {
    const r = boot({ FAIL_SYSTEMCTL: 'start pmm-data-volume.service' });
    expect(r.calls).toContain('systemctl start --no-block pmm-server.service');
    expect(r.out).toContain('data volume not ready yet');
    expect(r.code).toBe(0);
  });

  it('is idempotent: a second run does the same, nothing more', () => {
    expect(boot().calls).toEqual(boot().calls);
  });
});

describe('journal export', () => {
  const unit = readTemplate('pmm-journal-export.service').split('\n');
  const tmpfiles = readTemplate('tmpfiles-pmm.conf').split('\n');

  it('writes to directories created by tmpfiles.d, not by LogsDirectory= (systemd #27591)', () => {
    expect(unit).toContain('StandardOutput=append:/var/log/pmm/journal.log');
    expect(unit.some((l) => /^(LogsDirectory|StateDirectory)=/.test(l))).toBe(false);
    expect(tmpfiles).toContain('d /var/log/pmm 0755 root root -');
    expect(tmpfiles).toContain('d /var/lib/pmm 0700 root root -');
  });

  it('resumes from a cursor file instead of --since=now, so restarts and boot lose nothing', () => {
    const exec = unit.find((l) => l.startsWith('ExecStart='));
    expect(exec).toBe(
      'ExecStart=/usr/bin/journalctl --follow --no-tail --cursor-file=/var/lib/pmm/journal.cursor --output=short-iso',
    );
    expect(exec).not.toContain('--since');
  });
});

describe('install-packages.sh', () => {
  const script = readTemplate('install-packages.sh');

  it('runs apt-get only with a 10-minute dpkg lock timeout', () => {
    const direct = script
      .split('\n')
      .filter((l) => /\bapt-get\b/.test(l) && !l.trim().startsWith('#'));
    expect(direct).toEqual(['apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }']);
    expect(script).not.toMatch(/dpkg -i/);
  });

  it('installs one named step at a time and rejects anything else', () => {
    const r = spawnSync('bash', [join(TEMPLATE_DIR, 'install-packages.sh'), 'everything'], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('usage: ');
  });
});
