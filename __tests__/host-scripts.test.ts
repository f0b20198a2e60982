/** The host's shell scripts: shellcheck-clean, and the PMM run and password scripts behave. */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPLATE_DIR, stripShellComments } from '../constructs/host/user-data';
import { shellcheckPath } from './helpers/shellcheck';

const work = mkdtempSync(join(tmpdir(), 'pmm-scripts-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function stub(name: string, body: string): string {
  const file = join(work, name);
  writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('host scripts', () => {
  const scripts = readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith('.sh'));

  it('has the scripts the boot sequence runs', () => {
    expect(scripts.sort()).toEqual([
      'apply-config.sh',
      'boot.sh',
      'check-data-mount.sh',
      'fetch-admin-password.sh',
      'install-packages.sh',
      'mount-data-volume.sh',
      'pmm-tls.sh',
      'run-pmm-server.sh',
      'set-admin-password.sh',
      'swap.sh',
    ]);
  });

  it.each(scripts)('%s is shellcheck clean', (script) => {
    const r = spawnSync(shellcheckPath(), ['--severity=style', join(TEMPLATE_DIR, script)], {
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(scripts)('%s is executable and stops on errors', (script) => {
    const file = join(TEMPLATE_DIR, script);
    expect(statSync(file).mode & 0o111).not.toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(
      /^#!\/usr\/bin\/env bash\n(#.*\n)*set -euo pipefail/m,
    );
  });
});

describe('run-pmm-server.sh', () => {
  const argsFile = join(work, 'docker-args');
  const docker = stub('docker', `printf '%s\\n' "$@" > ${JSON.stringify(argsFile)}`);

  function runServer(queriesDir: string, passwordFile = join(work, 'no-password')): string[] {
    const r = spawnSync('bash', [join(TEMPLATE_DIR, 'run-pmm-server.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        DOCKER: docker,
        PMM_IMAGE: 'percona/pmm-server:3.1',
        PMM_CUSTOM_QUERIES_DIR: queriesDir,
        PMM_ADMIN_PASSWORD_FILE: passwordFile,
      },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return readFileSync(argsFile, 'utf8').trim().split('\n');
  }

  it('runs PMM 3 with 80->8080, 443->8443, the data dir at /srv and a high nofile limit', () => {
    const args = runServer(join(work, 'no-queries'));
    expect(args.join(' ')).toBe(
      'run --name pmm-server --publish 80:8080 --publish 443:8443 --volume /srv/pmm-data:/srv ' +
        '--ulimit nofile=1000000:1000000 --env-file /etc/pmm/pmm-server.env percona/pmm-server:3.1',
    );
  });

  it('mounts only the custom query files that exist, read-only', () => {
    const dir = join(work, 'queries');
    mkdirSync(join(dir, 'medium-resolution'), { recursive: true });
    writeFileSync(join(dir, 'medium-resolution', 'queries-custom.yml'), 'pg_x: {}\n');
    const args = runServer(dir);
    const mounts = args.filter((a) => a.includes('custom-queries'));
    expect(mounts).toEqual([
      `${dir}/medium-resolution/queries-custom.yml:/usr/local/percona/pmm/collectors/custom-queries/postgresql/medium-resolution/queries-custom.yml:ro`,
    ]);
    expect(args[args.length - 1]).toBe('percona/pmm-server:3.1');
  });

  it('mounts the admin password file read-only and names it (never its content) for Grafana', () => {
    const passwordFile = join(work, 'admin-password');
    writeFileSync(passwordFile, 'NotInArgv123');
    const args = runServer(join(work, 'no-queries'), passwordFile);
    expect(args.join(' ')).toContain(
      `--volume ${passwordFile}:/run/secrets/pmm-admin-password:ro ` +
        '--env GF_SECURITY_ADMIN_PASSWORD=$__file{/run/secrets/pmm-admin-password}',
    );
    expect(args.join(' ')).not.toContain('NotInArgv123');
    expect(args.filter((a) => a.startsWith('GF_'))).toHaveLength(1);
  });
});

describe('fetch-admin-password.sh', () => {
  const PASSWORD = 'F1rstStartPassw0rdNeverInArgv';
  const calls = join(work, 'fetch-calls');
  const okAws = stub(
    'aws-fetch-ok',
    `echo "aws $*" >> ${JSON.stringify(calls)}; echo ${JSON.stringify(PASSWORD)}`,
  );
  const failingAws = stub(
    'aws-fetch-fail',
    `echo "aws $*" >> ${JSON.stringify(calls)}; echo "AccessDenied" >&2; exit 255`,
  );

  function fetch(aws: string, dataDir: string, passwordFile: string) {
    writeFileSync(calls, '');
    const r = spawnSync('bash', [join(TEMPLATE_DIR, 'fetch-admin-password.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PMM_ADMIN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-AbCdEf',
        PMM_AWS_CLI: aws,
        PMM_DATA_DIR: dataDir,
        PMM_ADMIN_PASSWORD_FILE: passwordFile,
      },
    });
    return { code: r.status, out: r.stdout + r.stderr, calls: readFileSync(calls, 'utf8') };
  }

  function dirs(name: string, withData: boolean) {
    const dataDir = join(work, name, 'pmm-data');
    mkdirSync(dataDir, { recursive: true });
    if (withData) writeFileSync(join(dataDir, 'pmm-distribution'), 'docker');
    return { dataDir, passwordFile: join(work, name, 'run', 'pmm', 'admin-password') };
  }

  it('writes the password, without a newline, to a 0400 file owned by PMM (1000:1000)', () => {
    const { dataDir, passwordFile } = dirs('fetch-ok', false);
    const r = fetch(okAws, dataDir, passwordFile);
    expect(r.code).toBe(0);
    expect(readFileSync(passwordFile, 'utf8')).toBe(PASSWORD);
    const st = statSync(passwordFile);
    expect(st.mode & 0o777).toBe(0o400);
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([1000, 1000]);
    expect(statSync(join(work, 'fetch-ok', 'run', 'pmm')).mode & 0o077).toBe(0);
    expect(r.calls).toContain('secretsmanager get-secret-value --secret-id');
    expect(r.calls + r.out).not.toContain(PASSWORD);
  });

  it('refuses a first start (empty data directory) when the secret cannot be read', () => {
    const { dataDir, passwordFile } = dirs('fetch-first', false);
    const r = fetch(failingAws, dataDir, passwordFile);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('is empty (first start): refusing to start PMM');
    expect(existsSync(passwordFile)).toBe(false);
  });

  it('refuses a first start when the AWS CLI is not installed yet', () => {
    const { dataDir, passwordFile } = dirs('fetch-no-cli', false);
    const r = fetch(join(work, 'no-such-aws'), dataDir, passwordFile);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('refusing to start PMM');
  });

  it('lets PMM start with existing data when the secret cannot be read', () => {
    const { dataDir, passwordFile } = dirs('fetch-existing', true);
    const r = fetch(failingAws, dataDir, passwordFile);
    expect(r.code).toBe(0);
    expect(r.out).toContain('PMM already has data');
    expect(existsSync(passwordFile)).toBe(false);
  });
});

describe('set-admin-password.sh', () => {
  const PASSWORD = 'S3cretPassw0rdThatMustNotLeak1234';
  const calls = join(work, 'calls');
  const stdinFile = join(work, 'grafana-stdin');
  const versionFile = join(work, 'secret-version');
  const ready = join(work, 'readyz');
  writeFileSync(ready, 'ok');
  /** describe-secret's VersionIdsToStages, pretty-printed as the AWS CLI does. */
  const stagesJson = (current: string) =>
    JSON.stringify({ 'old-uuid': ['AWSPREVIOUS'], [current]: ['AWSCURRENT'] }, null, 4);
  const aws = stub(
    'aws',
    `echo "aws $*" >> ${JSON.stringify(calls)}
case "$*" in
  *"describe-secret"*"--query VersionIdsToStages --output json"*) cat ${JSON.stringify(versionFile)} ;;
  *"get-secret-value"*"--query SecretString"*) echo ${JSON.stringify(PASSWORD)} ;;
  *) exit 3 ;;
esac`,
  );
  // Inside the "container": PMM 3's change-admin-password (as shipped in percona/pmm,
  // build/ansible/roles/grafana/files/change-admin-password) and a grafana that records its
  // argv and stdin. Every process's argv lands in `calls`.
  const containerBin = join(work, 'container-bin');
  mkdirSync(containerBin);
  writeFileSync(
    join(containerBin, 'change-admin-password'),
    `#!/bin/bash\necho "change-admin-password $*" >> ${JSON.stringify(calls)}\ngrafana cli --config=/etc/grafana/grafana.ini --homepath /usr/share/grafana admin reset-admin-password "$1"\n`,
  );
  writeFileSync(
    join(containerBin, 'grafana'),
    `#!/bin/bash\necho "grafana $*" >> ${JSON.stringify(calls)}\ncat > ${JSON.stringify(stdinFile)}\n`,
  );
  chmodSync(join(containerBin, 'change-admin-password'), 0o755);
  chmodSync(join(containerBin, 'grafana'), 0o755);
  const docker = stub(
    'docker-exec',
    `echo "docker $*" >> ${JSON.stringify(calls)}
[[ $1 == exec ]] || exit 2
shift
[[ $1 == -i ]] && shift
shift # container name
PATH=${JSON.stringify(containerBin)}:$PATH exec "$@"`,
  );
  const state = join(work, 'state', 'admin-password-version');
  mkdirSync(join(work, 'state'));

  function setPassword(extra: Record<string, string> = {}) {
    writeFileSync(calls, '');
    rmSync(stdinFile, { force: true });
    const r = spawnSync('bash', [join(TEMPLATE_DIR, 'set-admin-password.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PMM_ADMIN_SECRET_ARN:
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin-AbCdEf',
        PMM_AWS_CLI: aws,
        DOCKER: docker,
        PMM_READYZ_URL: `file://${ready}`,
        PMM_ADMIN_PASSWORD_STATE: state,
        ...extra,
      },
    });
    return { code: r.status, out: r.stdout + r.stderr, calls: readFileSync(calls, 'utf8') };
  }

  it('hands the password to grafana on stdin only: no argv of any process (host or container) holds it', () => {
    writeFileSync(versionFile, stagesJson('v1-uuid'));
    const r = setPassword();
    expect(r.code).toBe(0);
    expect(r.out).toContain('admin password set from secret version v1-uuid');
    expect(readFileSync(stdinFile, 'utf8')).toBe(`${PASSWORD}\n`);
    const argvs = r.calls.trim().split('\n');
    expect(argvs).toContain(
      'docker exec -i pmm-server grafana cli --homepath /usr/share/grafana --config=/etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin',
    );
    expect(argvs).toContain(
      'grafana cli --homepath /usr/share/grafana --config=/etc/grafana/grafana.ini admin reset-admin-password --password-from-stdin',
    );
    for (const argv of argvs) expect(argv).not.toContain(PASSWORD);
    expect(r.calls).toContain('--version-id v1-uuid --query SecretString');
    expect(r.out).not.toContain(PASSWORD);
    expect(readFileSync(state, 'utf8')).toBe('v1-uuid\n');
    expect(statSync(state).mode & 0o077).toBe(0);
  });

  it('learns the current version from DescribeSecret and does nothing while it is unchanged', () => {
    const r = setPassword();
    expect(r.code).toBe(0);
    expect(r.out).toContain('already set from secret version v1-uuid');
    expect(r.calls).toContain('aws secretsmanager describe-secret');
    expect(r.calls).not.toContain('get-secret-value');
    expect(r.calls).not.toContain('docker');
  });

  it('applies the password again after the secret changes', () => {
    writeFileSync(versionFile, stagesJson('v2-uuid'));
    const r = setPassword();
    expect(r.code).toBe(0);
    expect(r.calls).toContain('--version-id v2-uuid');
    expect(r.calls).toContain('docker exec');
    expect(readFileSync(state, 'utf8')).toBe('v2-uuid\n');
  });

  it('fails quietly (no curl error spam) without touching PMM when it never becomes ready', () => {
    writeFileSync(versionFile, stagesJson('v3-uuid'));
    const r = setPassword({
      PMM_READYZ_URL: `file://${join(work, 'absent')}`,
      PMM_READY_TIMEOUT_SECONDS: '2',
      PMM_READY_POLL_SECONDS: '1',
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('PMM is not ready');
    expect(r.out).not.toMatch(/curl|Couldn't|refused/i);
    expect(r.out.trim().split('\n')).toHaveLength(2);
    expect(r.calls).toBe('');
    expect(readFileSync(state, 'utf8')).toBe('v2-uuid\n');
  });

  it('fails when the secret has no AWSCURRENT version', () => {
    writeFileSync(versionFile, JSON.stringify({ 'v9-uuid': ['AWSPENDING'] }, null, 4));
    const r = setPassword();
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('has no AWSCURRENT version');
    expect(r.calls).not.toContain('get-secret-value');
  });

  it('retries the reset, then fails without recording the version', () => {
    writeFileSync(versionFile, stagesJson('v3-uuid'));
    const failing = stub('docker-fail', `echo "docker $*" >> ${JSON.stringify(calls)}; exit 1`);
    const r = setPassword({
      DOCKER: failing,
      PMM_ADMIN_PASSWORD_ATTEMPTS: '2',
      PMM_ADMIN_PASSWORD_RETRY_SECONDS: '0',
    });
    expect(r.code).not.toBe(0);
    expect(r.calls.match(/docker exec/g)).toHaveLength(2);
    expect(r.out).toContain('could not set the admin password after 2 attempts');
    expect(r.out).not.toContain(PASSWORD);
    expect(existsSync(state)).toBe(true);
    expect(readFileSync(state, 'utf8')).toBe('v2-uuid\n');
  });
});

describe('shell scripts as shipped in the user data (comment lines dropped)', () => {
  const scripts = readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith('.sh'));

  it.each(scripts)('%s has no heredoc, so no dropped line can be data', (script) => {
    expect(readFileSync(join(TEMPLATE_DIR, script), 'utf8')).not.toMatch(/<<-?\s*['"]?\w/);
  });

  it.each(scripts)('%s loses only comment lines, keeps its shebang and still parses', (script) => {
    const template = readFileSync(join(TEMPLATE_DIR, script), 'utf8');
    const shipped = stripShellComments(template);
    expect(shipped.split('\n')[0]).toBe('#!/usr/bin/env bash');
    const code = (t: string) => t.split('\n').filter((l) => !/^\s*#/.test(l));
    expect(code(shipped)).toEqual(code(template));
    expect(
      shipped
        .split('\n')
        .slice(1)
        .filter((l) => /^\s*#/.test(l)),
    ).toEqual([]);
    const file = join(work, `shipped-${script}`);
    writeFileSync(file, shipped);
    const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
