/**
 * templates/host/pmm-tls.sh: the private CA and nginx's certificate on the data volume, run
 * with real openssl, a stub AWS CLI (an SSM parameter in a file) and a stub docker.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../constructs/host/user-data';
import { shellcheckPath } from './helpers/shellcheck';

const SCRIPT = join(TEMPLATE_DIR, 'pmm-tls.sh');
const IP = '10.0.1.5';
const NAME = 'pmm.example.com';

let dir: string;
let srv: string;
let env: NodeJS.ProcessEnv;

function stub(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function run(args: string[] = [], over: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('bash', [SCRIPT, ...args], { env: { ...env, ...over }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const openssl = (...args: string[]) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const crt = () => join(srv, 'pmm-data/nginx/certificate.crt');
const key = () => join(srv, 'pmm-data/nginx/certificate.key');
const caCrt = () => join(srv, 'pmm-ca/ca.crt');
const published = () => readFileSync(join(dir, 'parameter'), 'utf8');
const calls = () =>
  existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8') : '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pmm-tls-test-'));
  srv = join(dir, 'srv');
  mkdirSync(join(srv, 'pmm-data'), { recursive: true });
  writeFileSync(join(dir, 'parameter'), 'unpublished');
  writeFileSync(
    join(dir, 'pmm-server.env'),
    `PMM_ENABLE_TELEMETRY=true\nPMM_PUBLIC_ADDRESS=${NAME}\n`,
  );
  // get-parameter prints the file; put-parameter --value=PEM writes it.
  const aws = stub(
    'aws',
    `echo "aws $1 $2" >>"${dir}/calls"
case $2 in
  get-parameter) cat "${dir}/parameter" ;;
  put-parameter) [[ -z \${FAIL_PUT:-} ]] || exit 1; for a in "$@"; do [[ $a == --value=* ]] && printf '%s' "\${a#--value=}" >"${dir}/parameter"; done ;;
esac`,
  );
  const docker = stub(
    'docker',
    `echo "docker $*" >>"${dir}/calls"; [[ $1 == inspect ]] && echo "\${RUNNING:-true}"; exit 0`,
  );
  env = {
    PATH: process.env.PATH,
    PMM_CONFIG_PATH: '/pmm/test',
    PMM_MOUNT_POINT: srv,
    PMM_DATA_OWNER: `${process.getuid!()}:${process.getgid!()}`,
    PMM_AWS_CLI: aws,
    DOCKER: docker,
    PMM_SERVER_ENV_FILE: join(dir, 'pmm-server.env'),
    PMM_PRIVATE_IP: IP,
  };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('pmm-tls.sh', () => {
  it('is shellcheck clean', () => {
    const r = spawnSync(shellcheckPath(), ['--severity=style', SCRIPT], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
  });

  it('creates a name-constrained CA outside the container mount, root-only, and a server certificate nginx reads', () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(statSync(join(srv, 'pmm-ca')).mode & 0o777).toBe(0o700);
    expect(statSync(join(srv, 'pmm-ca/ca.key')).mode & 0o077).toBe(0);
    // Nothing of the CA key under pmm-data (the container's /srv).
    const under = execFileSync('find', [join(srv, 'pmm-data')], { encoding: 'utf8' });
    expect(under).not.toMatch(/ca\.key/);
    const ca = openssl('x509', '-noout', '-text', '-in', caCrt());
    expect(ca).toMatch(/CA:TRUE, pathlen:0/);
    expect(ca).toMatch(
      /Name Constraints: critical\s+Permitted:\s+IP:10\.0\.1\.5\/255\.255\.255\.255\s+DNS:pmm\.example\.com/,
    );
    expect(openssl('verify', '-CAfile', caCrt(), crt())).toMatch(/OK/);
    const leaf = openssl('x509', '-noout', '-text', '-in', crt());
    expect(leaf).toMatch(/IP Address:10\.0\.1\.5, DNS:pmm\.example\.com/);
    expect(leaf).toMatch(/CA:FALSE/);
    expect(leaf).toMatch(/TLS Web Server Authentication/);
    expect(statSync(key()).mode & 0o077).toBe(0);
    expect(readFileSync(join(srv, 'pmm-data/nginx/ca-certs.pem'), 'utf8')).toBe(
      readFileSync(caCrt(), 'utf8'),
    );
    expect(published()).toBe(readFileSync(caCrt(), 'utf8').trimEnd());
  });

  it('is idempotent: a second run (reboot, replaced instance on the same volume) changes nothing', () => {
    run();
    const before = [caCrt(), join(srv, 'pmm-ca/ca.key'), crt(), key()].map((f) =>
      readFileSync(f, 'utf8'),
    );
    writeFileSync(join(dir, 'calls'), '');
    const r = run(['--reload']);
    expect(r.status).toBe(0);
    expect(r.out).toBe('');
    const after = [caCrt(), join(srv, 'pmm-ca/ca.key'), crt(), key()].map((f) =>
      readFileSync(f, 'utf8'),
    );
    expect(after).toEqual(before);
    expect(calls()).not.toMatch(/put-parameter|docker exec/);
  });

  it("replaces PMM's self-signed pair of an earlier release, keeping it once", () => {
    const nginx = join(srv, 'pmm-data/nginx');
    mkdirSync(nginx);
    openssl(
      'req',
      '-x509',
      '-nodes',
      '-days',
      '365',
      '-newkey',
      'rsa:2048',
      '-subj',
      '/CN=pmm-server',
      '-keyout',
      key(),
      '-out',
      crt(),
    );
    const old = readFileSync(crt(), 'utf8');
    const r = run();
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/not issued by this CA/);
    expect(readFileSync(join(nginx, 'certificate.crt.pmm-self-signed'), 'utf8')).toBe(old);
    expect(openssl('verify', '-CAfile', caCrt(), crt())).toMatch(/OK/);
  });

  it('re-issues a certificate that does not match its key (a crash between the two renames)', () => {
    run();
    const ca = readFileSync(caCrt(), 'utf8');
    // The new key was renamed into place, the certificate was not: still the CA's, same names.
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key());
    const r = run();
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/does not match its key/);
    expect(openssl('x509', '-noout', '-pubkey', '-in', crt())).toBe(
      openssl('pkey', '-pubout', '-in', key()),
    );
    expect(readFileSync(caCrt(), 'utf8')).toBe(ca);
  });

  it('renews a certificate close to expiry with the same CA and restarts nginx in a running container', () => {
    run([], { PMM_TLS_CERT_DAYS: '10' });
    const ca = readFileSync(caCrt(), 'utf8');
    const first = readFileSync(crt(), 'utf8');
    writeFileSync(join(dir, 'calls'), '');
    const r = run(['--reload']);
    expect(r.out).toMatch(/expires within 30 days/);
    expect(readFileSync(crt(), 'utf8')).not.toBe(first);
    expect(readFileSync(caCrt(), 'utf8')).toBe(ca);
    expect(calls()).toMatch(/docker exec pmm-server supervisorctl restart nginx/);
    expect(calls()).not.toMatch(/put-parameter/);
  });

  it('does not restart nginx before PMM runs (the pre-start run) or when the container is down', () => {
    run([], { PMM_TLS_CERT_DAYS: '10' });
    writeFileSync(join(dir, 'calls'), '');
    run([]);
    expect(calls()).not.toMatch(/docker exec/);
    run(['--reload'], { RUNNING: 'false' });
    expect(calls()).not.toMatch(/docker exec/);
  });

  it('a new CA (old kept) only when the private IP is not covered; a changed host name keeps the CA and names the IP only', () => {
    run();
    const ca = readFileSync(caCrt(), 'utf8');
    writeFileSync(join(dir, 'pmm-server.env'), 'PMM_PUBLIC_ADDRESS=other.example.com\n');
    const renamed = run();
    expect(renamed.status).toBe(0);
    expect(renamed.out).toMatch(/the CA does not cover other\.example\.com/);
    expect(readFileSync(caCrt(), 'utf8')).toBe(ca);
    expect(openssl('x509', '-noout', '-ext', 'subjectAltName', '-in', crt())).toMatch(
      /IP Address:10\.0\.1\.5\s*$/,
    );
    const moved = run([], { PMM_PRIVATE_IP: '10.0.1.6' });
    expect(moved.out).toMatch(/does not cover 10\.0\.1\.6/);
    expect(readFileSync(caCrt(), 'utf8')).not.toBe(ca);
    expect(readdirSync(join(srv, 'pmm-ca')).filter((f) => f.startsWith('ca.crt.'))).toHaveLength(1);
    expect(published()).toBe(readFileSync(caCrt(), 'utf8').trimEnd());
  });

  it('the CA cannot vouch for another address: a certificate it signs for another IP fails verification', () => {
    run();
    const other = join(dir, 'other');
    mkdirSync(other);
    openssl(
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/O=x',
      '-keyout',
      join(other, 'k'),
      '-out',
      join(other, 'csr'),
    );
    writeFileSync(join(other, 'ext'), 'subjectAltName=IP:10.9.9.9,DNS:bank.example.com\n');
    openssl(
      'x509',
      '-req',
      '-in',
      join(other, 'csr'),
      '-CA',
      caCrt(),
      '-CAkey',
      join(srv, 'pmm-ca/ca.key'),
      '-days',
      '1',
      '-extfile',
      join(other, 'ext'),
      '-out',
      join(other, 'crt'),
    );
    const r = spawnSync('openssl', ['verify', '-CAfile', caCrt(), join(other, 'crt')], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/permitted subtree violation/);
  });

  it('installs the certificate even when publishing fails, and exits non-zero so the timer retries', () => {
    const r = run([], { FAIL_PUT: '1' });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/could not publish the CA certificate/);
    expect(existsSync(crt())).toBe(true);
    expect(published()).toBe('unpublished');
  });

  it('refuses a malformed private IP', () => {
    const r = run([], { PMM_PRIVATE_IP: '10.0.1.5; rm -rf /' });
    expect(r.status).toBe(1);
    expect(existsSync(caCrt())).toBe(false);
  });
});
