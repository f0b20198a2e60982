import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { testTls } from './test-tls';
import { AddressInfo } from 'node:net';

/** A service as the fake PMM 3 server stores and lists it. */
export interface FakeService {
  service_id: string;
  service_name: string;
  service_type: string;
  node_id: string;
  custom_labels?: Record<string, string>;
  /** As PMM 3 lists them (UniversalAgent); omitted = no agent information. */
  agents?: { agent_id?: string; agent_type: string; is_connected?: boolean; status?: string }[];
}

/** A Grafana user (the enrolment user). `password` is what Grafana would accept. */
export interface FakeUser {
  id: number;
  login: string;
  password: string;
  role: string;
  /** Times its sessions were ended (`POST /api/admin/users/{id}/logout`). */
  logouts: number;
}

export interface Fault {
  /** Method and path prefix, e.g. `GET /v1/management/services`. */
  readonly match: string;
  /** HTTP status to answer (after `delayMs`, if given). */
  readonly status: number;
  /** How many times (then the real handler answers). */
  times: number;
  readonly delayMs?: number;
  /** Raw body to answer instead of the JSON error (HTML, malformed JSON, ...). */
  readonly body?: string;
  /** @default application/json */
  readonly contentType?: string;
  /** Extra headers (e.g. `location` for a redirect). */
  readonly headers?: Record<string, string>;
  /** Destroy the connection without answering. */
  readonly reset?: boolean;
}

/**
 * A real HTTP server implementing the PMM 3 API paths the reconciler uses (for tests and
 * the benchmark): list services, remove node (with its services), remove service, add an RDS
 * service, the Grafana user endpoints (lookup, create, role, password, logout), basic auth.
 */
export class FakePmm {
  public services: FakeService[] = [];
  public users: FakeUser[] = [];
  /** Every password a user was given (set, replaced), in order. */
  public readonly passwordsSet: string[] = [];
  private nextId = 1;
  public readonly requests: string[] = [];
  public readonly faults: Fault[] = [];
  /** Added to every answer (simulated latency). */
  public latencyMs = 0;
  private server?: Server;
  private tlsServer?: Server;
  /** Bodies of `POST /v1/management/services` with an `rds` key, with the protocol used. */
  public readonly rdsAdds: { protocol: 'http' | 'https'; body: Record<string, unknown> }[] = [];

  constructor(private readonly password: string) {}

  /** The CA of the certificate {@link start} serves (what the PMM host publishes). */
  public ca = '';

  /**
   * Listens on `host:port` (default: a free port on 127.0.0.1) over HTTPS, like PMM's nginx
   * on 443, with a certificate for `host` from a test CA ({@link ca}); returns the base URL.
   */
  async start(host = '127.0.0.1', port = 0): Promise<string> {
    const tls = testTls(`IP:${host}`);
    this.ca = tls.ca;
    return this.startTls(tls.key, tls.cert, host, port);
  }

