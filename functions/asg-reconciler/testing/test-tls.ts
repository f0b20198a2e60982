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

const cache = new Map<string, TestTls>();

/**
 * A CA (EC P-256, a CA certificate like templates/host/pmm-tls.sh makes) and a server
 * certificate for `sans` (e.g. `IP:127.0.0.1`), cached per process and `label`: each label
 * is a different CA.
 */
export function testTls(sans = 'IP:127.0.0.1', label = 'pmm'): TestTls {
  const id = `${label}|${sans}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'pmm-test-tls-'));
  const ssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    ssl(
      'req',
      '-x509',
      '-new',
      ...ec,
      '-days',
      '2',
      '-subj',
      `/O=test/CN=${label} CA`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    ssl('req', '-new', ...ec, '-subj', '/O=test', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(dir, 'ext'), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
    ssl(
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
      '0x1234',
      '-extfile',
      'ext',
      '-out',
      'server.crt',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const tls = { ca: read('ca.crt'), key: read('server.key'), cert: read('server.crt') };
    cache.set(id, tls);
    return tls;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
