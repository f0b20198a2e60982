import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  renderInstallScript,
  UnsafeValueError,
} from '../../functions/asg-reconciler/src/install-command';
import { testTls } from '../../functions/asg-reconciler/testing/test-tls';

const ROOT = resolve(__dirname, '../..');
const TEMPLATE = join(ROOT, 'templates/reconciler/install.sh');
const ADMIN_PASSWORD = 'AdminSecretValue123';
const DB_PASSWORD = 'DbSecretValue456';
/** What the reconciler Lambda writes to the enrolment secret: the enrolment user's password. */
const ENROLMENT_PASSWORD = 'EnrolmentPassword321';
const ENROLMENT_USER = 'pmm-asg-reconciler-enrolment';
const ENROLMENT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-enrolment-token-x';

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

const NODE_TOKEN = 'glsa_NodeToken789';
const SECRETS = [ADMIN_PASSWORD, DB_PASSWORD, NODE_TOKEN, ENROLMENT_PASSWORD];

/** Real commands the script runs, wrapped to record their argv (builtins such as printf are not processes). */
const WRAPPED = [
  'python3',
  'awk',
  'grep',
  'head',
  'rm',
  'mktemp',
  'cut',
  'sleep',
  'flock',
  'cat',
  'openssl',
  'sed',
];
/** The PMM host's CA (what the reconciler reads from SSM and passes in PMM_CA_CERTIFICATE). */
const CA = testTls('IP:10.0.0.5').ca;

/**
 * Stub commands that record their argv (one line per call) and simulate machine state. Every
 * process the script starts, stub or wrapped real command, appends its argv to $STATE/argv.
 */
