import {
  decideRds,
  fingerprint,
  missingRdsInputs,
  RDS_FINGERPRINT_LABEL,
  RdsDecisionInput,
} from '../../functions/asg-reconciler/src/rds-decide';
import { parseMonitoredRds } from '../../functions/asg-reconciler/src/rds-config';
import { RdsInput, RdsInstance, RdsLookup } from '../../functions/asg-reconciler/src/rds-types';
import { PmmService } from '../../functions/asg-reconciler/src/types';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC';
const rdsInput = (identifier: string, over: Partial<RdsInput> = {}): RdsInput => ({
  identifier,
  engine: 'mysql',
  username: 'pmm',
  passwordSecretArn: SECRET,
  port: null,
  querySource: 'perfschema',
  customLabels: {},
  ...over,
});
const inst = (id: string, over: Partial<RdsInstance> = {}): RdsInstance => ({
  instanceId: id,
  inputId: id,
  address: `${id}.abc.eu-west-1.rds.amazonaws.com`,
  port: 3306,
  engine: 'mysql',
  engineVersion: '8.0.39',
  region: 'eu-west-1',
  enhancedMonitoring: true,
  ...over,
});
const found = (...instances: RdsInstance[]): RdsLookup => ({ state: 'found', instances });
/** A service the reconciler registered for `instance` from `input` (same fingerprint). */
const ours = (input: RdsInput, instance: RdsInstance, labels = {}): PmmService => ({
  serviceId: `svc-${instance.instanceId}`,
  serviceName: `rds/${instance.instanceId}`,
  serviceType: 'mysql',
  nodeId: `node-${instance.instanceId}`,
  customLabels: {
    managed_by: 'pmm-rds-reconciler',
    aws_rds_instance: instance.instanceId,
    aws_rds_input: input.identifier,
    [RDS_FINGERPRINT_LABEL]: fingerprint(input, instance, input.port ?? instance.port!),
    ...labels,
  },
});
const run = (d: Partial<RdsDecisionInput>) =>
  decideRds({ inputs: [], lookups: new Map(), services: [], expired: new Set(), ...d });

