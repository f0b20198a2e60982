/**
 * Issue 13 item 2: the reconciler talks to PMM over TLS, verifying exactly the CA the PMM host
 * published, and sends no credential anywhere else. Real HTTPS servers on 127.0.0.1 with
 * certificates from openssl; what each server received is asserted.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { parsePmmCa, PmmCaError } from '../../functions/asg-reconciler/src/pmm-ca';
import { PmmRequestError, PmmTransport } from '../../functions/asg-reconciler/src/pmm-transport';
import { ADMIN_ARN, Bed } from '../../functions/asg-reconciler/testing/harness';
import { selfSigned, testTls } from '../../functions/asg-reconciler/testing/test-tls';

const PASSWORD = `Canary-${randomBytes(8).toString('hex')}"%/`;
const BASIC = Buffer.from(`admin:${PASSWORD}`).toString('base64');
const PMM_CA = testTls('IP:127.0.0.1', 'pmm').ca;

interface Received {
  method?: string;
  url?: string;
  authorization?: string;
}

/** An HTTPS server on 127.0.0.1 that records every request it gets and answers `{}`. */
async function server(key: string, cert: string) {
  const received: Received[] = [];
  const s: Server = createServer({ key, cert }, (req, res) => {
    received.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    res.end('{"services":[]}');
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  return { url, received, stop };
}

function transport(baseUrl: string, certificateAuthority = PMM_CA) {
  return new PmmTransport({
    baseUrl,
    certificateAuthority,
    username: 'admin',
    password: PASSWORD,
    retries: 1,
    backoffBaseMs: 1,
    requestTimeoutMs: 2000,
  });
}

/** Everything an error could show: message, stack, JSON, inspect with hidden fields. */
function everything(e: unknown): string {
  return [
    String(e),
    (e as Error)?.stack ?? '',
    JSON.stringify(e),
    inspect(e, { depth: Infinity, showHidden: true }),
  ].join('\n');
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('PMM transport: TLS verified against the published CA only', () => {
  const refused: [string, () => { key: string; cert: string }][] = [
    ['a certificate from another CA', () => testTls('IP:127.0.0.1', 'attacker')],
    ["PMM's CA, but for another IP", () => testTls('IP:10.9.9.9', 'pmm')],
    ["PMM's CA, but for a DNS name only", () => testTls('DNS:pmm.example.com', 'pmm')],
    ['a self-signed certificate (PMM default)', () => selfSigned('IP:127.0.0.1')],
  ];

  it.each(refused)(
    'refuses %s: the server never sees a request, so never the credential',
    async (_, cert) => {
      const { key, cert: crt } = cert();
      const s = await server(key, crt);
      try {
        const e = await failure(transport(s.url).request('GET', 'v1/management/services'));
        expect(e).toBeInstanceOf(PmmRequestError);
        expect((e as PmmRequestError).kind).toBe('tls');
        expect((e as Error).message).toMatch(/did not verify against the published CA/);
        expect(s.received).toEqual([]);
        const text = everything(e);
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(BASIC);
      } finally {
        await s.stop();
      }
    },
  );

  it('talks to a server whose certificate PMM CA issued for its IP, with the credential', async () => {
    const { key, cert } = testTls('IP:127.0.0.1', 'pmm');
    const s = await server(key, cert);
    try {
      await expect(transport(s.url).request('GET', 'v1/management/services')).resolves.toEqual({
        services: [],
      });
      expect(s.received).toEqual([
        { method: 'GET', url: '/v1/management/services', authorization: `Basic ${BASIC}` },
      ]);
    } finally {
      await s.stop();
    }
  });

  it('does not trust the system roots: the right server with a different CA given is refused', async () => {
    const { key, cert } = testTls('IP:127.0.0.1', 'pmm');
    const s = await server(key, cert);
    try {
      const other = testTls('IP:127.0.0.1', 'attacker').ca;
      const e = await failure(transport(s.url, other).request('GET', 'v1/management/services'));
      expect((e as PmmRequestError).kind).toBe('tls');
      expect(s.received).toEqual([]);
    } finally {
      await s.stop();
    }
  });

  it('refuses a plain-HTTP base URL or a missing CA at construction, before any request', () => {
    expect(() => transport('http://127.0.0.1:80')).toThrow(/only https:\/\//);
    expect(() => transport('https://127.0.0.1:443', '')).toThrow(/no CA certificate/);
    expect(() => transport('https://127.0.0.1:443', 'unpublished')).toThrow(/no CA certificate/);
  });
});

describe('the published CA parameter', () => {
  it('the placeholder Terraform creates means "not published yet"', () => {
    for (const v of ['unpublished', '', undefined, '  ']) {
      expect(() => parsePmmCa(v, '/pmm/x/ca-certificate')).toThrow(
        /PMM has not published its CA yet \(SSM parameter \/pmm\/x\/ca-certificate/,
      );
    }
  });

  it('refuses a leaf certificate, garbage, or more than one certificate', () => {
    const { cert } = testTls('IP:127.0.0.1', 'pmm');
    expect(() => parsePmmCa(cert, 'p')).toThrow(/not a CA certificate/);
    expect(() =>
      parsePmmCa('-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----', 'p'),
    ).toThrow(/unreadable/);
    expect(() => parsePmmCa(`${PMM_CA}${PMM_CA}`, 'p')).toThrow(PmmCaError);
    expect(parsePmmCa(PMM_CA, 'p')).toBe(`${PMM_CA.trim()}\n`);
  });
});

describe('a run before the host has published its CA', () => {
  const bed = new Bed(PASSWORD);
  beforeEach(() => bed.start());
  afterEach(() => bed.stop());

  it('fails clearly without reading the admin password or sending anything to PMM', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    bed.caValue = 'unpublished';
    const r = await bed.run({ asgNames: ['db'] });
    const reasons = JSON.stringify((r.error as { summary?: unknown }).summary ?? r.error);
    expect(reasons).toMatch(/PMM has not published its CA yet/);
    expect(bed.pmm.requests).toEqual([]);
    expect(
      bed.sm
        .commandCalls(GetSecretValueCommand)
        .filter((c) => c.args[0].input.SecretId === ADMIN_ARN),
    ).toHaveLength(0);
    expect(everything(r.error)).not.toContain(PASSWORD);
  });

  it('with a CA published, the same run reaches PMM over TLS', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    const r = await bed.run({ asgNames: ['db'] });
    expect(r.error).toBeUndefined();
    expect(bed.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(bed.pmm.requests.length).toBeGreaterThan(0);
  });
});