function stubs(dir: string): void {
  const stub = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(
      p,
      `#!/bin/sh\necho "${name} $*" >> "$STATE/calls"\necho "${name} $*" >> "$STATE/argv"\n${body}\n`,
    );
    chmodSync(p, 0o755);
  };
  for (const name of WRAPPED) {
    const real = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) continue;
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\necho "${name} $*" >> "$STATE/argv"\nexec ${real} "$@"\n`);
    chmodSync(p, 0o755);
  }
  stub('dpkg-query', '[ -f "$STATE/installed" ] && printf "install ok installed" || exit 1');
  stub('apt-get', 'case "$*" in *pmm-client*) touch "$STATE/installed";; esac');
  stub('percona-release', ':');
  stub('update-ca-certificates', ':');
  stub('systemctl', ':');
  // The PMM API: records the -K config (and its mode) and the body from stdin, answers like
  // PMM 3 (200, or 409 "already exists").
  stub(
    'curl',
    [
      'case "$*" in *v1/management/services*) ;; *) exit 0;; esac',
      "out=''; cfg=''",
      'while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift;; -K) cfg=$2; shift;; esac; shift; done',
      'cp "$cfg" "$STATE/curl-config"; stat -c %a "$cfg" > "$STATE/curl-config-mode"',
      '/bin/cat > "$STATE/body"',
      'if [ -f "$STATE/exists" ]; then',
      `  printf '{"code":6,"message":"Service with name \\\\"x\\\\" already exists."}' > "$out"; printf 409; exit 0`,
      'fi',
      'if [ -f "$STATE/api-error" ]; then printf \'{"code":3,"message":"bad"}\' > "$out"; printf 400; exit 0; fi',
      'touch "$STATE/added"; printf \'{"mysql":{"service":{"service_id":"svc-1"}}}\' > "$out"; printf 200',
    ].join('\n'),
  );
  // Secrets Manager: the enrolment secret (JSON written by the Lambda), the DB password, and
  // the admin secret, which the script must never read (recorded if it does).
  stub(
    'aws',
    [
      'case "$*" in',
      `  *pmm-enrolment-token*) [ -f "$STATE/no-token" ] && exit 254; [ -f "$STATE/cleared" ] && { printf '{"revoked_at":"2030-01-01T00:00:00.000Z"}'; exit 0; }; printf '{"username":"${ENROLMENT_USER}","password":"${ENROLMENT_PASSWORD}","issued_at":"2030-01-01T00:00:00.000Z"}';;`,
      `  *pmm-admin*) touch "$STATE/admin-read"; printf '%s' "${ADMIN_PASSWORD}";;`,
      `  *db-pw*) printf '{"username":"pmm","password":"${DB_PASSWORD}"}';;`,
      'esac',
    ].join('\n'),
  );
  // pmm-agent setup: needs the enrolment user and its password in its environment, saves
  // what PMM 3 saves for a user-registered node (username service_token, the node's own
  // service-account token as password) and prints its progress.
  stub(
    'pmm-agent',
    [
      `case " $* " in *" --server-username=${ENROLMENT_USER} "*) ;; *) echo "not the enrolment user" >&2; exit 3;; esac`,
      `[ "$PMM_AGENT_SERVER_PASSWORD" = "${ENROLMENT_PASSWORD}" ] || { echo "no password in env" >&2; exit 2; }`,
      '[ -f "$STATE/setup-fails" ] && { echo "Failed to register pmm-agent on PMM Server: boom."; exit 1; }',
      '[ -f "$STATE/setup-echoes" ] && echo "password was $PMM_AGENT_SERVER_PASSWORD"',
      'cfg=${2#--config-file=}',
      'insecure=false; case " $* " in *" --server-insecure-tls "*) insecure=true;; esac',
      `printf 'id: /agent_id/a1\\nlisten-port: 7777\\nserver:\\n    address: 10.0.0.5:443\\n    username: service_token\\n    password: ${NODE_TOKEN}\\n    insecure-tls: %s\\npaths:\\n    username: not-this\\n' "$insecure" > "$cfg"`,
      'echo "Registering pmm-agent on PMM Server..."; echo "Registered."',
      'touch "$STATE/configured"',
    ].join('\n'),
  );
  stub(
    'pmm-admin',
    [
      'case "$1" in',
      '  status) [ -f "$STATE/configured" ] || exit 1',
      '    if [ "$2" = "--json" ]; then printf \'{"pmm_agent_status":{"agent_id":"/agent_id/a1","node_id":"/node_id/n1","server_url":"https://10.0.0.5:443/","connected":true},"pmm_admin_version":"3.4.0"}\\n\'',
      '    else printf "PMM Server:\\n\\tURL    : https://10.0.0.5:443/\\nPMM Client:\\n\\tConnected        : true\\n"; fi;;',
      '  list) [ -f "$STATE/added" ] && printf "MySQL  db/ip-10-0-1-7  127.0.0.1:3306  svc-1\\n"; exit 0;;',
      '  add) echo "pmm-admin add must not be used"; exit 1;;',
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

  function setup(ca = CA) {
    const dir = mkdtempSync(join(tmpdir(), 'pmm-install-'));
    const bin = join(dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    stubs(bin);
    const script = renderInstallScript(
      {
        pmmServerAddress: '10.0.0.5',
        pmmCaCertificate: ca,
        enrolmentSecretArn: ENROLMENT_ARN,
        managedBy: 'pmm-asg-reconciler',
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
          PMM_AGENT_CONFIG: join(dir, 'pmm-agent.yaml'),
          PMM_CA_FILE: join(dir, 'ca/pmm-server-ca.crt'),
        },
      });
    const calls = () =>
      existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';
    const argv = () =>
      existsSync(join(dir, 'argv')) ? readFileSync(join(dir, 'argv'), 'utf8') : '';
    const file = (name: string) => readFileSync(join(dir, name), 'utf8');
    return { dir, run, calls, argv, file };
  }

  it('installs, registers and adds MySQL once, then changes nothing on a re-run', () => {
    const { run, calls, dir } = setup();
    const first = run();
    expect(first.stdout).toContain('PMM_RECONCILER_RESULT=enrolled');
    expect(first.status).toBe(0);
    expect(calls()).toMatch(/^percona-release enable pmm3-client$/m);
    expect(calls()).toMatch(/^apt-get -o DPkg::Lock::Timeout=300 install -y -q pmm-client$/m);
    expect(calls()).toMatch(
      /^pmm-agent setup .*--server-address=10\.0\.0\.5:443 .* --force 10\.0\.1\.7 generic db\/ip-10-0-1-7$/m,
    );
    expect(calls()).toMatch(
      /^curl -sS -m 60 --cacert \S+\/ca\/pmm-server-ca\.crt -K \S+ -X POST -H Content-Type: application\/json --data-binary @- -o \S+ -w %\{http_code\} https:\/\/10\.0\.0\.5:443\/v1\/management\/services$/m,
    );
    expect(calls()).not.toMatch(/^pmm-admin add/m);

    writeFileSync(join(dir, 'calls'), '');
    const second = run();
    expect(second.status).toBe(0);
    expect(calls()).not.toMatch(/apt-get|percona-release|pmm-agent setup|v1\/management|^aws /m);
  });

  it('waits for the dpkg lock (unattended-upgrades) on every apt-get call', () => {
    const { run, calls } = setup();
    expect(run().status).toBe(0);
    const apt = calls()
      .split('\n')
      .filter((l) => l.startsWith('apt-get '));
    expect(apt.length).toBeGreaterThan(0);
    for (const line of apt) expect(line).toMatch(/^apt-get -o DPkg::Lock::Timeout=300 /);
  });

  it('adds MySQL through POST /v1/management/services with the body PMM 3 expects', () => {
    const { run, file } = setup();
    expect(run().status).toBe(0);
    // api/management/v1/service.proto AddServiceRequest{mysql: AddMySQLServiceParams}.
    expect(JSON.parse(file('body'))).toEqual({
      mysql: {
        node_id: '/node_id/n1',
        pmm_agent_id: '/agent_id/a1',
        service_name: 'db/ip-10-0-1-7',
        address: '127.0.0.1',
        port: 3306,
        username: 'pmm',
        password: DB_PASSWORD,
        qan_mysql_perfschema: true,
        // The ownership marker the reconciler removes by (ownership.ts).
        custom_labels: { aws_instance_id: 'i-07', managed_by: 'pmm-asg-reconciler' },
      },
    });
    // The node's own credential, from the pmm-agent config, in a 0600 curl config file.
    expect(file('curl-config')).toBe(`user = "service_token:${NODE_TOKEN}"\n`);
    expect(file('curl-config-mode').trim()).toBe('600');
  });

  it('keeps every secret out of every argv and out of the output', () => {
    const { run, argv, calls } = setup();
    const result = run();
    expect(result.status).toBe(0);
    expect(argv()).toMatch(/^python3 /m); // the wrappers did record the real commands
    expect(argv()).toMatch(/^curl /m);
    for (const secret of SECRETS) {
      expect(argv()).not.toContain(secret);
      expect(calls()).not.toContain(secret);
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  it('prints the pmm-agent setup output for diagnosis, withholding it if it holds the password', () => {
    const ok = setup().run();
    expect(ok.stdout).toContain('Registered.');

    const failing = setup();
    writeFileSync(join(failing.dir, 'setup-fails'), '');
    const failed = failing.run();
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('Failed to register pmm-agent on PMM Server: boom.');
    expect(failed.stdout).toContain('PMM_RECONCILER_RESULT=error:pmm-agent setup exited 1');

    const echoing = setup();
    writeFileSync(join(echoing.dir, 'setup-echoes'), '');
    const echoed = echoing.run();
    expect(echoed.stdout).toContain('output withheld');
    expect(echoed.stdout + echoed.stderr).not.toContain(ENROLMENT_PASSWORD);
  });

  it('registers as the enrolment user with its password in the environment only; never reads the admin secret', () => {
    const { run, calls, argv, dir, file } = setup();
    const result = run();
    expect(result.status).toBe(0);
    // The stub exits 2/3 unless the password is in its environment and the user is ours.
    expect(calls()).toMatch(/^pmm-agent setup .*--server-username=pmm-asg-reconciler-enrolment /m);
    expect(calls()).toMatch(
      new RegExp(
        `^aws secretsmanager get-secret-value --region eu-west-1 --secret-id ${ENROLMENT_ARN} `,
        'm',
      ),
    );
    expect(argv()).not.toContain(ENROLMENT_PASSWORD);
    expect(result.stdout + result.stderr).not.toContain(ENROLMENT_PASSWORD);
    expect(calls()).not.toMatch(/pmm-admin-|--server-username=admin/);
    expect(existsSync(join(dir, 'admin-read'))).toBe(false);
    // pmm-agent keeps the node's own token, not the enrolment password.
    expect(file('pmm-agent.yaml')).toContain(NODE_TOKEN);
    expect(file('pmm-agent.yaml')).not.toContain(ENROLMENT_PASSWORD);
  });

  it('fails clearly, before pmm-agent, when the enrolment secret cannot be read', () => {
    const { run, calls, dir } = setup();
    writeFileSync(join(dir, 'no-token'), '');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      'PMM_RECONCILER_RESULT=error:cannot read the enrolment secret (GetSecretValue on it for this instance?)',
    );
    expect(calls()).not.toMatch(/^pmm-agent /m);
  });

  it('fails clearly, before pmm-agent, when the secret was cleared (the credential revoked)', () => {
    const { run, calls, dir } = setup();
    writeFileSync(join(dir, 'cleared'), '');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      'PMM_RECONCILER_RESULT=error:no enrolment credential in the enrolment secret (no install in flight?)',
    );
    expect(calls()).not.toMatch(/^pmm-agent /m);
  });

  it('reports "already exists" (HTTP 409) with exit code 17 for the reconciler to clean up', () => {
    const { run, dir } = setup();
    writeFileSync(join(dir, 'exists'), '');
    const result = run();
    expect(result.status).toBe(17);
    expect(result.stdout).toContain('PMM_RECONCILER_RESULT=already-exists');
  });

  it('fails with the API answer on any other HTTP error', () => {
    const { run, dir } = setup();
    writeFileSync(join(dir, 'api-error'), '');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('PMM API answered HTTP 400');
    expect(result.stdout).toContain(
      'PMM_RECONCILER_RESULT=error:PMM API add service answered HTTP 400',
    );
  });

  it('never skips TLS verification: no --insecure or --server-insecure-tls in the script or any argv', () => {
    const template = readFileSync(TEMPLATE, 'utf8');
    expect(template).not.toMatch(/--insecure|--server-insecure-tls|-k\b/);
    const { run, argv } = setup();
    expect(run().status).toBe(0);
    expect(argv()).not.toMatch(/--insecure|--server-insecure-tls/);
  });

  it('trusts exactly the given CA: system store for pmm-agent, --cacert for curl', () => {
    const { run, calls, dir } = setup();
    expect(run().status).toBe(0);
    const installed = readFileSync(join(dir, 'ca/pmm-server-ca.crt'), 'utf8');
    expect(installed).toBe(CA.trimEnd() + '\n');
    expect(calls()).toMatch(/^update-ca-certificates\s*$/m);
    // A re-run with the same CA touches nothing.
    writeFileSync(join(dir, 'calls'), '');
    expect(run().status).toBe(0);
    expect(calls()).not.toMatch(/update-ca-certificates|systemctl/);
  });

  it('upgrades an agent registered with --server-insecure-tls by an earlier release: verification on, restarted', () => {
    const { run, calls, dir } = setup();
    expect(run().status).toBe(0);
    const cfg = join(dir, 'pmm-agent.yaml');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('insecure-tls: false', 'insecure-tls: true'),
    );
    writeFileSync(join(dir, 'calls'), '');
    expect(run().status).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toMatch(/^    insecure-tls: false$/m);
    expect(readFileSync(cfg, 'utf8')).not.toMatch(/insecure-tls: true/);
    expect(calls()).toMatch(/^systemctl restart pmm-agent$/m);
    expect(calls()).not.toMatch(/pmm-agent setup/);
  });

  it('the reconciler refuses to render a command without a PEM CA certificate', () => {
    for (const bad of [
      '',
      'unpublished',
      '-----BEGIN CERTIFICATE-----\n$(reboot)\n-----END CERTIFICATE-----\n',
    ]) {
      expect(() => setup(bad)).toThrow(UnsafeValueError);
    }
  });

  it.each([
    ['empty', ''],
    [
      'not a certificate',
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----',
    ],
  ])(
    'refuses to run with an %s CA parameter, before installing or registering anything',
    (_, value) => {
      const { dir } = setup();
      const script = readFileSync(join(dir, 'script.sh'), 'utf8').replace(
        /^PMM_CA_CERTIFICATE='[^']*'$/m,
        `PMM_CA_CERTIFICATE='${value}'`,
      );
      expect(script).toContain(`PMM_CA_CERTIFICATE='${value}'`);
      writeFileSync(join(dir, 'script.sh'), script);
      const r = spawnSync('sh', [join(dir, 'script.sh')], {
        encoding: 'utf8',
        env: {
          PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
          STATE: dir,
          AWS_SSM_INSTANCE_ID: 'i-07',
          PMM_RECONCILER_LOCK: join(dir, 'lock'),
          PMM_AGENT_CONFIG: join(dir, 'pmm-agent.yaml'),
          PMM_CA_FILE: join(dir, 'ca/pmm-server-ca.crt'),
        },
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(
        /PMM_RECONCILER_RESULT=error:.*(no PMM CA certificate|not a readable certificate)/,
      );
      const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';
      expect(calls).not.toMatch(/apt-get|pmm-agent|update-ca-certificates|^aws /m);
      expect(existsSync(join(dir, 'ca/pmm-server-ca.crt'))).toBe(false);
    },
  );

  it('does nothing on an instance that is not in the batch', () => {
    const { run, calls } = setup();
    const result = run('i-other');
    expect(result.status).toBe(10);
    expect(calls()).toBe('');
  });
});
