import { PmmRequestError, PmmTransport, PmmTransportOptions } from './pmm-transport';
import { RdsTarget } from './rds-decide';

const ENGINE: Record<string, string> = {
  mysql: 'DISCOVER_RDS_ENGINE_MYSQL',
  postgresql: 'DISCOVER_RDS_ENGINE_POSTGRESQL',
};

/**
 * The `rds` body of `POST /v1/management/services` (management/v1/rds.proto,
 * AddRDSServiceParams). No AWS keys: PMM's RDS exporter then uses the PMM instance's role.
 * Node and service are both named `rds/<identifier>`; the custom labels (the user's, the
 * ownership marker and the fingerprint) go on both.
 */
export function addRdsBody(target: RdsTarget, password: string): { rds: Record<string, unknown> } {
  const { instance, input } = target;
  return {
    rds: {
      region: instance.region,
      az: instance.az ?? '',
      instance_id: instance.instanceId,
      node_model: instance.instanceClass ?? '',
      address: instance.address,
      port: instance.port,
      engine: ENGINE[input.engine],
      node_name: target.serviceName,
      service_name: target.serviceName,
      cluster: instance.clusterId ?? instance.instanceId,
      username: input.username,
      password,
      rds_exporter: true,
      qan_mysql_perfschema: input.engine === 'mysql' && input.querySource === 'perfschema',
      qan_postgresql_pgstatements:
        input.engine === 'postgresql' && input.querySource === 'pgstatements',
      disable_enhanced_metrics: !instance.enhancedMonitoring,
      custom_labels: target.labels,
    },
  };
}

/**
 * Adds RDS services. Refuses any base URL but `https://` (the request carries a database
 * password); the transport verifies PMM's certificate against its published CA.
 */
export class RdsPmmApi {
  private readonly t: PmmTransport;

  constructor(options: PmmTransportOptions) {
    if (!/^https:\/\//i.test(options.baseUrl)) {
      throw new PmmRequestError(
        'network',
        'the RDS phase sends database passwords to PMM over HTTPS only',
      );
    }
    this.t = new PmmTransport(options);
  }

  get requests(): number {
    return this.t.requests;
  }

  async addRds(target: RdsTarget, password: string): Promise<void> {
    await this.t.request('POST', 'v1/management/services', { json: addRdsBody(target, password) });
  }
}
