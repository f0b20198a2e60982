import {
  DBInstance,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  RDSClient,
} from '@aws-sdk/client-rds';
import { underBudget } from './aws';
import { chunk } from './decide';
import { RdsInstance, RdsLookup } from './rds-types';
import { errorMessage, errorName, mapLimit, withThrottleRetry } from './util';

/** Values per RDS `Filters` entry (kept well under the API's limits). */
const IDS_PER_CALL = 50;

export interface RdsDiscovery {
  readonly lookups: Map<string, RdsLookup>;
  /** API calls by operation (pages, retries included). */
  readonly calls: Record<string, number>;
}

function regionOf(arn: string | undefined, fallback: string): string {
  return arn?.split(':')[3] || fallback;
}

function toInstance(db: DBInstance, inputId: string, region: string): RdsInstance | undefined {
  if (!db.DBInstanceIdentifier) return undefined;
  return {
    instanceId: db.DBInstanceIdentifier,
    inputId,
    clusterId: db.DBClusterIdentifier,
    address: db.Endpoint?.Address,
    port: db.Endpoint?.Port,
    engine: db.Engine ?? '',
    engineVersion: db.EngineVersion ?? '',
    region: regionOf(db.DBInstanceArn, region),
    az: db.AvailabilityZone,
    instanceClass: db.DBInstanceClass,
    enhancedMonitoring: (db.MonitoringInterval ?? 0) > 0,
  };
}

/**
 * What each `monitored_rds` identifier is: an Aurora cluster (found by DescribeDBClusters;
 * its instances by DescribeDBInstances filtered on `db-cluster-id`), a DB instance (found by
 * DescribeDBInstances filtered on `db-instance-id`), or missing (neither, with every call
 * successful). Filters, not identifiers, so an unknown name is "not returned", not an error.
 * A failed call makes its identifiers "unknown" (never "missing", never "no instances").
 * Paging by the SDK's paginators; throttling retried on top of the SDK's own retries.
 */
export async function discoverRds(
  client: RDSClient,
  identifiers: readonly string[],
  region: string,
  options: {
    concurrency: number;
    throttleAttempts: number;
    throttleBaseMs: number;
    /** Milliseconds the calls may still take (the Lambda deadline minus its margin). */
    budgetMs?: () => number;
  },
): Promise<RdsDiscovery> {
  const calls: Record<string, number> = {};
  const lookups = new Map<string, RdsLookup>();
  // Every page of a listing within the budget (aborted when it runs out): a hanging RDS API
  // makes the identifiers "unknown", never keeps the run from logging its summary.
  const all = async <T>(
    op: string,
    pages: (abortSignal: AbortSignal) => AsyncIterable<T>,
  ): Promise<T[]> =>
    withThrottleRetry(
      () =>
        underBudget(op, options.budgetMs, async (abortSignal) => {
          const out: T[] = [];
          for await (const page of pages(abortSignal)) {
            calls[op] = (calls[op] ?? 0) + 1;
            out.push(page);
          }
          return out;
        }),
      options.throttleAttempts,
      options.throttleBaseMs,
    );

  await mapLimit(chunk(identifiers, IDS_PER_CALL), options.concurrency, async (group) => {
    try {
      const [clusterPages, instancePages, memberPages] = await Promise.all([
        all('DescribeDBClusters', (abortSignal) =>
          paginateDescribeDBClusters(
            { client },
            { Filters: [{ Name: 'db-cluster-id', Values: group }] },
            { abortSignal },
          ),
        ),
        all('DescribeDBInstances', (abortSignal) =>
          paginateDescribeDBInstances(
            { client },
            { Filters: [{ Name: 'db-instance-id', Values: group }] },
            { abortSignal },
          ),
        ),
        all('DescribeDBInstances', (abortSignal) =>
          paginateDescribeDBInstances(
            { client },
            { Filters: [{ Name: 'db-cluster-id', Values: group }] },
            { abortSignal },
          ),
        ),
      ]);
      const clusters = new Set(
        clusterPages.flatMap((p) => p.DBClusters ?? []).map((c) => c.DBClusterIdentifier),
      );
      const instances = instancePages.flatMap((p) => p.DBInstances ?? []);
      const members = memberPages.flatMap((p) => p.DBInstances ?? []);
      for (const id of group) {
        if (clusters.has(id)) {
          const list = members
            .filter((m) => m.DBClusterIdentifier === id)
            .map((m) => toInstance(m, id, region))
            .filter((m): m is RdsInstance => m !== undefined);
          lookups.set(id, { state: 'found', instances: list });
          continue;
        }
        const db = instances.find((i) => i.DBInstanceIdentifier === id);
        const inst = db && toInstance(db, id, region);
        lookups.set(id, inst ? { state: 'found', instances: [inst] } : { state: 'missing' });
      }
    } catch (e) {
      for (const id of group) {
        lookups.set(id, { state: 'unknown', error: `${errorName(e)}: ${errorMessage(e)}` });
      }
    }
  });
  return { lookups, calls };
}