  /** Plain HTTP (for tests that prove the client refuses it). */
  async startPlain(host = '127.0.0.1', port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  /** Also serves the same API over TLS (PMM's 443), with the given key and certificate. */
  async startTls(key: string, cert: string, host = '127.0.0.1', port = 0): Promise<string> {
    this.tlsServer = createTlsServer({ key, cert }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.tlsServer!.once('error', reject);
      this.tlsServer!.listen(port, host, resolve);
    });
    return `https://${host}:${(this.tlsServer.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const server of [this.server, this.tlsServer]) {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const line = `${req.method} ${url.pathname}${url.search}`;
    this.requests.push(line);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const fault = this.faults.find((f) => f.times > 0 && line.startsWith(f.match));
    if (fault) {
      fault.times--;
      // unref: a hanging answer must not keep the test process alive after the server stopped.
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs).unref());
      if (res.destroyed) return;
      if (fault.reset) {
        req.socket.destroy();
        return;
      }
      if (fault.body !== undefined || fault.headers) {
        res.writeHead(fault.status, {
          'content-type': fault.contentType ?? 'application/json',
          ...fault.headers,
        });
        res.end(fault.body ?? '');
        return;
      }
      return this.send(res, fault.status, { error: 'injected', code: 13 });
    }
    // GET /graph/api/user answers for whoever authenticates (admin or a user's password).
    if (req.method === 'GET' && url.pathname === '/graph/api/user') {
      const [login, pw] = Buffer.from(
        String(req.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      )
        .toString('utf8')
        .split(/:(.*)/s);
      const user = this.users.find((u) => u.login === login && u.password === pw);
      if (user) return this.send(res, 200, { id: user.id, login: user.login });
      if (login === 'admin' && pw === this.password) return this.send(res, 200, { id: 1 });
      return this.send(res, 401, { message: 'invalid username or password' });
    }
    const expected = `Basic ${Buffer.from(`admin:${this.password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      return this.send(res, 401, { code: 16, message: 'Unauthorized' });
    }
    if (req.method === 'GET' && url.pathname === '/v1/management/services') {
      return this.send(res, 200, { services: this.services });
    }
    const node = url.pathname.match(/^\/v1\/management\/nodes\/([^/]+)$/);
    if (req.method === 'DELETE' && node && url.searchParams.get('force') === 'true') {
      const before = this.services.length;
      this.services = this.services.filter((s) => s.node_id !== decodeURIComponent(node[1]));
      return this.send(res, before === this.services.length ? 404 : 200, {});
    }
    const svc = url.pathname.match(/^\/v1\/inventory\/services\/([^/]+)$/);
    if (req.method === 'DELETE' && svc && url.searchParams.get('force') === 'true') {
      const before = this.services.length;
      this.services = this.services.filter((s) => s.service_id !== decodeURIComponent(svc[1]));
      return this.send(res, before === this.services.length ? 404 : 200, {});
    }
    if (req.method === 'POST' && url.pathname === '/v1/management/services') {
      return this.addService(req, res);
    }
    if (
      url.pathname.startsWith('/graph/api/users/') ||
      url.pathname.startsWith('/graph/api/admin/users') ||
      url.pathname.startsWith('/graph/api/org/users/')
    ) {
      return this.grafanaUsers(req, res, url);
    }
    return this.send(res, 404, { code: 5, message: 'Not Found' });
  }

  /**
   * `POST /v1/management/services` with an `rds` body (management/v1/rds.proto): validates
   * what the proto requires, refuses a taken service or node name (409), creates a node and
   * a service with the custom labels, answers `{ rds: { node, postgresql|mysql, ... } }`.
   */
  private async addService(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJson(req)) as { rds?: Record<string, unknown> };
    const rds = body.rds;
    if (!rds) return this.send(res, 400, { code: 3, message: 'only rds is implemented here' });
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
    this.rdsAdds.push({ protocol: tls ? 'https' : 'http', body: rds });
    for (const f of ['region', 'instance_id', 'address', 'username']) {
      if (typeof rds[f] !== 'string' || rds[f] === '') {
        return this.send(res, 400, { code: 3, message: `invalid field ${f}` });
      }
    }
    if (!(Number(rds.port) > 0)) return this.send(res, 400, { code: 3, message: 'invalid port' });
    const engine = rds.engine;
    const type =
      engine === 'DISCOVER_RDS_ENGINE_MYSQL'
        ? 'mysql'
        : engine === 'DISCOVER_RDS_ENGINE_POSTGRESQL'
          ? 'postgresql'
          : undefined;
    if (!type) return this.send(res, 400, { code: 3, message: 'unsupported rds engine' });
    const name = String(rds.service_name || rds.instance_id);
    const nodeName = String(rds.node_name || rds.instance_id);
    if (this.services.some((s) => s.service_name === name)) {
      return this.send(res, 409, {
        code: 6,
        message: `Service with name "${name}" already exists.`,
      });
    }
    if (this.services.some((s) => s.node_id === `node-${nodeName}`)) {
      return this.send(res, 409, {
        code: 6,
        message: `Node with name "${nodeName}" already exists.`,
      });
    }
    const service: FakeService = {
      service_id: `svc-${this.nextId++}`,
      service_name: name,
      service_type: type,
      node_id: `node-${nodeName}`,
      custom_labels: (rds.custom_labels as Record<string, string> | undefined) ?? {},
    };
    this.services.push(service);
    return this.send(res, 200, {
      rds: {
        node: { node_id: service.node_id, node_name: nodeName },
        [type]: { service_id: service.service_id, service_name: name },
      },
    });
  }

  /** Grafana's user API (docs/sources/developers/http_api/user.md, admin.md, org.md). */
  private async grafanaUsers(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = url.pathname;
    if (req.method === 'GET' && p === '/graph/api/users/lookup') {
      const q = url.searchParams.get('loginOrEmail') ?? '';
      const u = this.users.find((x) => x.login === q || `${x.login}@pmm.invalid` === q);
      if (!u) return this.send(res, 404, { message: 'user not found' });
      return this.send(res, 200, { id: u.id, login: u.login, email: `${u.login}@pmm.invalid` });
    }
    if (req.method === 'POST' && p === '/graph/api/admin/users') {
      const body = (await readJson(req)) as { login?: string; password?: string };
      if (!body.login || !body.password) return this.send(res, 400, { message: 'bad request' });
      if (this.users.some((u) => u.login === body.login)) {
        return this.send(res, 412, { message: 'user already exists' });
      }
      const user: FakeUser = {
        id: this.nextId++,
        login: body.login,
        password: body.password,
        role: 'Viewer',
        logouts: 0,
      };
      this.users.push(user);
      this.passwordsSet.push(body.password);
      return this.send(res, 200, { id: user.id, message: 'User created' });
    }
    const m = p.match(/^\/graph\/api\/(admin|org)\/users\/(\d+)(?:\/(password|logout))?$/);
    const user = m && this.users.find((u) => u.id === Number(m[2]));
    if (!m || !user) return this.send(res, 404, { message: 'user not found' });
    if (req.method === 'PATCH' && m[1] === 'org' && !m[3]) {
      const body = (await readJson(req)) as { role?: string };
      user.role = body.role ?? user.role;
      return this.send(res, 200, { message: 'Organization user updated' });
    }
    if (req.method === 'PUT' && m[1] === 'admin' && m[3] === 'password') {
      const body = (await readJson(req)) as { password?: string };
      if (!body.password || body.password.length < 4) {
        return this.send(res, 400, { message: 'new password is too short' });
      }
      user.password = body.password;
      this.passwordsSet.push(body.password);
      return this.send(res, 200, { message: 'User password updated' });
    }
    if (req.method === 'POST' && m[1] === 'admin' && m[3] === 'logout') {
      user.logouts++;
      return this.send(res, 200, { message: 'User logged out' });
    }
    return this.send(res, 404, { message: 'not found' });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return {};
  }
}
