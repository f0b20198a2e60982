import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { Fault } from '../../functions/asg-reconciler/testing/fake-pmm';
import { Bed } from '../../functions/asg-reconciler/testing/harness';

/**
 * No credential in any output, on any path: the reconciler runs against a real HTTP fake of
 * PMM that fails in every way we could think of, with a unique canary admin password (with
 * characters URLs and JSON escape), and everything it printed, threw or returned is searched
 * for the canary in every form it could take (raw, URL-encoded, JSON-escaped, base64 basic auth).
 */
const CANARY = `Cn@ry:${randomBytes(9).toString('hex')}/"%?`;
const FORMS = [
  CANARY,
  encodeURIComponent(CANARY),
  JSON.stringify(CANARY).slice(1, -1),
  Buffer.from(`admin:${CANARY}`).toString('base64'),
  CANARY.split(':')[1].slice(0, 18), // the random core, however the rest was escaped
];

/** A server on another port (another origin) that records what reaches it. */
class Elsewhere {
  readonly seen: { url: string; authorization?: string }[] = [];
  private server?: Server;
  async start(): Promise<string> {
    this.server = createServer((req: IncomingMessage, res) => {
      this.seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"services": []}');
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

type Mode = {
  name: string;
  /** What the failure looks like in the reason (proves the failure path was taken). */
  reason: RegExp;
  fault?: (elsewhere: string) => Omit<Fault, 'match' | 'times'>;
  refused?: boolean;
};

const MODES: Mode[] = [
  { name: 'connection refused', refused: true, reason: /ECONNREFUSED/ },
  { name: 'timeout', fault: () => ({ status: 200, delayMs: 1500 }), reason: /timed out/ },
  { name: '5xx after retries', fault: () => ({ status: 503 }), reason: /HTTP 503/ },
  { name: '500', fault: () => ({ status: 500 }), reason: /HTTP 500/ },
  { name: '404', fault: () => ({ status: 404 }), reason: /HTTP 404/ },
  { name: '401', fault: () => ({ status: 401 }), reason: /rejected the admin credential/ },
  {
    name: 'redirect to another origin',
    fault: (elsewhere) => ({ status: 302, headers: { location: `${elsewhere}/steal` } }),
    reason: /redirect \(not followed\)/,
  },
  {
    name: 'redirect to an HTML login page',
    fault: () => ({ status: 301, headers: { location: '/graph/login' } }),
    reason: /redirect/,
  },
  {
    name: 'HTML answer',
    fault: () => ({
      status: 200,
      contentType: 'text/html',
      body: '<html><body>502 Bad Gateway</body></html>',
    }),
    reason: /HTML/,
  },
  {
    name: 'HTML with a JSON content type',
    fault: () => ({ status: 200, body: '<!DOCTYPE html><p>login</p>' }),
    reason: /HTML/,
  },
  {
    name: 'malformed JSON',
    fault: () => ({ status: 200, body: '{"services": [' }),
    reason: /malformed JSON/,
  },
  {
    name: 'JSON of the wrong shape',
    fault: () => ({ status: 200, body: '[1,2]' }),
    reason: /unexpected answer shape|no token key/,
  },
  {
    name: 'connection reset',
    fault: () => ({ status: 200, reset: true }),
    reason: /ECONNRESET|socket hang up|network/,
  },
];

/** The PMM calls a run can make, each with the scene that makes the run reach it. */
const PHASES = [
  { name: 'listing services', match: 'GET /v1/management/services' },
  { name: 'removing a node', match: 'DELETE /v1/management/nodes/' },
  { name: 'finding the enrolment user', match: 'GET /graph/api/users/lookup' },
  { name: 'creating the enrolment user', match: 'POST /graph/api/admin/users' },
  { name: 'setting the enrolment password', match: 'PUT /graph/api/admin/users/' },
];

describe('no credential in any output, on any PMM failure path', () => {
  const bed = new Bed(CANARY);
  const elsewhere = new Elsewhere();
  let elsewhereUrl: string;
  let printed: string[];
  let spies: jest.SpyInstance[];

  beforeAll(async () => {
    elsewhereUrl = await elsewhere.start();
  });
  afterAll(() => elsewhere.stop());
  beforeEach(async () => {
    await bed.start();
    printed = [];
    spies = (['log', 'warn', 'error', 'info', 'debug'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        printed.push(
          args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 20 }))).join(' '),
        );
      }),
    );
  });
  afterEach(async () => {
    for (const s of spies) s.mockRestore();
    await bed.stop();
  });

  /** Everything a run printed, threw or returned, as text. */
  function everything(result: { summary?: unknown; error?: unknown }): string {
    const e = result.error as Error | undefined;
    return [
      JSON.stringify(bed.logs),
      printed.join('\n'),
      JSON.stringify(result.summary ?? null),
      e ? `${e.name}: ${e.message}\n${e.stack}` : '',
      e ? JSON.stringify(e) : '',
      e ? inspect(e, { depth: Infinity, showHidden: true }) : '',
      e ? String((e as { cause?: unknown }).cause ?? '') : '',
    ].join('\n');
  }

  for (const phase of PHASES) {
    for (const mode of MODES) {
      it(`${phase.name}: ${mode.name}`, async () => {
        // One InService instance to enrol and one terminated instance's service to remove,
        // so the run reaches every phase.
        bed.groups = { db: [['i-1', 'InService']] };
        bed.pmm.services = [bed.ours('i-9', 'db')];
        let url = bed.baseUrl;
        if (mode.refused) {
          if (phase.match !== 'GET /v1/management/services') return; // the first call already fails
          await bed.pmm.stop();
        } else {
          bed.pmm.faults.push({ match: phase.match, times: 100, ...mode.fault!(elsewhereUrl) });
        }
        const result = await bed.run({
          config: { ...bed.config(), pmmApiUrl: url },
          options: { pmmTimeoutMs: 300, pmmRetries: 2 },
        });

        const text = everything(result);
        for (const form of FORMS) expect(text).not.toContain(form);
        // The failure path was taken, and says what happened. (A DELETE answered 404 is
        // done, and its body is never read: no failure there.)
        // Nor is a user lookup answered 404 (no such user: it is created), and the body of
        // a password change answered 2xx is never read.
        const harmless =
          (phase.match.startsWith('DELETE') &&
            ['404', 'JSON of the wrong shape'].includes(mode.name)) ||
          (phase.match.includes('/users/lookup') && mode.name === '404') ||
          (phase.match.startsWith('PUT') && mode.name === 'JSON of the wrong shape');
        if (harmless) {
          expect(result.error).toBeUndefined();
        } else {
          expect(result.error).toBeDefined();
          expect(text).toMatch(mode.reason);
        }
        // Nothing reached another origin with the credential (redirects are not followed).
        for (const r of elsewhere.seen) {
          expect(r.authorization ?? '').not.toContain(FORMS[3]);
          expect(r.url).not.toContain(FORMS[1]);
        }
        expect(elsewhere.seen).toEqual([]);
        url = '';
      });
    }
  }

  it('an issued enrolment password is never printed, thrown or returned, even when storing it fails', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    const { PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    bed.sm.on(PutSecretValueCommand).callsFake(async (input) => {
      // An SDK error that echoes what it was given (worst case).
      throw Object.assign(new Error(`rejected ${input.SecretString}`), {
        name: 'ValidationException',
      });
    });
    const result = await bed.run();
    expect(bed.pmm.passwordsSet.length).toBeGreaterThanOrEqual(2);
    const text = everything(result);
    expect(text).toMatch(/ValidationException/);
    for (const p of bed.pmm.passwordsSet) expect(text).not.toContain(p);
  });

  it('a stored enrolment password read back is never printed either', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    const stored = `stored-${randomBytes(12).toString('hex')}`;
    bed.enrolmentSecret = JSON.stringify({
      username: 'pmm-asg-reconciler-enrolment',
      password: stored,
    });
    bed.pmm.faults.push({ match: 'GET /graph/api/user', status: 500, times: 100 });
    const result = await bed.run({ options: { pmmTimeoutMs: 300, pmmRetries: 0 } });
    expect(result.error).toBeDefined();
    expect(everything(result)).not.toContain(stored);
  });
});
