/** An engine family of `monitored_rds` (what PMM's RDS API calls DISCOVER_RDS_ENGINE_*). */
export type RdsEngineFamily = 'mysql' | 'postgresql';

/**
 * Query sources PMM's RDS path offers (management/v1/rds.proto: `qan_mysql_perfschema`,
 * `qan_postgresql_pgstatements`); `none` adds no QAN agent. PMM's RDS API has no slowlog
 * or pg_stat_monitor option for RDS (the slow log is not readable on RDS by an agent).
 */
export const RDS_QUERY_SOURCES: Record<RdsEngineFamily, readonly string[]> = {
  mysql: ['perfschema', 'none'],
  postgresql: ['pgstatements', 'none'],
};

/** One entry of the `monitored_rds` module variable. */
export interface RdsInput {
  /** A DB instance identifier or an Aurora DB cluster identifier (then: its instances). */
  readonly identifier: string;
  readonly engine: RdsEngineFamily;
  readonly username: string;
  /** Secrets Manager ARN of the password (read by the Lambda, sent to PMM over TLS only). */
  readonly passwordSecretArn: string;
  /** Overrides the port RDS reports; null = the instance's endpoint port. */
  readonly port: number | null;
  readonly querySource: string;
  readonly customLabels: Readonly<Record<string, string>>;
}

/** A DB instance as the RDS API describes it. */
export interface RdsInstance {
  readonly instanceId: string;
  /** The `monitored_rds` identifier it was found through (itself or its cluster). */
  readonly inputId: string;
  readonly clusterId?: string;
  /** Endpoint; undefined while RDS has none yet (creating). */
  readonly address?: string;
  readonly port?: number;
  /** RDS engine name (mysql, mariadb, aurora-mysql, postgres, aurora-postgresql). */
  readonly engine: string;
  readonly engineVersion: string;
  readonly region: string;
  readonly az?: string;
  readonly instanceClass?: string;
  /** MonitoringInterval > 0. */
  readonly enhancedMonitoring: boolean;
}

/** What one run learnt about each `monitored_rds` identifier. */
export type RdsLookup =
  | { readonly state: 'found'; readonly instances: readonly RdsInstance[] }
  | { readonly state: 'missing' }
  | { readonly state: 'unknown'; readonly error: string };

/** The engine family of an RDS engine name; undefined for engines PMM does not monitor. */
export function familyOf(engine: string): RdsEngineFamily | undefined {
  if (/^(aurora-)?mysql$|^mariadb$|^aurora$/.test(engine)) return 'mysql';
  if (/^(aurora-)?postgres(ql)?$/.test(engine)) return 'postgresql';
  return undefined;
}
