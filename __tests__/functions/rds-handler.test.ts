import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DBInstance,
  RDSClient,
} from '@aws-sdk/client-rds';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { parseMonitoredRds } from '../../functions/asg-reconciler/src/rds-config';
import { runWithRds } from '../../functions/asg-reconciler/src/rds-handler';
import {
  RdsPhaseConfig,
  RdsReconcileError,
  RdsSummary,
  reconcileRds,
} from '../../functions/asg-reconciler/src/rds-reconcile';
import { Fault, FakePmm } from '../../functions/asg-reconciler/testing/fake-pmm';

/**
 * The RDS phase end to end: a real HTTP + HTTPS fake of PMM 3 (list, add RDS, remove) and
 * RDS, Secrets Manager and SSM stubbed at the SDK level (aws-sdk-client-mock), so the SDK's
 * paginators, commands and the PMM transport all run for real.
 */
const ADMIN = `Adm1n:${randomBytes(9).toString('hex')}/"%?`;
const DB_PASSWORD = `Db-Canary:${randomBytes(9).toString('hex')}&"'`;
const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin-AbCdEf';
const DB_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orders-db-XyZ';
const STATE = '/test/pmm-asg-reconciler/rds-state';
const CA_PARAMETER = '/pmm/test/ca-certificate';
const HOUR = 3_600_000;

const rds = mockClient(RDSClient);
const sm = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);

let pmm: FakePmm;
let httpUrl: string;
let httpsUrl: string;
/** identifier -> DB instances; clusters: cluster id -> member instance ids. */
let instances: DBInstance[];
let clusters: Record<string, string[]>;
let state: string | undefined;
let logs: Record<string, unknown>[];
let rdsFailure: Error | undefined;
let dbSecretFailure: Error | undefined;

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

function db(id: string, over: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: id,
    DBInstanceArn: `arn:aws:rds:eu-west-1:123456789012:db:${id}`,
    Engine: 'mysql',
    EngineVersion: '8.0.39',
    Endpoint: { Address: `${id}.c1.eu-west-1.rds.amazonaws.com`, Port: 3306 },
    AvailabilityZone: 'eu-west-1a',
    DBInstanceClass: 'db.t4g.medium',
    MonitoringInterval: 60,
    ...over,
  };
}

const MONITORED = [
  { identifier: 'orders', engine: 'mysql', username: 'pmm', password_secret_arn: DB_ARN },
  {
    identifier: 'aurora-pg',
    engine: 'postgresql',
    username: 'pmm',
    password_secret_arn: DB_ARN,
    custom_labels: { team: 'data' },
  },
];

function config(list: unknown[] = MONITORED, tlsUrl = httpsUrl): RdsPhaseConfig {
  return {
    inputs: parseMonitoredRds(JSON.stringify(list)),
    pmmApiUrl: tlsUrl,
    caParameterName: CA_PARAMETER,
    adminSecretArn: ADMIN_ARN,
    stateParameterName: STATE,
    missingGraceMs: 6 * HOUR,
    region: 'eu-west-1',
  };
}

/** The SDK clients the phase gets (their sends are answered by the mocks above). */
const clients = () => ({
  autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
  ec2: new EC2Client({ region: 'eu-west-1' }),
  ssm: new SSMClient({ region: 'eu-west-1' }),
  secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
  rds: new RDSClient({ region: 'eu-west-1' }),
});

async function run(
  over: {
    list?: unknown[];
    tlsUrl?: string;
    nowMs?: number;
    /** Fixed, or a function of wall time (the Lambda's getRemainingTimeInMillis). */
    remainingMs?: number | (() => number);
    deadlineMarginMs?: number;
  } = {},
): Promise<{ summary?: RdsSummary; error?: unknown }> {
  logs = [];
  try {
    const summary = await reconcileRds({
      config: config(over.list, over.tlsUrl),
      clients: clients(),
      remainingMs:
        typeof over.remainingMs === 'function'
          ? over.remainingMs
          : () => (over.remainingMs as number | undefined) ?? 300_000,
      now: over.nowMs === undefined ? undefined : () => over.nowMs!,
      log: (e) => logs.push(e),
      options: {
        backoffBaseMs: 5,
        pmmTimeoutMs: 500,
        deadlineMarginMs: over.deadlineMarginMs ?? 1000,
        pmmRetries: 1,
      },
    });
    return { summary };
  } catch (error) {
    return { error };
  }
}

