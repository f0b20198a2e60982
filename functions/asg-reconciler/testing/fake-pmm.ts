import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
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

export interface Fault {
  /** Method and path prefix, e.g. `GET /v1/management/services`. */
  readonly match: string;
  /** HTTP status to answer, or 'hang' to answer after `delayMs`. */
  readonly status: number;
  /** How many times (then the real handler answers). */
  times: number;
  readonly delayMs?: number;
}

/**
 * A real HTTP server implementing the PMM 3 API paths the reconciler uses (for tests and
 * the benchmark): list services, remove node (with its services), remove service, basic auth.
 */
export class FakePmm {
  public services: FakeService[] = [];
  public readonly requests: string[] = [];
  public readonly faults: Fault[] = [];
  /** Added to every answer (simulated latency). */
  public latencyMs = 0;
  private server?: Server;

  constructor(private readonly password: string) {}

  /** Listens on `host:port` (default: a free port on 127.0.0.1); returns the base URL. */
  async start(host = '127.0.0.1', port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const line = `${req.method} ${url.pathname}${url.search}`;
    this.requests.push(line);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const fault = this.faults.find((f) => f.times > 0 && line.startsWith(f.match));
    if (fault) {
      fault.times--;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (res.destroyed) return;
      return this.send(res, fault.status, { error: 'injected', code: 13 });
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
      this.services = this.services.filter((s) => s.node_id !== node[1]);
      return this.send(res, before === this.services.length ? 404 : 200, {});
    }
    const svc = url.pathname.match(/^\/v1\/inventory\/services\/([^/]+)$/);
    if (req.method === 'DELETE' && svc && url.searchParams.get('force') === 'true') {
      const before = this.services.length;
      this.services = this.services.filter((s) => s.service_id !== svc[1]);
      return this.send(res, before === this.services.length ? 404 : 200, {});
    }
    return this.send(res, 404, { code: 5, message: 'Not Found' });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}
