import got, { Got, HTTPError, RequestError } from 'got';
import { PmmService } from './types';

export interface PmmApiOptions {
  /** e.g. `http://10.0.1.5` (the instance's nginx on port 80). */
  readonly baseUrl: string;
  readonly username: string;
  readonly password: string;
  /** Per-attempt timeout. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Retries on 5xx, 429 and network errors/timeouts. @default 3 */
  readonly retries?: number;
  /** First backoff delay, doubled per retry. @default 500 */
  readonly backoffBaseMs?: number;
}

/** PMM rejected the credential: no retry, the run fails with a clear message. */
export class PmmAuthError extends Error {
  constructor(status: number) {
    super(`PMM API rejected the admin credential (HTTP ${status})`);
    this.name = 'PmmAuthError';
  }
}

interface RawAgent {
  agent_type?: string;
  is_connected?: boolean;
  status?: string;
}

interface RawService {
  service_id?: string;
  service_name?: string;
  service_type?: string;
  node_id?: string;
  custom_labels?: Record<string, string>;
  agents?: RawAgent[];
}

/** A Grafana service-account token as `GET .../serviceaccounts/{id}/tokens` lists it. */
export interface ServiceAccountToken {
  readonly id: number;
  readonly name: string;
  readonly hasExpired: boolean;
}

/**
 * The PMM 3 HTTP API calls the reconciler makes (basic auth, JSON), including the Grafana
 * service-account API PMM serves under `/graph/api/` (docs/sources/developers/http_api/
 * serviceaccount.md in grafana/grafana).
 */
export class PmmApi {
  private readonly http: Got;
  /** Number of HTTP requests made, retries included (for the benchmark and tests). */
  public requests = 0;

  constructor(options: PmmApiOptions) {
    const base = options.backoffBaseMs ?? 500;
    this.http = got.extend({
      prefixUrl: options.baseUrl.replace(/\/+$/, ''),
      username: options.username,
      password: options.password,
      responseType: 'json',
      timeout: { request: options.requestTimeoutMs ?? 10_000 },
      retry: {
        limit: options.retries ?? 3,
        methods: ['GET', 'DELETE'],
        statusCodes: [408, 429, 500, 502, 503, 504],
        calculateDelay: ({ computedValue, attemptCount }) =>
          computedValue === 0 ? 0 : Math.min(base * 2 ** (attemptCount - 1), 10_000),
      },
      hooks: {
        beforeRequest: [
          () => {
            this.requests++;
          },
        ],
      },
    });
  }

  /** Every service (`GET /v1/management/services`; PMM has no name filter). */
  async listServices(): Promise<PmmService[]> {
    const body = await this.call(() =>
      this.http.get('v1/management/services').json<{ services?: RawService[] }>(),
    );
    return (body.services ?? []).map((s) => ({
      serviceId: s.service_id ?? '',
      serviceName: s.service_name ?? '',
      serviceType: s.service_type,
      nodeId: s.node_id ?? '',
      customLabels: s.custom_labels ?? {},
      agents: s.agents?.map((a) => ({
        agentType: a.agent_type ?? '',
        isConnected: a.is_connected,
        status: a.status,
      })),
    }));
  }

  /** Removes a node with its agents, services and service account. 404 counts as done. */
  async removeNode(nodeId: string): Promise<void> {
    await this.remove(`v1/management/nodes/${encodeURIComponent(nodeId)}`);
  }

  /** Removes one service (and its agents). 404 counts as done. */
  async removeService(serviceId: string): Promise<void> {
    await this.remove(`v1/inventory/services/${encodeURIComponent(serviceId)}`);
  }

  /**
   * The ID of the service account named exactly `name`, created with `role` when missing.
   * (`search?query=` matches substrings, so the name is compared exactly here.)
   */
  async ensureServiceAccount(name: string, role: string): Promise<number> {
    const found = await this.call(() =>
      this.http
        .get('graph/api/serviceaccounts/search', { searchParams: { query: name, perpage: 100 } })
        .json<{ serviceAccounts?: { id?: number; name?: string }[] }>(),
    );
    const existing = (found.serviceAccounts ?? []).find((a) => a.name === name);
    if (existing?.id !== undefined) return existing.id;
    const created = await this.call(() =>
      this.http.post('graph/api/serviceaccounts', { json: { name, role } }).json<{ id?: number }>(),
    );
    if (typeof created.id !== 'number')
      throw new Error('Grafana created a service account without an id');
    return created.id;
  }

  /** Mints a token of the service account (`key` is the `glsa_...` secret: never log it). */
  async createServiceAccountToken(
    accountId: number,
    name: string,
    secondsToLive: number,
  ): Promise<string> {
    const body = await this.call(() =>
      this.http
        .post(`graph/api/serviceaccounts/${accountId}/tokens`, { json: { name, secondsToLive } })
        .json<{ key?: string }>(),
    );
    if (!body.key) throw new Error('Grafana returned no token key');
    return body.key;
  }

  async listServiceAccountTokens(accountId: number): Promise<ServiceAccountToken[]> {
    const body = await this.call(() =>
      this.http
        .get(`graph/api/serviceaccounts/${accountId}/tokens`)
        .json<{ id?: number; name?: string; hasExpired?: boolean }[]>(),
    );
    return (Array.isArray(body) ? body : [])
      .filter((t) => typeof t.id === 'number')
      .map((t) => ({ id: t.id!, name: t.name ?? '', hasExpired: t.hasExpired === true }));
  }

  /** 404 counts as done. */
  async deleteServiceAccountToken(accountId: number, tokenId: number): Promise<void> {
    try {
      await this.call(() =>
        this.http.delete(`graph/api/serviceaccounts/${accountId}/tokens/${tokenId}`),
      );
    } catch (e) {
      if (e instanceof HTTPError && e.response.statusCode === 404) return;
      throw e;
    }
  }

  private async remove(path: string): Promise<void> {
    try {
      await this.call(() => this.http.delete(path, { searchParams: { force: 'true' } }));
    } catch (e) {
      if (e instanceof HTTPError && e.response.statusCode === 404) return;
      throw e;
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof HTTPError) {
        const status = e.response.statusCode;
        if (status === 401 || status === 403) throw new PmmAuthError(status);
        if (status === 404) throw e;
        throw new Error(`PMM API ${e.options.method} ${e.options.url}: HTTP ${status}`);
      }
      if (e instanceof RequestError) {
        throw new Error(`PMM API ${e.options.method} ${e.options.url}: ${e.code} ${e.message}`);
      }
      throw e;
    }
  }
}