const summaryOf = (r: { summary?: RdsSummary; error?: unknown }): RdsSummary =>
  r.summary ?? (r.error as RdsReconcileError).summary;

beforeEach(async () => {
  pmm = new FakePmm(ADMIN);
  // PMM's 443 with a certificate from a test CA (what the host publishes), and a plain-HTTP
  // listener for the test that proves it is refused.
  httpsUrl = await pmm.start();
  httpUrl = await pmm.startPlain();
  instances = [
    db('orders'),
    db('aurora-pg-1', {
      Engine: 'aurora-postgresql',
      EngineVersion: '16.4',
      DBClusterIdentifier: 'aurora-pg',
      Endpoint: { Address: 'aurora-pg-1.c1.eu-west-1.rds.amazonaws.com', Port: 5432 },
    }),
    db('aurora-pg-2', {
      Engine: 'aurora-postgresql',
      EngineVersion: '16.4',
      DBClusterIdentifier: 'aurora-pg',
      MonitoringInterval: 0,
      Endpoint: { Address: 'aurora-pg-2.c1.eu-west-1.rds.amazonaws.com', Port: 5432 },
    }),
  ];
  clusters = { 'aurora-pg': ['aurora-pg-1', 'aurora-pg-2'] };
  state = JSON.stringify({ version: 1, missingSince: {} });
  rdsFailure = undefined;
  dbSecretFailure = undefined;
  for (const m of [rds, sm, ssm]) m.reset();
  sm.on(GetSecretValueCommand).callsFake(async (input) => {
    if (input.SecretId === ADMIN_ARN) return { SecretString: ADMIN };
    if (input.SecretId === DB_ARN) {
      if (dbSecretFailure) throw dbSecretFailure;
      return { SecretString: DB_PASSWORD };
    }
    throw named('ResourceNotFoundException');
  });
  ssm.on(GetParameterCommand).callsFake(async (input) => {
    if (input.Name === CA_PARAMETER) return { Parameter: { Name: CA_PARAMETER, Value: pmm.ca } };
    if (input.Name !== STATE || state === undefined) throw named('ParameterNotFound');
    return { Parameter: { Name: STATE, Value: state } };
  });
  ssm.on(PutParameterCommand).callsFake(async (input) => {
    state = input.Value;
    return { Version: 2 };
  });
  // Two pages each, so the paginators' NextToken/Marker handling is exercised.
  rds.on(DescribeDBClustersCommand).callsFake(async (input) => {
    if (rdsFailure) throw rdsFailure;
    const ids = input.Filters?.[0]?.Values ?? [];
    const found = Object.keys(clusters).filter((c) => ids.includes(c));
    return input.Marker === undefined
      ? { DBClusters: found.slice(0, 1).map((c) => ({ DBClusterIdentifier: c })), Marker: 'p2' }
      : { DBClusters: found.slice(1).map((c) => ({ DBClusterIdentifier: c })) };
  });
  rds.on(DescribeDBInstancesCommand).callsFake(async (input) => {
    if (rdsFailure) throw rdsFailure;
    const f = input.Filters?.[0];
    const ids = f?.Values ?? [];
    const list =
      f?.Name === 'db-cluster-id'
        ? instances.filter(
            (i) =>
              ids.includes(i.DBClusterIdentifier ?? '') &&
              clusters[i.DBClusterIdentifier!]?.includes(i.DBInstanceIdentifier!),
          )
        : instances.filter((i) => ids.includes(i.DBInstanceIdentifier!));
    return input.Marker === undefined
      ? { DBInstances: list.slice(0, 1), Marker: list.length > 1 ? 'p2' : undefined }
      : { DBInstances: list.slice(1) };
  });
});
afterEach(() => pmm.stop());

const names = () => pmm.services.map((s) => s.service_name).sort();

