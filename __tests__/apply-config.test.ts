/**
 * templates/host/apply-config.sh (pmm-config.timer) against a fake SSM (files), a fake
 * registry (docker stub whose "3" can move to a new digest) and a recording systemctl:
 * a config change applies in place with one PMM restart; an unchanged config does nothing;
 * a reboot or a replaced host never moves to a newer image than the one recorded for the
 * applied config; every failure leaves the host exactly as it was.
 */
import { spawnSync } from 'node:child_process';
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

interface Config {
  tag?: string;
  volume?: string;
  telemetry?: string;
  address?: string;
  queries?: Partial<Record<'high' | 'medium' | 'low', string>>;
  extraLine?: string;
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

  run(env: Record<string, string> = {}) {
    writeFileSync(calls, '');
    const r = spawnSync('bash', [join(TEMPLATE_DIR, 'apply-config.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        PMM_CONFIG_PATH: PATH_PREFIX,
        PMM_AWS_CLI: aws,
        DOCKER: docker,
        PMM_SYSTEMCTL: systemctl,
        PMM_ETC_DIR: this.etc,
        SSM_DIR: this.ssm,
        REGISTRY_DIGEST: DIGEST_A,
        ...env,
      },
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
    expect(r.calls.every((c) => c.startsWith('aws ssm get-parameter'))).toBe(true);
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
    ])('%s', (_, change, message) =>
      expectUnchanged(({ put }) => {
        put(change as Config);
        return {};
      }, message),
    );
  });
});