describe('decideRds', () => {
  const a = rdsInput('orders');
  const ai = inst('orders');

  test('new instance: registered as rds/<identifier> with marker, input and user labels', () => {
    const input = rdsInput('orders', { customLabels: { team: 'payments' } });
    const plan = run({ inputs: [input], lookups: new Map([['orders', found(ai)]]) });
    expect(plan.register).toHaveLength(1);
    expect(plan.register[0].serviceName).toBe('rds/orders');
    expect(plan.register[0].labels).toMatchObject({
      team: 'payments',
      managed_by: 'pmm-rds-reconciler',
      aws_rds_instance: 'orders',
      aws_rds_input: 'orders',
    });
    expect(plan.remove).toEqual([]);
  });

  test('unchanged: same endpoint, version and settings: nothing to do', () => {
    const plan = run({
      inputs: [a],
      lookups: new Map([['orders', found(ai)]]),
      services: [ours(a, ai)],
    });
    expect(plan.unchanged).toEqual(['rds/orders']);
    expect(plan.register).toEqual([]);
    expect(plan.replace).toEqual([]);
    expect(plan.remove).toEqual([]);
  });

  test.each([
    ['endpoint address', { address: 'new.abc.eu-west-1.rds.amazonaws.com' }],
    ['endpoint port', { port: 3307 }],
    ['engine version', { engineVersion: '8.0.40' }],
    ['enhanced monitoring', { enhancedMonitoring: false }],
  ])('changed %s: re-registered (old service replaced)', (_what, change) => {
    const plan = run({
      inputs: [a],
      lookups: new Map([['orders', found(inst('orders', change))]]),
      services: [ours(a, ai)],
    });
    expect(plan.replace).toHaveLength(1);
    expect(plan.replace[0].old.map((s) => s.serviceId)).toEqual(['svc-orders']);
    expect(plan.unchanged).toEqual([]);
  });

  test('changed settings (query source, user) re-register too', () => {
    const changed = rdsInput('orders', { querySource: 'none', username: 'pmm2' });
    const plan = run({
      inputs: [changed],
      lookups: new Map([['orders', found(ai)]]),
      services: [ours(a, ai)],
    });
    expect(plan.replace).toHaveLength(1);
  });

  test('foreign: a service named rds/<id> without our marker blocks the name and is never removed', () => {
    const foreign: PmmService = {
      serviceId: 'svc-manual',
      serviceName: 'rds/orders',
      nodeId: 'n1',
      customLabels: {},
    };
    const otherManager: PmmService = {
      serviceId: 'svc-x',
      serviceName: 'rds/other',
      nodeId: 'n2',
      customLabels: { managed_by: 'someone-else', aws_rds_instance: 'other' },
    };
    const plan = run({
      inputs: [a],
      lookups: new Map([['orders', found(ai)]]),
      services: [foreign, otherManager],
      expired: new Set(['orders', 'other']),
    });
    expect(plan.foreign).toBe(2);
    expect(plan.register).toEqual([]);
    expect(plan.remove).toEqual([]);
    expect(plan.failed[0].reason).toMatch(/held by a service the reconciler did not create/);
  });

  test('missing from AWS within the grace period: kept; past it: removed', () => {
    const d = {
      inputs: [a],
      lookups: new Map<string, RdsLookup>([['orders', { state: 'missing' }]]),
      services: [ours(a, ai)],
    };
    const within = run(d);
    expect(within.remove).toEqual([]);
    expect(within.kept).toEqual(['rds/orders']);
    const past = run({ ...d, expired: new Set(['orders']) });
    expect(past.remove.map((r) => r.service.serviceId)).toEqual(['svc-orders']);
    expect(past.remove[0].reason).toMatch(/missing from AWS past the grace period/);
  });

  test('removed from monitored_rds: kept until its grace expires, then removed', () => {
    const svc = ours(a, ai);
    expect(run({ services: [svc] }).remove).toEqual([]);
    const gone = run({ services: [svc], expired: new Set(['orders']) });
    expect(gone.remove[0].reason).toMatch(/removed from monitored_rds/);
  });

  test('unknown (failed RDS read): never removed, even when the clock says expired', () => {
    const plan = run({
      inputs: [a],
      lookups: new Map([['orders', { state: 'unknown', error: 'Throttling' } as RdsLookup]]),
      services: [ours(a, ai)],
      expired: new Set(['orders']),
    });
    expect(plan.remove).toEqual([]);
    expect(plan.kept).toEqual(['rds/orders']);
  });

  test('Aurora: a member that left a found cluster is removed; the others stay', () => {
    const cluster = rdsInput('aurora-prod');
    const w = inst('aurora-prod-1', {
      inputId: 'aurora-prod',
      clusterId: 'aurora-prod',
      engine: 'aurora-mysql',
    });
    const r = inst('aurora-prod-2', {
      inputId: 'aurora-prod',
      clusterId: 'aurora-prod',
      engine: 'aurora-mysql',
    });
    const plan = run({
      inputs: [cluster],
      lookups: new Map([['aurora-prod', found(w)]]),
      services: [ours(cluster, w), ours(cluster, r)],
    });
    expect(plan.unchanged).toEqual(['rds/aurora-prod-1']);
    expect(plan.remove.map((x) => x.service.serviceName)).toEqual(['rds/aurora-prod-2']);
  });

  test('engine mismatch: not registered, reported, an existing registration left alone', () => {
    const pg = inst('orders', { engine: 'postgres' });
    const plan = run({
      inputs: [a],
      lookups: new Map([['orders', found(pg)]]),
      services: [ours(a, ai)],
      expired: new Set(['orders']),
    });
    expect(plan.failed[0].reason).toMatch(/runs engine postgres, not mysql/);
    expect(plan.register).toEqual([]);
    expect(plan.remove).toEqual([]);
  });

  test('an instance without an endpoint yet is skipped, not registered', () => {
    const plan = run({
      inputs: [a],
      lookups: new Map([['orders', found(inst('orders', { address: undefined }))]]),
    });
    expect(plan.register).toEqual([]);
    expect(plan.skipped[0].reason).toMatch(/no endpoint yet/);
  });

  test('an instance listed twice (itself and through its cluster) is registered once', () => {
    const cluster = rdsInput('aurora-prod');
    const member = inst('aurora-prod-1', { inputId: 'aurora-prod', clusterId: 'aurora-prod' });
    const plan = run({
      inputs: [cluster, rdsInput('aurora-prod-1')],
      lookups: new Map([
        ['aurora-prod', found(member)],
        ['aurora-prod-1', found({ ...member, inputId: 'aurora-prod-1' })],
      ]),
    });
    expect(plan.register).toHaveLength(1);
    expect(plan.skipped[0].reason).toMatch(/already covered/);
  });
});

describe('missingRdsInputs', () => {
  test('missing from AWS and from the list count; unknown is separate; found is neither', () => {
    const a = rdsInput('a');
    const out = missingRdsInputs(
      [a, rdsInput('b'), rdsInput('c')],
      new Map<string, RdsLookup>([
        ['a', found(inst('a'))],
        ['b', { state: 'missing' }],
        ['c', { state: 'unknown', error: 'x' }],
      ]),
      [ours(rdsInput('old'), inst('old'))],
    );
    expect(out.missing.sort()).toEqual(['b', 'old']);
    expect(out.unknown).toEqual(['c']);
  });
});

describe('parseMonitoredRds (the Lambda guard)', () => {
  const row = (o: Record<string, unknown>) =>
    JSON.stringify([
      { identifier: 'db1', engine: 'mysql', username: 'pmm', password_secret_arn: SECRET, ...o },
    ]);
  test('defaults: perfschema for MySQL, pgstatements for PostgreSQL, endpoint port', () => {
    expect(parseMonitoredRds(row({}))[0]).toMatchObject({ querySource: 'perfschema', port: null });
    expect(parseMonitoredRds(row({ engine: 'postgresql' }))[0].querySource).toBe('pgstatements');
    expect(parseMonitoredRds(undefined)).toEqual([]);
  });
  test.each([
    [{ engine: 'oracle' }, /engine must be "mysql" or "postgresql"/],
    [{ query_source: 'slowlog' }, /query_source must be one of perfschema, none for mysql/],
    [{ engine: 'postgresql', query_source: 'pgstatmonitor' }, /pgstatements, none for postgresql/],
    [{ port: 70000 }, /port must be 1..65535/],
    [{ identifier: 'bad_name' }, /identifier must be/],
    [{ password_secret_arn: 'plain-password' }, /password_secret_arn must be/],
    [{ custom_labels: { managed_by: 'me' } }, /must not set managed_by/],
  ])('rejects %j', (o, message) => {
    expect(() => parseMonitoredRds(row(o))).toThrow(message);
  });
});