describe('RDS phase against the real-HTTP fake PMM', () => {
  test('new: an instance and an Aurora cluster (its instances) registered over TLS, marked, confirmed; second run changes nothing', async () => {
    const first = await run();
    expect(first.error).toBeUndefined();
    expect(first.summary!.added.sort()).toEqual([
      'rds/aurora-pg-1',
      'rds/aurora-pg-2',
      'rds/orders',
    ]);
    expect(names()).toEqual(['rds/aurora-pg-1', 'rds/aurora-pg-2', 'rds/orders']);
    expect(pmm.rdsAdds.every((a) => a.protocol === 'https')).toBe(true);
    const pg1 = pmm.rdsAdds.find((a) => a.body.instance_id === 'aurora-pg-1')!.body;
    expect(pg1).toMatchObject({
      region: 'eu-west-1',
      az: 'eu-west-1a',
      address: 'aurora-pg-1.c1.eu-west-1.rds.amazonaws.com',
      port: 5432,
      engine: 'DISCOVER_RDS_ENGINE_POSTGRESQL',
      node_name: 'rds/aurora-pg-1',
      service_name: 'rds/aurora-pg-1',
      cluster: 'aurora-pg',
      username: 'pmm',
      password: DB_PASSWORD,
      rds_exporter: true,
      qan_postgresql_pgstatements: true,
      qan_mysql_perfschema: false,
      disable_enhanced_metrics: false,
    });
    expect(pg1.custom_labels).toMatchObject({
      team: 'data',
      managed_by: 'pmm-rds-reconciler',
      aws_rds_instance: 'aurora-pg-1',
      aws_rds_input: 'aurora-pg',
    });
    expect(pg1).not.toHaveProperty('aws_access_key');
    const pg2 = pmm.rdsAdds.find((a) => a.body.instance_id === 'aurora-pg-2')!.body;
    expect(pg2.disable_enhanced_metrics).toBe(true);
    expect(
      pmm.rdsAdds.find((a) => a.body.instance_id === 'orders')!.body.qan_mysql_perfschema,
    ).toBe(true);

    const posts = pmm.rdsAdds.length;
    const second = await run();
    expect(second.error).toBeUndefined();
    expect(second.summary).toMatchObject({
      added: [],
      removed: [],
      reregistered: [],
      unchanged: 3,
    });
    expect(pmm.rdsAdds).toHaveLength(posts);
    expect(rds.commandCalls(DescribeDBClustersCommand).length).toBeGreaterThanOrEqual(4); // paged
  });

  test('changed endpoint or engine version: the old registration is removed and a new one added', async () => {
    await run();
    instances[0] = db('orders', {
      Endpoint: { Address: 'orders-new.c1.eu-west-1.rds.amazonaws.com', Port: 3306 },
    });
    instances[1] = { ...instances[1], EngineVersion: '16.6' };
    const r = await run();
    expect(r.error).toBeUndefined();
    expect(r.summary!.reregistered.sort()).toEqual(['rds/aurora-pg-1', 'rds/orders']);
    expect(names()).toEqual(['rds/aurora-pg-1', 'rds/aurora-pg-2', 'rds/orders']);
    expect(
      pmm.rdsAdds.some((a) => a.body.address === 'orders-new.c1.eu-west-1.rds.amazonaws.com'),
    ).toBe(true);
    expect(pmm.requests).toContain('DELETE /v1/management/nodes/node-rds%2Forders?force=true');
  });

  test('removed from monitored_rds: kept during the grace period, removed after it; nothing else touched', async () => {
    await run();
    pmm.services.push({
      service_id: 'svc-op',
      service_name: 'rds/by-hand',
      service_type: 'mysql',
      node_id: 'n-op',
    });
    const t0 = Date.now();
    const within = await run({ list: [MONITORED[1]], nowMs: t0 });
    expect(within.error).toBeUndefined(); // removal from the list is not a failure
    expect(names()).toContain('rds/orders');
    expect(within.summary!.missing).toEqual([
      expect.objectContaining({ identifier: 'orders', expired: false }),
    ]);
    expect(JSON.parse(state!).missingSince.orders).toBe(new Date(t0).toISOString());
    const after = await run({ list: [MONITORED[1]], nowMs: t0 + 6 * HOUR });
    expect(after.summary!.removed).toEqual(['rds/orders']);
    expect(names()).toEqual(['rds/aurora-pg-1', 'rds/aurora-pg-2', 'rds/by-hand']);
  });

  test('missing from AWS: a counted failure every run, kept until the grace period is over', async () => {
    await run();
    instances = instances.filter((i) => i.DBInstanceIdentifier !== 'orders');
    const t0 = Date.now();
    const r = await run({ nowMs: t0 });
    expect(r.error).toBeInstanceOf(RdsReconcileError);
    expect(summaryOf(r).failed.map((f) => f.identifier)).toEqual(['orders']);
    expect(names()).toContain('rds/orders');
    expect(logs.some((l) => l.message === 'monitored RDS identifier missing')).toBe(true);
    const later = await run({ nowMs: t0 + 6 * HOUR });
    expect(summaryOf(later).removed).toEqual(['rds/orders']);
  });

  test('a member leaving a found Aurora cluster is removed at once (a successful read)', async () => {
    await run();
    clusters['aurora-pg'] = ['aurora-pg-1'];
    const r = await run();
    expect(r.summary!.removed).toEqual(['rds/aurora-pg-2']);
  });

  test.each([
    ['throttled beyond retries', named('Throttling', 'Rate exceeded')],
    [
      'access denied',
      named('AccessDeniedException', 'not authorized to perform rds:DescribeDBInstances'),
    ],
  ])(
    'RDS read fails (%s): unknown, nothing removed, even past the grace period',
    async (_n, err) => {
      await run();
      rdsFailure = err;
      const r = await run({ nowMs: Date.now() + 100 * HOUR });
      expect(r.error).toBeInstanceOf(RdsReconcileError);
      expect(summaryOf(r).removed).toEqual([]);
      expect(names()).toHaveLength(3);
      expect(summaryOf(r).failed[0].reason).toMatch(/RDS lookup failed/);
    },
  );

  test('the state cannot be read: nothing expires, nothing written', async () => {
    await run();
    ssm.on(GetParameterCommand).rejects(named('AccessDeniedException'));
    const r = await run({ list: [], nowMs: Date.now() + 100 * HOUR });
    expect(summaryOf(r).removed).toEqual([]);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  test('foreign services (no marker, another manager, a service on our node) are never removed', async () => {
    await run();
    const ordersNode = pmm.services.find((s) => s.service_name === 'rds/orders')!.node_id;
    pmm.services.push(
      { service_id: 'svc-f1', service_name: 'rds/legacy', service_type: 'mysql', node_id: 'n1' },
      {
        service_id: 'svc-f2',
        service_name: 'rds/other',
        service_type: 'mysql',
        node_id: 'n2',
        custom_labels: { managed_by: 'terraform', aws_rds_instance: 'other' },
      },
      {
        service_id: 'svc-f3',
        service_name: 'extra-on-orders-node',
        service_type: 'external',
        node_id: ordersNode,
      },
    );
    const r = await run({ list: [MONITORED[1]], nowMs: Date.now() + 100 * HOUR });
    // The first run without it only starts the clock.
    expect(r.summary!.removed).toEqual([]);
    const after = await run({ list: [MONITORED[1]], nowMs: Date.now() + 200 * HOUR });
    expect(after.summary!.removed).toEqual(['rds/orders']);
    expect(after.summary!.foreign).toBe(2);
    // A foreign service shares the node: only our service goes, not the node.
    expect(pmm.requests.some((l) => l.startsWith('DELETE /v1/management/nodes/'))).toBe(false);
    expect(names()).toEqual([
      'extra-on-orders-node',
      'rds/aurora-pg-1',
      'rds/aurora-pg-2',
      'rds/legacy',
      'rds/other',
    ]);
  });

  test('a name held by a foreign service: not registered over it, a counted failure', async () => {
    pmm.services.push({
      service_id: 'svc-f',
      service_name: 'rds/orders',
      service_type: 'mysql',
      node_id: 'n',
    });
    const r = await run();
    expect(summaryOf(r).failed[0].reason).toMatch(
      /held by a service the reconciler did not create/,
    );
    expect(pmm.rdsAdds.some((a) => a.body.instance_id === 'orders')).toBe(false);
  });

  test('a plain-HTTP URL is refused: no request, no password leaves the Lambda', async () => {
    const r = await run({ tlsUrl: httpUrl });
    expect(r.error).toBeInstanceOf(RdsReconcileError);
    expect(summaryOf(r).failed[0].reason).toMatch(/only https:\/\//);
    expect(pmm.rdsAdds).toHaveLength(0);
    expect(pmm.requests).toHaveLength(0);
  });

  test('runWithRds: the RDS phase runs and reports even when the ASG phase fails', async () => {
    const deps = {
      config: config(),
      clients: clients(),
      remainingMs: () => 300_000,
      log: () => undefined,
    };
    await expect(runWithRds(() => Promise.reject(new Error('asg failed')), deps)).rejects.toThrow(
      'asg failed',
    );
    expect(names()).toHaveLength(3);
    const ok = await runWithRds(async () => ({ asg: true }), deps);
    expect(ok).toMatchObject({ asg: true, rds: { unchanged: 3 } });
    const off = await runWithRds(async () => ({ asg: true }), { ...deps, config: config([]) });
    expect(off).toEqual({ asg: true });
  });
});

/**
 * The RDS phase runs beside the ASG phase in the same invocation: a hanging AWS API in it
 * must not keep the handler from returning (and both summaries from being logged) before the
 * Lambda's deadline. Wall-clock budget: a 4 s Lambda with a 3 s margin (calls are cut off
 * after about 1 s) against calls that never answer; the run must end before the 4 s, which
 * leaves 3 s of slack for a loaded machine.
 */
describe('RDS phase under the Lambda deadline: hanging AWS APIs', () => {
  const hang = () => new Promise<never>(() => undefined);
  const LAMBDA_MS = 4000;
  const MARGIN_MS = 3000;
  const lambda = () => {
    const started = Date.now();
    return { started, remainingMs: () => LAMBDA_MS - (Date.now() - started) };
  };

  test.each([
    ['DescribeDBInstances', () => rds.on(DescribeDBInstancesCommand).callsFake(hang)],
    ['DescribeDBClusters', () => rds.on(DescribeDBClustersCommand).callsFake(hang)],
  ])(
    '%s never answers: the identifiers are unknown (never missing), nothing removed, summary logged in time',
    async (_op, arrange) => {
      // Seed registrations, then make RDS hang and mark them as missing for long: a run that
      // treated "no answer" as "gone" would remove them.
      await run();
      expect(names()).toHaveLength(3);
      arrange();
      const { started, remainingMs } = lambda();

      const r = await run({
        remainingMs,
        deadlineMarginMs: MARGIN_MS,
        nowMs: Date.now() + 48 * HOUR,
      });

      expect(Date.now() - started).toBeLessThan(LAMBDA_MS);
      expect(r.error).toBeInstanceOf(RdsReconcileError);
      const s = summaryOf(r);
      expect(s.failed.map((f) => f.reason)).toEqual(
        expect.arrayContaining([expect.stringMatching(/RDS lookup failed: AwsDeadlineError/)]),
      );
      expect(s.missing).toEqual([]);
      expect(s.removed).toEqual([]);
      expect(names()).toHaveLength(3);
      expect(logs.find((l) => l.message === 'rds reconcile summary')).toBeDefined();
    },
    10_000,
  );

  test('the DB password secret never answers: nothing registered, a counted failure, summary logged in time', async () => {
    sm.on(GetSecretValueCommand).callsFake(async (input) => {
      if (input.SecretId === ADMIN_ARN) return { SecretString: ADMIN };
      return hang();
    });
    const { started, remainingMs } = lambda();

    const r = await run({ remainingMs, deadlineMarginMs: MARGIN_MS });

    expect(Date.now() - started).toBeLessThan(LAMBDA_MS);
    expect(pmm.rdsAdds).toHaveLength(0);
    expect(r.error).toBeInstanceOf(RdsReconcileError);
    const s = summaryOf(r);
    expect(s.added).toEqual([]);
    // A call that used up all the time left hung: a failure (the Errors alarm), not a deferral.
    expect(s.failed.map((p) => p.reason)).toEqual(
      expect.arrayContaining([`reading the password secret ${DB_ARN}: AwsDeadlineError`]),
    );
    expect(logs.find((l) => l.message === 'rds reconcile summary')).toBeDefined();
  }, 10_000);

  test('the CA parameter never answers: no credential read, no request to PMM, ends in time', async () => {
    ssm.on(GetParameterCommand).callsFake(hang);
    const { started, remainingMs } = lambda();

    const r = await run({ remainingMs, deadlineMarginMs: MARGIN_MS });

    expect(Date.now() - started).toBeLessThan(LAMBDA_MS);
    expect(r.error).toBeInstanceOf(RdsReconcileError);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(pmm.requests).toHaveLength(0);
  }, 10_000);

  test('runWithRds returns before the deadline when the RDS phase hangs on AWS', async () => {
    rds.on(DescribeDBInstancesCommand).callsFake(hang);
    const { started, remainingMs } = lambda();
    const deps = {
      config: config(),
      clients: clients(),
      remainingMs,
      log: () => undefined,
      options: { backoffBaseMs: 5, pmmTimeoutMs: 500, deadlineMarginMs: MARGIN_MS, pmmRetries: 1 },
    };

    await expect(runWithRds(async () => ({ asg: true }), deps)).rejects.toBeInstanceOf(
      RdsReconcileError,
    );
    expect(Date.now() - started).toBeLessThan(LAMBDA_MS);
  }, 10_000);
});

/** The DB password and the admin password never appear in anything printed, thrown or returned. */
describe('RDS canary: no credential in any output on any failure path', () => {
  const forms = (s: string) => [
    s,
    encodeURIComponent(s),
    JSON.stringify(s).slice(1, -1),
    s.split(':')[1].slice(0, 18),
  ];
  const FORMS = [
    ...forms(DB_PASSWORD),
    ...forms(ADMIN),
    Buffer.from(`admin:${ADMIN}`).toString('base64'),
  ];
  const ADD = 'POST /v1/management/services';
  const modes: [string, Omit<Fault, 'times'> | undefined, () => void][] = [
    ['500 on add', { match: ADD, status: 500 }, () => undefined],
    [
      '400 whose body echoes the password',
      { match: ADD, status: 400, body: JSON.stringify({ message: `bad password ${DB_PASSWORD}` }) },
      () => undefined,
    ],
    ['409 already exists', { match: ADD, status: 409 }, () => undefined],
    [
      'HTML answer',
      { match: ADD, status: 200, body: `<html>${DB_PASSWORD}</html>`, contentType: 'text/html' },
      () => undefined,
    ],
    [
      'malformed JSON',
      { match: ADD, status: 200, body: `{"x": "${DB_PASSWORD}`, contentType: 'application/json' },
      () => undefined,
    ],
    [
      'redirect',
      {
        match: ADD,
        status: 307,
        headers: { location: `https://127.0.0.1:1/?p=${encodeURIComponent(DB_PASSWORD)}` },
      },
      () => undefined,
    ],
    ['connection reset', { match: ADD, status: 0, reset: true }, () => undefined],
    ['timeout', { match: ADD, status: 200, delayMs: 1500 }, () => undefined],
    ['listing fails', { match: 'GET /v1/management/services', status: 503 }, () => undefined],
    [
      'DB secret read fails with the value in the message',
      undefined,
      () => {
        dbSecretFailure = named('InternalServiceError', `boom ${DB_PASSWORD}`);
      },
    ],
    ['TLS endpoint refuses connections', undefined, () => undefined],
  ];
  test.each(modes)('%s', async (name, fault, arrange) => {
    if (fault) pmm.faults.push({ ...fault, times: 100 });
    arrange();
    const tlsUrl = name.startsWith('TLS endpoint') ? 'https://127.0.0.1:1' : undefined;
    const printed: string[] = [];
    const spies = (['log', 'error', 'warn', 'info'] as const).map((m) =>
      jest
        .spyOn(console, m)
        .mockImplementation(
          (...a: unknown[]) => void printed.push(a.map((x) => inspect(x, { depth: 10 })).join(' ')),
        ),
    );
    const r = await run({ tlsUrl });
    spies.forEach((s) => s.mockRestore());
    expect(r.error).toBeInstanceOf(RdsReconcileError); // the failure path was taken
    const everything = [
      ...printed,
      ...logs.map((l) => JSON.stringify(l)),
      inspect(r.error, { depth: 10 }),
      String((r.error as Error).stack),
      JSON.stringify(summaryOf(r)),
    ].join('\n');
    for (const f of FORMS) expect(everything).not.toContain(f);
  });
});
