import { PmmRequestError, PmmTransport, PmmTransportOptions } from './pmm-transport';
import { PmmService } from './types';

export { PmmAuthError, PmmRequestError } from './pmm-transport';
export type PmmApiOptions = PmmTransportOptions;

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

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

const isNotFound = (e: unknown) => e instanceof PmmRequestError && e.status === 404;

/** A 2xx answer whose shape is not what PMM documents (never read as "nothing there"). */
function malformed(what: string): PmmRequestError {
  return new PmmRequestError('parse', `PMM API ${what}: unexpected answer shape`);
}

/**
 * The PMM 3 HTTP API calls the reconciler makes (basic auth, JSON), including the Grafana
 * service-account API PMM serves under `/graph/api/` (docs/sources/developers/http_api/
 * serviceaccount.md in grafana/grafana). All HTTP goes through {@link PmmTransport}.
 */
export class PmmApi {
  private readonly t: PmmTransport;

  constructor(options: PmmApiOptions) {
    this.t = new PmmTransport(options);
  }

  /** Number of HTTP requests made, retries included (for the benchmark and tests). */
  get requests(): number {
    return this.t.requests;
  }

  /**
   * Every service (`GET /v1/management/services`; PMM has no name filter). An answer without
   * a `services` list is an error, not "no services" (proto3 JSON omits an empty list, so
   * `{}` is an empty listing; anything else is not).
   */
  async listServices(): Promise<PmmService[]> {
    const body = await this.t.request<{ services?: RawService[] }>('GET', 'v1/management/services');
    if (!isObject(body)) throw malformed('GET /v1/management/services');
    if (body.services !== undefined && !Array.isArray(body.services)) {
      throw malformed('GET /v1/management/services');
    }
    return (body.services ?? []).map((s) => {
      if (!s || typeof s.service_id !== 'string' || typeof s.service_name !== 'string') {
        throw malformed('GET /v1/management/services');
      }
      return {
        serviceId: s.service_id,
        serviceName: s.service_name,
        serviceType: s.service_type,
        nodeId: s.node_id ?? '',
        customLabels: s.custom_labels ?? {},
        agents: s.agents?.map((a) => ({
          agentType: a.agent_type ?? '',
          isConnected: a.is_connected,
          status: a.status,
        })),
      };
    });
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
   * The ID of the Grafana user whose login is exactly `login`; undefined when there is none
   * (`GET /graph/api/users/lookup`, Grafana server admin; 404 = no such user).
   */
  async findUser(login: string): Promise<number | undefined> {
    try {
      const u = await this.t.request<{ id?: number; login?: string }>(
        'GET',
        'graph/api/users/lookup',
        { searchParams: { loginOrEmail: login } },
      );
      if (!isObject(u) || typeof u.id !== 'number') throw malformed('GET /graph/api/users/lookup');
      // lookup also matches the e-mail address: only the exact login is ours.
      return u.login === login ? u.id : undefined;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Creates a Grafana user (`POST /graph/api/admin/users`) with `orgRole` in the default
   * organisation (`PATCH /graph/api/org/users/{id}`), as pmm-managed's own testCreateUser does
   * (managed/services/grafana/client.go). Returns its ID.
   */
  async createUser(login: string, password: string, orgRole: string): Promise<number> {
    const created = await this.t.request<{ id?: number }>('POST', 'graph/api/admin/users', {
      json: { name: login, login, email: `${login}@pmm.invalid`, password },
    });
    if (typeof created?.id !== 'number') throw malformed('POST /graph/api/admin/users');
    await this.t.request('PATCH', `graph/api/org/users/${created.id}`, { json: { role: orgRole } });
    return created.id;
  }

  /** Sets a Grafana user's password (`PUT /graph/api/admin/users/{id}/password`). */
  async setUserPassword(userId: number, password: string): Promise<void> {
    await this.t.request('PUT', `graph/api/admin/users/${userId}/password`, {
      json: { password },
    });
  }

  /** Ends every session of a Grafana user (`POST /graph/api/admin/users/{id}/logout`). */
  async logoutUser(userId: number): Promise<void> {
    await this.t.request('POST', `graph/api/admin/users/${userId}/logout`);
  }

  /**
   * Whether this API's own credential is accepted (`GET /graph/api/user`): true on 2xx,
   * false on 401/403; other failures throw.
   */
  async credentialAccepted(): Promise<boolean> {
    try {
      await this.t.request('GET', 'graph/api/user');
      return true;
    } catch (e) {
      if (e instanceof PmmRequestError && (e.status === 401 || e.status === 403)) return false;
      throw e;
    }
  }

  private async remove(path: string, force = true): Promise<void> {
    try {
      await this.t.request('DELETE', path, force ? { searchParams: { force: 'true' } } : {});
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
  }
}
