import {
  decide,
  DecisionInput,
  hostnameOf,
  owningAsg,
} from '../../functions/asg-reconciler/src/decide';
import { AsgConfig, PmmService } from '../../functions/asg-reconciler/src/types';

const asg = (name: string): AsgConfig => ({
  asgName: name,
  serviceType: 'mysql',
  port: 3306,
  username: 'pmm',
  passwordSecretArn: null,
});

function input(over: Partial<DecisionInput> & { instances?: [string, string, string][] }) {
  const instances = over.instances ?? [];
  const membership = new Map<
    string,
    { instanceId: string; asgName: string; lifecycleState: string }[]
  >();
  for (const a of over.asgs ?? [asg('db')]) membership.set(a.asgName, []);
  const details = new Map();
  instances.forEach(([id, group, state], i) => {
    membership.get(group)!.push({ instanceId: id, asgName: group, lifecycleState: state });
    details.set(id, {
      instanceId: id,
      privateIp: `10.0.1.${i + 1}`,
      privateDnsName: `ip-10-0-1-${i + 1}.ec2.internal`,
    });
  });
  return {
    asgs: over.asgs ?? [asg('db')],
    membership: over.membership ?? membership,
    details: over.details ?? details,
    services: over.services ?? [],
    missingAsgs: over.missingAsgs,
    expiredAsgs: over.expiredAsgs,
  };
}

const svc = (
  id: string,
  name: string,
  node = `node-${id}`,
  labels = {},
  agents?: PmmService['agents'],
): PmmService => ({
  serviceId: id,
  serviceName: name,
  nodeId: node,
  customLabels: labels,
  ...(agents ? { agents } : {}),
});
const MANAGER = 'pmm-asg-reconciler';
const ours = (instanceId: string) => ({ aws_instance_id: instanceId, managed_by: MANAGER });
const UP = [
  { agentType: 'pmm-agent', isConnected: true },
  { agentType: 'mysqld_exporter', status: 'RUNNING' },
];
const DOWN = [
  { agentType: 'pmm-agent', isConnected: false },
  { agentType: 'mysqld_exporter', status: 'UNKNOWN' },
];

