import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderInstallScript } from '../../functions/asg-reconciler/src/install-command';

const ROOT = resolve(__dirname, '../..');
const TEMPLATE = join(ROOT, 'templates/reconciler/install.sh');
const ADMIN_PASSWORD = 'AdminSecretValue123';
const DB_PASSWORD = 'DbSecretValue456';

function shellcheck(): string {
  const local = join(ROOT, '.cache/tools/bin/shellcheck');
  if (existsSync(local)) return local;
  const found = spawnSync('sh', ['-c', 'command -v shellcheck'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found)
    throw new Error(
      'shellcheck not found: run `npm run tools` (installs .cache/tools/bin/shellcheck)',
    );
  return found;
}

/** Stub commands that record their argv (one line per call) and simulate machine state. */
function stubs(dir: string): void {
  const stub = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\necho "${name} $*" >> "$STATE/calls"\n${body}\n`);
    chmodSync(p, 0o755);
  };
  stub('dpkg-query', '[ -f "$STATE/installed" ] && printf "install ok installed" || exit 1');
  stub('apt-get', 'case "$*" in *pmm-client*) touch "$STATE/installed";; esac');
  stub('percona-release', ':');
  stub('curl', 'case "$*" in *-o*) : ;; esac');
  stub(
    'aws',
    `case "$*" in *pmm-admin*) printf '%s' "${ADMIN_PASSWORD}";; *db-pw*) printf '{"username":"pmm","password":"${DB_PASSWORD}"}';; esac`,
  );
  stub(
    'pmm-agent',
    '[ "$PMM_AGENT_SERVER_PASSWORD" = "' +
      ADMIN_PASSWORD +
      '" ] || { echo "no password in env" >&2; exit 2; }\ntouch "$STATE/configured"',
  );
  stub(
    'pmm-admin',
    [
      'case "$1" in',
      '  status) [ -f "$STATE/configured" ] || exit 1; printf "PMM Server:\\n\\tURL    : https://10.0.0.5:443/\\nPMM Client:\\n\\tConnected        : true\\n";;',
      '  list) [ -f "$STATE/added" ] && printf "MySQL  db/ip-10-0-1-7  127.0.0.1:3306  svc-1\\n"; exit 0;;',
      '  add) if [ -f "$STATE/exists" ]; then echo "Service with name already exists."; exit 1; fi; touch "$STATE/added"; echo "MySQL Service added.";;',
      'esac',
    ].join('\n'),
  );
}

describe('reconciler install script', () => {
  it('passes shellcheck', () => {
    expect(() =>
      execFileSync(shellcheck(), ['-s', 'sh', TEMPLATE], { encoding: 'utf8' }),
    ).not.toThrow();
  });

  function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'pmm-install-'));
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    stubs(bin);
    const script = renderInstallScript(
      {
        pmmServerAddress: '10.0.0.5',
        adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin-x',
        targets: [
          {
            instanceId: 'i-07',
            asgName: 'db',
            serviceName: 'db/ip-10-0-1-7',
            nodeAddress: '10.0.1.7',
            port: 3306,
            username: 'pmm',
            passwordSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-pw-y',
          },
        ],
      },
      readFileSync(TEMPLATE, 'utf8'),
    );
    const path = join(dir, 'script.sh');
    writeFileSync(path, script);
    const run = (instanceId = 'i-07') =>
      spawnSync('sh', [path], {
        encoding: 'utf8',
        env: {
          PATH: `${bin}:/usr/bin:/bin`,
          STATE: dir,
          AWS_SSM_INSTANCE_ID: instanceId,
          PMM_RECONCILER_LOCK: join(dir, 'lock'),
        },
      });
    const calls = () =>
      existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';
    return { dir, run, calls };
  }

  it('installs, registers and adds MySQL once, then changes nothing on a re-run', () => {
    const { run, calls, dir } = setup();
    const first = run();
    expect(first.stdout).toContain('PMM_RECONCILER_RESULT=enrolled');
    expect(first.status).toBe(0);
    expect(calls()).toMatch(/^percona-release enable pmm3-client$/m);
    expect(calls()).toMatch(/^apt-get install -y -q pmm-client$/m);
    expect(calls()).toMatch(
      /^pmm-agent setup .*--server-address=10\.0\.0\.5:443 .*--server-insecure-tls .* 10\.0\.1\.7 generic db\/ip-10-0-1-7$/m,
    );
    expect(calls()).toMatch(
      /^pmm-admin add mysql --query-source=perfschema --username=pmm --custom-labels=aws_instance_id=i-07 .*db\/ip-10-0-1-7 127\.0\.0\.1:3306$/m,
    );

    writeFileSync(join(dir, 'calls'), '');
    const second = run();
    expect(second.status).toBe(0);
    expect(calls()).not.toMatch(/apt-get|percona-release|pmm-agent setup|pmm-admin add|^aws /m);
  });

  it('keeps the admin password out of argv and output, and the DB password out of output', () => {
    const { run, calls } = setup();
    const result = run();
    expect(result.status).toBe(0);
    expect(calls()).not.toContain(ADMIN_PASSWORD);
    expect(result.stdout + result.stderr).not.toContain(ADMIN_PASSWORD);
    expect(result.stdout + result.stderr).not.toContain(DB_PASSWORD);
    // The one documented exception: pmm-admin add takes the DB password only as a flag.
    expect(calls()).toContain(`--password=${DB_PASSWORD}`);
  });

  it('reports "already exists" with exit code 17 for the reconciler to clean up', () => {
    const { run, dir } = setup();
    writeFileSync(join(dir, 'exists'), '');
    const result = run();
    expect(result.status).toBe(17);
    expect(result.stdout).toContain('PMM_RECONCILER_RESULT=already-exists');
  });

  it('does nothing on an instance that is not in the batch', () => {
    const { run, calls } = setup();
    const result = run('i-other');
    expect(result.status).toBe(10);
    expect(calls()).toBe('');
  });
});
