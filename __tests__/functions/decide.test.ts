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

  it('takes an unlabelled service of the same name as the instance only while its agent is connected', () => {
    const connected = decide(
      input({
        instances: [['i-new', 'db', 'InService']],
        services: [svc('old', 'db/ip-10-0-1-1', 'n-old', {}, UP)],
      }),
    );
    expect(connected.enrol).toEqual([]);
    expect(connected.healthy).toEqual(['db/ip-10-0-1-1']);

    const stale = decide(
      input({
        instances: [['i-new', 'db', 'InService']],
        services: [svc('old', 'db/ip-10-0-1-1', 'n-old', {}, DOWN)],
      }),
    );
    expect(stale.retire).toEqual([
      { kind: 'node', nodeId: 'n-old', serviceNames: ['db/ip-10-0-1-1'] },
    ]);
    expect(stale.enrol.map((t) => [t.instanceId, t.reenrol])).toEqual([['i-new', undefined]]);

    // No agent information at all: as before, the unlabelled service counts as healthy.
    const unknown = decide(
      input({
        instances: [['i-new', 'db', 'InService']],
        services: [svc('old', 'db/ip-10-0-1-1', 'n-old')],
      }),
    );
    expect(unknown.healthy).toEqual(['db/ip-10-0-1-1']);
    expect(unknown.enrol).toEqual([]);
  });

  it('retires the whole node of a terminated instance', () => {
    const plan = decide(
      input({
        instances: [['i-2', 'db', 'Terminating:Wait']],
        services: [svc('s1', 'db/ip-10-0-9-9', 'n1'), svc('s2', 'db/ip-10-0-1-1', 'n2')],
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
        services: [svc('old', 'db/ip-10-0-1-1', 'n-old', { aws_instance_id: 'i-old' })],
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
    const plan = decide(input({ membership, services: [svc('s1', 'db/ip-10-0-1-1')] }));
    expect(plan.retire).toEqual([]);
    expect(plan.failed).toEqual([expect.objectContaining({ asgName: 'db' })]);
  });

  it('retires nothing in an ASG with an instance it cannot name', () => {
    const plan = decide(
      input({
        instances: [['i-1', 'db', 'InService']],
        details: new Map(),
        services: [svc('s9', 'db/ip-10-0-9-9')],
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
});