describe('reconcile decisions', () => {
  it('enrols a new InService instance under {asg_name}/{hostname}', () => {
    const plan = decide(input({ instances: [['i-1', 'db', 'InService']] }));
    expect(plan.enrol).toEqual([
      expect.objectContaining({
        instanceId: 'i-1',
        serviceName: 'db/ip-10-0-1-1',
        nodeAddress: '10.0.1.1',
      }),
    ]);
    expect(plan.retire).toEqual([]);
  });

  it('leaves a registered instance alone (no re-install)', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        services: [svc('s1', 'db/ip-10-0-1-1', 'n1', { aws_instance_id: 'i-1' })],
      }),
    );
    expect(plan.enrol).toEqual([]);
    expect(plan.retire).toEqual([]);
    expect(plan.healthy).toEqual(['db/ip-10-0-1-1']);
  });

  it('leaves a registered instance whose pmm-agent is connected alone', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        services: [svc('s1', 'db/ip-10-0-1-1', 'n1', { aws_instance_id: 'i-1' }, UP)],
      }),
    );
    expect(plan.enrol).toEqual([]);
    expect(plan.retire).toEqual([]);
    expect(plan.healthy).toEqual(['db/ip-10-0-1-1']);
  });

  it('re-enrols a registered instance whose pmm-agent PMM reports disconnected, keeping its service', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        services: [svc('s1', 'db/ip-10-0-1-1', 'n1', { aws_instance_id: 'i-1' }, DOWN)],
      }),
    );
    expect(plan.enrol).toEqual([
      expect.objectContaining({ instanceId: 'i-1', serviceName: 'db/ip-10-0-1-1', reenrol: true }),
    ]);
    expect(plan.retire).toEqual([]);
    expect(plan.healthy).toEqual([]);
  });

  it('reads a pmm-agent entry without is_connected as disconnected (proto3 omits false)', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        services: [
          svc('s1', 'db/ip-10-0-1-1', 'n1', { aws_instance_id: 'i-1' }, [
            { agentType: 'pmm-agent' },
          ]),
        ],
      }),
    );
    expect(plan.enrol.map((t) => t.reenrol)).toEqual([true]);
  });

  it('never adopts or removes an unlabelled service of the instance name: skipped, counted foreign', () => {
    for (const agents of [UP, DOWN, undefined]) {
      const plan = decide(
        input({
          instances: [['i-new', 'db', 'InService']],
          services: [svc('old', 'db/ip-10-0-1-1', 'n-old', {}, agents)],
        }),
      );
      expect(plan.retire).toEqual([]);
      expect(plan.enrol).toEqual([]);
      expect(plan.healthy).toEqual([]);
      expect(plan.foreignInMonitored).toBe(1);
      expect(plan.skipped).toEqual([
        expect.objectContaining({
          instanceId: 'i-new',
          reason: 'service name db/ip-10-0-1-1 is held by a service the reconciler did not create',
        }),
      ]);
    }
  });

  it('retires the whole node of a terminated instance', () => {
    const plan = decide(
      input({
        instances: [['i-2', 'db', 'Terminating:Wait']],
        services: [
          svc('s1', 'db/ip-10-0-9-9', 'n1', { aws_instance_id: 'i-9', managed_by: MANAGER }),
          svc('s2', 'db/ip-10-0-1-1', 'n2', { aws_instance_id: 'i-2', managed_by: MANAGER }),
        ],
      }),
    );
    expect(plan.retire).toEqual([
      { kind: 'node', nodeId: 'n1', serviceNames: ['db/ip-10-0-9-9'] },
      { kind: 'node', nodeId: 'n2', serviceNames: ['db/ip-10-0-1-1'] },
    ]);
  });

  it('neither enrols nor retires a pending or standby instance', () => {
    const plan = decide(
      input({
        instances: [
          ['i-1', 'db', 'Pending'],
          ['i-2', 'db', 'Standby'],
        ],
        services: [svc('s2', 'db/ip-10-0-1-2', 'n2')],
      }),
    );
    expect(plan.enrol).toEqual([]);
    expect(plan.retire).toEqual([]);
    expect(plan.skipped.map((s) => s.instanceId)).toEqual(['i-1', 'i-2']);
  });

  it('never touches services outside the monitored prefixes', () => {
    const plan = decide(
      input({
        services: [
          svc('a', 'pmm-server-postgresql'),
          svc('b', 'other-asg/ip-10-0-0-1'),
          svc('c', 'db-2/ip-10-0-0-1'),
          svc('d', 'db/nested/name'),
        ],
      }),
    );
    expect(plan.retire).toEqual([]);
    expect(plan.foreignServices).toBe(4);
  });

  it('replaces a stale service left by an earlier instance with the same host name', () => {
    const plan = decide(
      input({
        instances: [['i-new', 'db', 'InService']],
        services: [svc('old', 'db/ip-10-0-1-1', 'n-old', { aws_instance_id: 'i-0a1d' })],
      }),
    );
    expect(plan.retire).toEqual([
      { kind: 'node', nodeId: 'n-old', serviceNames: ['db/ip-10-0-1-1'] },
    ]);
    expect(plan.enrol.map((t) => t.instanceId)).toEqual(['i-new']);
  });

  it('keeps the matching one of duplicate services and removes only the stale one', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        services: [
          svc('good', 'db/ip-10-0-1-1', 'shared', { aws_instance_id: 'i-1' }),
          svc('dup', 'db/ip-10-0-1-1', 'shared', { aws_instance_id: 'i-0' }),
        ],
      }),
    );
    expect(plan.enrol).toEqual([]);
    // The node also hosts a kept service, so only the stale service goes.
    expect(plan.retire).toEqual([
      { kind: 'service', serviceId: 'dup', serviceName: 'db/ip-10-0-1-1' },
    ]);
  });

  it('protects an ASG whose listing failed and reports it', () => {
    const membership = new Map([['db', undefined]]);
    const plan = decide(
      input({
        membership,
        services: [svc('s1', 'db/ip-10-0-1-1', 'n1', { aws_instance_id: 'i-1' })],
      }),
    );
    expect(plan.retire).toEqual([]);
    expect(plan.failed).toEqual([expect.objectContaining({ asgName: 'db' })]);
  });

  it('retires nothing in an ASG with an instance it cannot name', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        details: new Map(),
        services: [svc('s9', 'db/ip-10-0-9-9', 'n9', { aws_instance_id: 'i-9' })],
      }),
    );
    expect(plan.retire).toEqual([]);
    expect(plan.failed.map((f) => f.instanceId)).toEqual(['i-1']);
  });

  it('derives Ubuntu host names from the private DNS name or IP', () => {
    expect(hostnameOf({ instanceId: 'i', privateDnsName: 'ip-10-0-1-23.ec2.internal' })).toBe(
      'ip-10-0-1-23',
    );
    expect(hostnameOf({ instanceId: 'i', privateIp: '10.0.1.23' })).toBe('ip-10-0-1-23');
    expect(hostnameOf({ instanceId: 'i' })).toBeUndefined();
    expect(owningAsg('db/ip-1', new Set(['db']))).toBe('db');
    expect(owningAsg('db/', new Set(['db']))).toBeUndefined();
  });

  describe('ownership by marker', () => {
    it('never removes services under a monitored prefix it did not create; counts them', () => {
      const plan = decide(
        input({
          instances: [],
          services: [
            // An operator's ProxySQL and PostgreSQL on a monitored (now terminated) node.
            svc('proxysql', 'db/ip-10-0-9-9-proxysql', 'n9'),
            svc('pg', 'db/ip-10-0-9-9', 'n8', {
              managed_by: 'terraform-rds',
              aws_instance_id: 'i-8',
            }),
            svc('mine-no-id', 'db/ip-10-0-9-7', 'n7', { managed_by: MANAGER }),
            svc('ours', 'db/ip-10-0-9-6', 'n6', ours('i-6')),
          ],
        }),
      );
      expect(plan.retire).toEqual([
        { kind: 'node', nodeId: 'n6', serviceNames: ['db/ip-10-0-9-6'] },
      ]);
      expect(plan.foreignInMonitored).toBe(3);
    });

    it('removes a node only when every service on it is ours; otherwise only our service', () => {
      const plan = decide(
        input({
          instances: [],
          services: [
            svc('ours', 'db/ip-10-0-9-9', 'shared', ours('i-9')),
            svc('operator', 'db/ip-10-0-9-9-proxysql', 'shared'),
          ],
        }),
      );
      expect(plan.retire).toEqual([
        { kind: 'service', serviceId: 'ours', serviceName: 'db/ip-10-0-9-9' },
      ]);
    });

    it('migration: a pre-marker registration (aws_instance_id of EC2 form, no managed_by) is ours', () => {
      const plan = decide(
        input({
          instances: [['i-0abc', 'db', 'InService']],
          services: [
            // Still running: healthy, kept (not re-registered).
            svc('legacy-live', 'db/ip-10-0-1-1', 'n1', { aws_instance_id: 'i-0abc' }),
            // Its instance is gone: retired like a marked one.
            svc('legacy-gone', 'db/ip-10-0-9-9', 'n9', { aws_instance_id: 'i-0dead' }),
            // Not EC2's form: not from the old reconciler, foreign.
            svc('lookalike', 'db/ip-10-0-9-8', 'n8', { aws_instance_id: 'box-7' }),
          ],
        }),
      );
      expect(plan.healthy).toEqual(['db/ip-10-0-1-1']);
      expect(plan.retire).toEqual([
        { kind: 'node', nodeId: 'n9', serviceNames: ['db/ip-10-0-9-9'] },
      ]);
      expect(plan.foreignInMonitored).toBe(1);
    });
  });

  describe('missing ASGs', () => {
    const services = [
      svc('ours', 'db/ip-10-0-9-9', 'n9', ours('i-9')),
      svc('operator', 'db/ip-10-0-9-8', 'n8'),
    ];
    it('a missing ASG within its grace period retires nothing', () => {
      const plan = decide(input({ membership: new Map(), services, missingAsgs: new Set(['db']) }));
      expect(plan.retire).toEqual([]);
      expect(plan.enrol).toEqual([]);
    });
    it('after the grace period only its marked services go', () => {
      const plan = decide(input({ membership: new Map(), services, expiredAsgs: new Set(['db']) }));
      expect(plan.retire).toEqual([
        { kind: 'node', nodeId: 'n9', serviceNames: ['db/ip-10-0-9-9'] },
      ]);
      expect(plan.foreignInMonitored).toBe(1);
    });
  });
});
