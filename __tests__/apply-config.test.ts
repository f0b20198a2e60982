/**
 * templates/host/apply-config.sh (pmm-config.timer) against a fake SSM (files), a fake
 * registry (docker stub whose "3" can move to a new digest) and a recording systemctl:
 * a config change applies in place with one PMM restart; an unchanged config does nothing;
 * a reboot or a replaced host never moves to a newer image than the one recorded for the
 * applied config; every failure leaves the host exactly as it was. Tuning (issue 16):
 * retention, resolutions, ClickHouse profile and extra env reach the container's env file with
 * one restart; the swap size goes to swap.sh on every run and alone restarts nothing; invalid
 * or module-owned values are refused before anything is touched; one run at a time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TEMPLATE_DIR } from '../constructs/host/user-data';
import { MODULE_SET_ENV_NAMES, MODULE_SET_ENV_PREFIXES } from '../constructs/pmm-tuning';

const work = mkdtempSync(join(tmpdir(), 'pmm-apply-config-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const PATH_PREFIX = '/pmm/pmm-server-production';
const SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-server-production-admin-AbCdEf';
const DIGEST_A = 'a'.repeat(64);
const DIGEST_B = 'b'.repeat(64);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function stub(name: string, body: string): string {
  const file = join(work, name);
  writeFileSync(file, `#!/usr/bin/env bash\nset -u\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const calls = join(work, 'calls');
// Fake AWS CLI: parameters are files under $SSM_DIR (name with / -> _).
const aws = stub(
  'aws',
  `echo "aws $*" >> ${JSON.stringify(calls)}
name=""; value=""; op="$2"
while (($#)); do case $1 in --name) name=$2; shift ;; --value) value=$2; shift ;; esac; shift; done
file="$SSM_DIR/\${name//\\//_}"
case $op in
  get-parameter)
    [[ -n \${FAIL_GET:-} && $name == *"$FAIL_GET"* ]] && { echo "AccessDenied" >&2; exit 255; }
    [[ -f $file ]] || { echo "ParameterNotFound" >&2; exit 254; }
    cat "$file"; echo ;;
  put-parameter)
    [[ -n \${FAIL_PUT:-} ]] && { echo "AccessDenied" >&2; exit 255; }
    printf '%s' "$value" > "$file" ;;
  *) exit 2 ;;
esac`,
);
// Fake docker: "pull" of the tag fails with FAIL_PULL; the tag resolves to $REGISTRY_DIGEST.
const docker = stub(
  'docker',
  `echo "docker $*" >> ${JSON.stringify(calls)}
case $1 in
  pull) [[ -n \${FAIL_PULL:-} ]] && exit 1; exit 0 ;;
  image) echo "docker.io/percona/pmm-server@sha256:$REGISTRY_DIGEST" ;;
esac`,
);
const systemctl = stub('systemctl', `echo "systemctl $*" >> ${JSON.stringify(calls)}`);
// Fake swap.sh: records the size; FAIL_SWAP makes it fail.
const swap = stub(
  'swap',
  `echo "swap $*" >> ${JSON.stringify(calls)}; [[ -z \${FAIL_SWAP:-} ]] || exit 1`,
);

interface Config {
  tag?: string;
  volume?: string;
  telemetry?: string;
  address?: string;
  queries?: Partial<Record<'high' | 'medium' | 'low', string>>;
  extraLine?: string;
  /** No tuning lines at all: a configuration written before issue 16. */
  legacy?: boolean;
  retention?: string;
  hr?: string;
  mr?: string;
  lr?: string;
  clickhouse?: string;
  swapMiB?: string;
  extra?: Record<string, string>;
}

