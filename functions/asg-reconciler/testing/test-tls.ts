import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A CA and a server certificate issued by it (PEM), made with openssl for tests. */
export interface TestTls {
  /** The CA certificate (what the PMM host publishes). */
  readonly ca: string;
  /** The server's key and certificate. */
  readonly key: string;
  readonly cert: string;
}

const cas = new Map<string, { key: string; cert: string }>();
const leaves = new Map<string, TestTls>();

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * A server certificate for `sans` (e.g. `IP:127.0.0.1`) issued by the test CA named `label`
 * (EC P-256, a CA certificate like the one templates/host/pmm-tls.sh makes). Each label is
 * one CA, made once per process; certificates are cached per label and SANs.
 */
export function testTls(sans = 'IP:127.0.0.1', label = 'pmm'): TestTls {
  const id = `${label}|${sans}`;
  const hit = leaves.get(id);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'pmm-test-tls-'));
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  try {
    let ca = cas.get(label);
    if (!ca) {
      openssl(
        dir,
        'req',
        '-x509',
        '-new',
        ...EC,
        '-days',
        '2',
        '-subj',
        `/O=test/CN=${label}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
      );
      ca = { key: read('ca.key'), cert: read('ca.crt') };
      cas.set(label, ca);
    } else {
      writeFileSync(join(dir, 'ca.key'), ca.key);
      writeFileSync(join(dir, 'ca.crt'), ca.cert);
    }
    openssl(
      dir,
      'req',
      '-new',
      ...EC,
      '-subj',
      '/O=test',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'ext'), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
    openssl(
      dir,
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-days',
      '2',
      '-set_serial',
      `0x${leaves.size + 4096}`,
      '-extfile',
      'ext',
      '-out',
      'server.crt',
    );
    const tls = { ca: ca.cert, key: read('server.key'), cert: read('server.crt') };
    leaves.set(id, tls);
    return tls;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A self-signed server certificate for `sans` (PMM's own default kind): no CA at all. */
export function selfSigned(sans = 'IP:127.0.0.1'): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pmm-test-tls-'));
  try {
    openssl(
      dir,
      'req',
      '-x509',
      '-new',
      ...EC,
      '-days',
      '2',
      '-subj',
      '/CN=pmm-server',
      '-addext',
      `subjectAltName=${sans}`,
      '-keyout',
      'k',
      '-out',
      'c',
    );
    return {
      key: readFileSync(join(dir, 'k'), 'utf8'),
      cert: readFileSync(join(dir, 'c'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