function configText(c: Config = {}): string {
  const q = c.queries ?? {};
  return [
    `PMM_IMAGE_TAG=percona/pmm-server:${c.tag ?? '3'}`,
    `PMM_DATA_VOLUME_ID=${c.volume ?? 'vol-0123456789abcdef0'}`,
    `PMM_ADMIN_SECRET_ARN=${SECRET_ARN}`,
    `PMM_ENABLE_TELEMETRY=${c.telemetry ?? 'false'}`,
    `PMM_PUBLIC_ADDRESS=${c.address ?? 'pmm.example.com'}`,
    ...(['high', 'medium', 'low'] as const).map(
      (r) => `PMM_CUSTOM_QUERIES_${r.toUpperCase()}_SHA256=${q[r] ? sha256(q[r]!) : ''}`,
    ),
    ...(c.legacy
      ? []
      : [
          `PMM_DATA_RETENTION=${c.retention ?? ''}`,
          `PMM_METRICS_RESOLUTION_HR=${c.hr ?? ''}`,
          `PMM_METRICS_RESOLUTION_MR=${c.mr ?? ''}`,
          `PMM_METRICS_RESOLUTION_LR=${c.lr ?? ''}`,
          `PMM_CLICKHOUSE_CONFIG=${c.clickhouse ?? ''}`,
          `PMM_HOST_SWAP_MIB=${c.swapMiB ?? '2048'}`,
          ...Object.entries(c.extra ?? {}).map(([k, v]) => `PMM_EXTRA_ENV_${k}=${v}`),
        ]),
    ...(c.extraLine ? [c.extraLine] : []),
    '',
  ].join('\n');
}

/** One host: its /etc/pmm and the shared SSM store. */
class Host {
  readonly etc: string;
  constructor(
    readonly ssm: string,
    name: string,
  ) {
    this.etc = join(work, name, 'etc-pmm');
    mkdirSync(this.etc, { recursive: true });
  }

  runEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      PMM_CONFIG_PATH: PATH_PREFIX,
      PMM_AWS_CLI: aws,
      DOCKER: docker,
      PMM_SYSTEMCTL: systemctl,
      PMM_SWAP_CMD: swap,
      PMM_ETC_DIR: this.etc,
      SSM_DIR: this.ssm,
      REGISTRY_DIGEST: DIGEST_A,
      ...env,
    };
  }

  run(env: Record<string, string> = {}) {
    writeFileSync(calls, '');
    const r = spawnSync('bash', [join(TEMPLATE_DIR, 'apply-config.sh')], {
      encoding: 'utf8',
      env: this.runEnv(env),
    });
    return {
      code: r.status,
      out: r.stdout + r.stderr,
      calls: readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean),
    };
  }

  /** Every file under /etc/pmm with its content (to prove "nothing changed"). */
  files(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (dir: string, rel: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
        else out[`${rel}${e.name}`] = readFileSync(p, 'utf8');
      }
    };
    walk(this.etc, '');
    return out;
  }

  env(file: string): string {
    return readFileSync(join(this.etc, file), 'utf8');
  }
}

let n = 0;
/** A fresh SSM store holding `config` (and its query parameters), and a fresh host. */
function setup(c: Config = {}): { ssm: string; host: Host; put: (c: Config) => void } {
  const ssm = join(work, `ssm-${++n}`);
  mkdirSync(ssm);
  const put = (cfg: Config) => {
    writeFileSync(join(ssm, `${PATH_PREFIX}/config`.replace(/\//g, '_')), configText(cfg));
    for (const [r, yaml] of Object.entries(cfg.queries ?? {})) {
      writeFileSync(
        join(ssm, `${PATH_PREFIX}/custom-queries/${r}`.replace(/\//g, '_')),
        gzipSync(yaml!).toString('base64'),
      );
    }
  };
  put(c);
  writeFileSync(join(ssm, `${PATH_PREFIX}/image`.replace(/\//g, '_')), 'unresolved');
  return { ssm, host: new Host(ssm, `host-${n}`), put };
}
const record = (ssm: string) =>
  readFileSync(join(ssm, `${PATH_PREFIX}/image`.replace(/\//g, '_')), 'utf8');

describe('apply-config.sh', () => {
  it('applies a first configuration: resolves the tag to a digest, records it, starts the volume, restarts PMM', () => {
    const { ssm, host } = setup();
    const r = host.run();
    expect(r.code).toBe(0);
    expect(host.env('runtime.env')).toBe(
      `PMM_IMAGE=percona/pmm-server@sha256:${DIGEST_A}\nPMM_DATA_VOLUME_ID=vol-0123456789abcdef0\nPMM_ADMIN_SECRET_ARN=${SECRET_ARN}\n`,
    );
    expect(host.env('pmm-server.env')).toBe(
      'PMM_ENABLE_TELEMETRY=false\nPMM_PUBLIC_ADDRESS=pmm.example.com\nGF_SECURITY_COOKIE_SECURE=true\n',
    );
    expect(record(ssm)).toMatch(
      new RegExp(`^config=[0-9a-f]{64} image=percona/pmm-server@sha256:${DIGEST_A} tag=3$`),
    );
    expect(r.calls).toContain('docker pull --quiet percona/pmm-server:3');
    expect(r.calls.slice(-2)).toEqual([
      'systemctl start --no-block pmm-data-volume.service',
      'systemctl try-restart --no-block pmm-server.service',
    ]);
  });

  it('does nothing, silently, while the configuration is unchanged (every minute)', () => {
    const { host } = setup();
    host.run();
    const before = host.files();
    const r = host.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.calls.every((c) => c.startsWith('aws ssm get-parameter') || c === 'swap 2048')).toBe(
      true,
    );
    expect(host.files()).toEqual(before);
  });

  it.each<[string, Config]>([
    ['telemetry', { telemetry: 'true' }],
    ['public address (first DNS name)', { address: 'monitoring.example.com' }],
    ['pmm_version', { tag: '3.9.0' }],
    ['custom queries', { queries: { high: 'pg_x:\n  query: SELECT 1\n' } }],
  ])('applies a %s change in place: one PMM restart, the data volume untouched', (_, change) => {
    const { host, put } = setup();
    host.run();
    put(change);
    const r = host.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('systemctl'))).toEqual([
      'systemctl try-restart --no-block pmm-server.service',
    ]);
    if (change.telemetry) expect(host.env('pmm-server.env')).toContain('PMM_ENABLE_TELEMETRY=true');
    if (change.address)
      expect(host.env('pmm-server.env')).toContain('PMM_PUBLIC_ADDRESS=monitoring.example.com');
    if (change.queries)
      expect(host.env('custom-queries/postgresql/high-resolution/queries-custom.yml')).toBe(
        change.queries.high,
      );
    // An applied change resolves the tag again: that is when "3" may move.
    expect(host.env('runtime.env')).toContain(`@sha256:${DIGEST_B}`);
  });

  it('removes a custom query file whose variable became null', () => {
    const { host, put } = setup({ queries: { low: 'pg_y: {}\n' } });
    host.run();
    const file = join(host.etc, 'custom-queries/postgresql/low-resolution/queries-custom.yml');
    expect(readFileSync(file, 'utf8')).toBe('pg_y: {}\n');
    put({});
    expect(host.run().code).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('a reboot keeps the applied digest even when "3" moved in the registry', () => {
    const { host } = setup();
    host.run();
    const r = host.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(r.calls.some((c) => c.startsWith('docker'))).toBe(false);
    expect(host.env('runtime.env')).toContain(`@sha256:${DIGEST_A}`);
  });

  it('a replaced host reuses the digest recorded for the same configuration, never the newer "3"', () => {
    const { ssm, host } = setup();
    host.run();
    const recorded = record(ssm);
    const replacement = new Host(ssm, `host-${n}-replacement`);
    const r = replacement.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(r.code).toBe(0);
    expect(replacement.env('runtime.env')).toContain(
      `PMM_IMAGE=percona/pmm-server@sha256:${DIGEST_A}`,
    );
    expect(r.calls).toContain(`docker pull --quiet percona/pmm-server@sha256:${DIGEST_A}`);
    expect(r.calls).not.toContain('docker pull --quiet percona/pmm-server:3');
    expect(r.calls.some((c) => c.startsWith('aws ssm put-parameter'))).toBe(false);
    expect(record(ssm)).toBe(recorded);
  });

  it('a restored data volume (new volume id) keeps the recorded image, also on a replaced host', () => {
    const { ssm, host, put } = setup();
    host.run();
    put({ volume: 'vol-0fedcba9876543210' });
    const r = host.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(r.code).toBe(0);
    expect(host.env('runtime.env')).toContain(`@sha256:${DIGEST_A}`);
    expect(host.env('runtime.env')).toContain('PMM_DATA_VOLUME_ID=vol-0fedcba9876543210');
    expect(r.calls).toContain('systemctl start --no-block pmm-data-volume.service');
    const replacement = new Host(ssm, `host-${n}-restored`);
    replacement.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(replacement.env('runtime.env')).toContain(`@sha256:${DIGEST_A}`);
    expect(record(ssm)).toContain(`@sha256:${DIGEST_A}`);
  });

  it('a record for older PMM settings is not reused: the new ones are resolved', () => {
    const { ssm, host, put } = setup();
    host.run();
    put({ telemetry: 'true' });
    const replacement = new Host(ssm, `host-${n}-new`);
    replacement.run({ REGISTRY_DIGEST: DIGEST_B });
    expect(replacement.env('runtime.env')).toContain(`@sha256:${DIGEST_B}`);
    expect(record(ssm)).toContain(`@sha256:${DIGEST_B}`);
  });

  describe('failures change nothing on the host and restart nothing', () => {
    function expectUnchanged(
      prepare: (s: ReturnType<typeof setup>) => Record<string, string>,
      message: string,
      refusedBeforeSwap = false,
    ) {
      const s = setup();
      s.host.run();
      const before = s.host.files();
      const recorded = record(s.ssm);
      const env = prepare(s);
      const r = s.host.run(env);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain(message);
      expect(r.calls.some((c) => c.startsWith('systemctl'))).toBe(false);
      if (refusedBeforeSwap) expect(r.calls.some((c) => c.startsWith('swap'))).toBe(false);
      expect(s.host.files()).toEqual(before);
      expect(record(s.ssm)).toBe(recorded);
    }

    it('SSM unreachable', () =>
      expectUnchanged(({ put }) => {
        put({ telemetry: 'true' });
        return { FAIL_GET: '/config' };
      }, 'could not read /pmm/pmm-server-production/config'));

    it('the registry is down (the new tag cannot be pulled)', () =>
      expectUnchanged(({ put }) => {
        put({ tag: '3.9.0' });
        return { FAIL_PULL: '1' };
      }, 'PMM keeps running its current image'));

    it('the image cannot be recorded', () =>
      expectUnchanged(({ put }) => {
        put({ tag: '3.9.0' });
        return { FAIL_PUT: '1' };
      }, 'could not record the image'));

    it('a custom query parameter does not match the config yet (apply in progress)', () =>
      expectUnchanged(({ ssm, put }) => {
        put({ queries: { medium: 'pg_new: {}\n' } });
        writeFileSync(
          join(ssm, `${PATH_PREFIX}/custom-queries/medium`.replace(/\//g, '_')),
          gzipSync('pg_old: {}\n').toString('base64'),
        );
        return {};
      }, 'does not match the configuration yet'));

    it.each([
      ['a malformed line', { extraLine: 'not an assignment' }, 'malformed line'],
      [
        'shell in the public address',
        { address: 'pmm.example.com$(touch /tmp/pwned)' },
        'PMM_PUBLIC_ADDRESS is missing or malformed',
      ],
      ['an image from another repository', { tag: '3 evil/image:1' }, 'PMM_IMAGE_TAG'],
      ['a bad volume id', { volume: 'nvme1n1' }, 'PMM_DATA_VOLUME_ID'],
      ['a bad telemetry flag', { telemetry: 'yes' }, 'PMM_ENABLE_TELEMETRY'],
      ['data_retention "30d" (Go has no days)', { retention: '30d' }, 'PMM_DATA_RETENTION'],
      ['data_retention of 36h (not whole days)', { retention: '36h' }, 'whole days'],
      ['data_retention of 12h (under a day)', { retention: '12h' }, 'whole days'],
      ['data_retention past 3650 days', { retention: '87624h' }, 'whole days'],
      ['data_retention with shell', { retention: '720h$(id)' }, 'PMM_DATA_RETENTION'],
      ['a fractional resolution', { hr: '1.5s' }, 'PMM_METRICS_RESOLUTION_HR'],
      ['a zero resolution', { lr: '0s' }, 'PMM_METRICS_RESOLUTION_LR'],
      ['an unknown ClickHouse profile', { clickhouse: 'huge' }, 'PMM_CLICKHOUSE_CONFIG'],
      ['a ClickHouse profile path', { clickhouse: '../../tmp/evil' }, 'PMM_CLICKHOUSE_CONFIG'],
      ['a bad swap size', { swapMiB: '4G' }, 'PMM_HOST_SWAP_MIB'],
      [
        'a module-set name in pmm_extra_env',
        { extra: { PMM_DATA_RETENTION: '1h' } },
        'pmm_extra_env may not set PMM_DATA_RETENTION',
      ],
      [
        'the admin password in pmm_extra_env',
        { extra: { GF_SECURITY_ADMIN_PASSWORD: 'admin' } },
        'pmm_extra_env may not set GF_SECURITY_ADMIN_PASSWORD',
      ],
      ['a non-PMM name in pmm_extra_env', { extra: { PATH_X: '/tmp' } }, 'PMM_* or GF_*'],
      [
        'a control character in a pmm_extra_env value',
        { extra: { GF_X: 'a\tb' } },
        'not printable ASCII',
      ],
      [
        'a second line for a key (a value that smuggled a newline)',
        { extraLine: 'PMM_IMAGE_TAG=percona/pmm-server:2' },
        'PMM_IMAGE_TAG appears twice',
      ],
    ])('%s', (_, change, message) =>
      expectUnchanged(
        ({ put }) => {
          put(change as Config);
          return {};
        },
        message,
        true,
      ),
    );
  });
  describe('tuning (issue 16)', () => {
    it('a data_retention change rewrites the env file and restarts PMM once; the data volume is untouched', () => {
      const { host, put } = setup();
      host.run();
      put({ retention: '168h' });
      const r = host.run();
      expect(r.code).toBe(0);
      expect(host.env('pmm-server.env')).toBe(
        'PMM_ENABLE_TELEMETRY=false\nPMM_PUBLIC_ADDRESS=pmm.example.com\nGF_SECURITY_COOKIE_SECURE=true\nPMM_DATA_RETENTION=168h\n',
      );
      expect(r.calls.filter((c) => c.startsWith('systemctl'))).toEqual([
        'systemctl try-restart --no-block pmm-server.service',
      ]);
      // Unchanged on the next tick: nothing restarts.
      const again = host.run();
      expect(again.calls.some((c) => c.startsWith('systemctl') || c.startsWith('docker'))).toBe(
        false,
      );
      expect(again.out).toBe('');
    });

    it('passes resolutions, the ClickHouse profile and extra env to the container (sorted), and drops what is unset', () => {
      const { host, put } = setup();
      host.run();
      put({
        hr: '1s',
        mr: '10s',
        lr: '1m',
        clickhouse: 'low-memory',
        extra: { GF_SMTP_HOST: 'smtp.example.com:587', GF_SMTP_ENABLED: 'true', PMM_DEBUG: '1' },
      });
      const r = host.run();
      expect(r.code).toBe(0);
      expect(host.env('pmm-server.env')).toBe(
        [
          'PMM_ENABLE_TELEMETRY=false',
          'PMM_PUBLIC_ADDRESS=pmm.example.com',
          'GF_SECURITY_COOKIE_SECURE=true',
          'PMM_METRICS_RESOLUTION_HR=1s',
          'PMM_METRICS_RESOLUTION_MR=10s',
          'PMM_METRICS_RESOLUTION_LR=1m',
          'PMM_CLICKHOUSE_CONFIG=low-memory',
          'GF_SMTP_ENABLED=true',
          'GF_SMTP_HOST=smtp.example.com:587',
          'PMM_DEBUG=1',
          '',
        ].join('\n'),
      );
      // Values are not logged.
      expect(r.out).not.toContain('smtp.example.com');
      put({ extra: { PMM_DEBUG: '1' } });
      expect(host.run().calls).toContain('systemctl try-restart --no-block pmm-server.service');
      expect(host.env('pmm-server.env')).not.toMatch(/GF_SMTP|CLICKHOUSE|RESOLUTION/);
      expect(host.env('pmm-server.env')).toContain('PMM_DEBUG=1\n');
    });

    it('a configuration from before the tuning keys and one with them unset are the same: no restart, no new image', () => {
      const { host, put } = setup({ legacy: true });
      host.run();
      put({});
      const r = host.run({ REGISTRY_DIGEST: DIGEST_B });
      expect(r.code).toBe(0);
      expect(r.calls.some((c) => c.startsWith('systemctl') || c.startsWith('docker'))).toBe(false);
      expect(host.env('runtime.env')).toContain(`@sha256:${DIGEST_A}`);
    });

    it('a swap-only change (instance type) resizes swap and restarts nothing', () => {
      const { host, put } = setup({ swapMiB: '2048' });
      host.run();
      put({ swapMiB: '4096' });
      const r = host.run();
      expect(r.code).toBe(0);
      expect(r.calls).toContain('swap 4096');
      expect(r.calls.some((c) => c.startsWith('systemctl') || c.startsWith('docker'))).toBe(false);
    });

    it('keeps swap on every run (after a reboot too) and a swap failure never blocks PMM', () => {
      const { host, put } = setup();
      const first = host.run({ FAIL_SWAP: '1' });
      expect(first.code).toBe(0);
      expect(first.out).toContain('WARNING: could not set up 2048 MiB of swap');
      expect(first.calls).toContain('systemctl try-restart --no-block pmm-server.service');
      expect(host.run().calls).toContain('swap 2048');
      put({ swapMiB: '0' });
      expect(host.run().calls).toContain('swap 0');
    });

    it('one run at a time: a second run while the lock is held changes nothing and exits 0', () => {
      const { host, put } = setup();
      host.run();
      const before = host.files();
      put({ retention: '720h' });
      const lock = join(host.etc, 'apply-config.lock');
      const holder = spawnSync('flock', [lock, 'bash', join(TEMPLATE_DIR, 'apply-config.sh')], {
        encoding: 'utf8',
        env: host.runEnv({ PMM_CONFIG_PATH: PATH_PREFIX }),
      });
      expect(holder.status).toBe(0);
      // flock(1) held the lock while the script ran inside it: the script saw it taken.
      expect(holder.stdout).toContain('another run is applying the configuration');
      expect(host.files()).toEqual(before);
    });

    it('two concurrent runs of a change: both succeed, PMM restarts once', async () => {
      const { host, put } = setup();
      host.run();
      put({ retention: '240h' });
      writeFileSync(calls, '');
      // A slow registry keeps the first run inside its lock while the second starts.
      const slowDocker = stub(
        'docker-slow',
        `echo "docker $*" >> ${JSON.stringify(calls)}; [[ $1 == pull ]] && sleep 1
[[ $1 == image ]] && echo "docker.io/percona/pmm-server@sha256:$REGISTRY_DIGEST"; exit 0`,
      );
      const runOnce = () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const p = spawn('bash', [join(TEMPLATE_DIR, 'apply-config.sh')], {
            env: host.runEnv({ DOCKER: slowDocker }),
          });
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          p.stderr.on('data', (d) => (out += d));
          p.on('close', (code) => resolve({ code, out }));
        });
      const results = await Promise.all([runOnce(), runOnce()]);
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      const restarts = readFileSync(calls, 'utf8')
        .split('\n')
        .filter((c) => c === 'systemctl try-restart --no-block pmm-server.service');
      expect(restarts).toHaveLength(1);
      expect(host.env('pmm-server.env')).toContain('PMM_DATA_RETENTION=240h\n');
    });

    it('refuses exactly the names constructs/pmm-tuning.ts refuses (one list, two places)', () => {
      const script = readFileSync(join(TEMPLATE_DIR, 'apply-config.sh'), 'utf8');
      const names = /^reserved_names=" (.*) "$/m.exec(script)![1].split(' ');
      const prefixes = /^reserved_prefixes='\^\((.*)\)'$/m.exec(script)![1].split('|');
      expect(names).toEqual([...MODULE_SET_ENV_NAMES]);
      expect(prefixes).toEqual([...MODULE_SET_ENV_PREFIXES]);
    });
  });
});
