import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ReconcilerConfig } from '../../functions/asg-reconciler/src/config';
import {
  reconcile,
  ReconcileError,
  ReconcileOptions,
} from '../../functions/asg-reconciler/src/reconcile';
import { FakePmm } from '../../functions/asg-reconciler/testing/fake-pmm';
import { buildEnrolmentPolicy } from '../../functions/asg-reconciler/src/enrolment-policy';

const PASSWORD = 'admin-Pa55-never-logged';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin-AbCdEf';
const ENROLMENT_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-enrolment-token-GhIjKl';
const STATE_PARAMETER = '/pmm-test/pmm-asg-reconciler/state';
const CA_PARAMETER = '/pmm/test/ca-certificate';
const HOUR_MS = 3_600_000;

/** The instance IDs of a DescribeInstances request (an `instance-id` filter). */
function idsOf(input: { Filters?: { Name?: string; Values?: string[] }[] }): string[] {
  return input.Filters?.find((f) => f.Name === 'instance-id')?.Values ?? [];
}

function named(e: string, message = e): Error {
  const err = new Error(message);
  err.name = e;
  return err;
}

describe('reconciler handler against a real PMM HTTP server', () => {
  let pmm: FakePmm;
  let baseUrl: string;
  const asgMock = mockClient(AutoScalingClient);
  const ec2Mock = mockClient(EC2Client);
  const ssmMock = mockClient(SSMClient);
  const smMock = mockClient(SecretsManagerClient);
  let logs: Record<string, unknown>[];
  /** The enrolment secret's current value (undefined: the secret has no version yet). */
  let enrolmentSecret: string | undefined;
  /** The enrolment secret's resource policy (the Lambda writes every version). */
  let enrolmentPolicy: string | undefined;
  /** AWS writes and sends in the order they happened. */
  let order: string[];
  /** The state parameter's value (Terraform creates it with `{}`). */
  let stateValue: string | undefined;
  /** ASG of each instance given to givenAsgs (the install simulation names services by it). */
  const asgOf = new Map<string, string>();
  /** What a successful install does in PMM: a service marked with the instance. */
  function registerInstall(id: string): void {
    const name = `${asgOf.get(id)}/${host(id)}`;
    if (pmm.services.some((s) => s.service_name === name)) return;
    pmm.services.push(registered(id, asgOf.get(id)));
  }
  const success = async (input: { InstanceId?: string }) => {
    registerInstall(input.InstanceId!);
    return { Status: 'Success', ResponseCode: 0 };
  };

  beforeEach(async () => {
    pmm = new FakePmm(PASSWORD);
    baseUrl = await pmm.start();
    logs = [];
    for (const m of [asgMock, ec2Mock, ssmMock, smMock]) m.reset();
    enrolmentSecret = undefined;
    enrolmentPolicy = undefined;
    order = [];
    smMock.on(GetSecretValueCommand).callsFake(async (input) => {
      if (input.SecretId === SECRET_ARN) return { SecretString: PASSWORD };
      if (input.SecretId === ENROLMENT_ARN && enrolmentSecret !== undefined) {
        return { SecretString: enrolmentSecret };
      }
      throw named('ResourceNotFoundException', "Secrets Manager can't find the secret value");
    });
    smMock.on(PutSecretValueCommand).callsFake(async (input) => {
      if (input.SecretId !== ENROLMENT_ARN) throw named('AccessDeniedException');
      enrolmentSecret = input.SecretString;
      order.push('PutSecretValue');
      return { VersionId: 'v' };
    });
    smMock
      .on(GetResourcePolicyCommand)
      .callsFake(async () => ({ ResourcePolicy: enrolmentPolicy }));
    smMock.on(PutResourcePolicyCommand).callsFake(async (input) => {
      enrolmentPolicy = input.ResourcePolicy;
      order.push('PutResourcePolicy');
      return {};
    });
    let n = 0;
    ssmMock.on(SendCommandCommand).callsFake(async () => {
      order.push('SendCommand');
      return { Command: { CommandId: `cmd-${++n}` } };
    });
    ssmMock.on(GetCommandInvocationCommand).callsFake(success);
    stateValue = '{}';
    ssmMock.on(GetParameterCommand).callsFake(async (input) => {
      if (input.Name === CA_PARAMETER) return { Parameter: { Name: CA_PARAMETER, Value: pmm.ca } };
      if (input.Name !== STATE_PARAMETER || stateValue === undefined)
        throw named('ParameterNotFound');
      return { Parameter: { Name: STATE_PARAMETER, Value: stateValue } };
    });
    ssmMock.on(PutParameterCommand).callsFake(async (input) => {
      stateValue = input.Value;
      return { Version: 2 };
    });
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
    ssmMock.on(DescribeInstanceInformationCommand).callsFake(async (input) => ({
      InstanceInformationList: (input.Filters?.[0]?.Values ?? []).map((id: string) => ({
        InstanceId: id,
        PingStatus: 'Online',
      })),
    }));
    asgOf.clear();
  });
  afterEach(() => pmm.stop());

  /** ASGs: name -> [instanceId, lifecycleState][]; instance i gets IP 10.0.<a>.<b>. */
  function givenAsgs(groups: Record<string, [string, string][]>): void {
    for (const [name, list] of Object.entries(groups)) for (const [id] of list) asgOf.set(id, name);
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(async (input) => ({
      AutoScalingGroups: (input.AutoScalingGroupNames as string[])
        .filter((name) => groups[name])
        .map((name) => ({
          AutoScalingGroupName: name,
          Instances: groups[name].map(([id, state]) => ({ InstanceId: id, LifecycleState: state })),
        })),
    }));
    ec2Mock.on(DescribeInstancesCommand).callsFake(async (input) => ({
      Reservations: [
        {
          Instances: idsOf(input).map((id) => ({
            InstanceId: id,
            PrivateIpAddress: ip(id),
            PrivateDnsName: `${host(id)}.eu-west-1.compute.internal`,
            LaunchTime: new Date(Date.now() - 3_600_000),
          })),
        },
      ],
    }));
  }
  const num = (id: string) => parseInt(id.replace(/\D/g, ''), 10);
  const ip = (id: string) => `10.0.${Math.floor(num(id) / 250)}.${(num(id) % 250) + 1}`;
  const host = (id: string) => `ip-${ip(id).replace(/\./g, '-')}`;

  function config(asgNames: string[]): ReconcilerConfig {
    return {
      asgs: asgNames.map((asgName) => ({
        asgName,
        serviceType: 'mysql',
        port: 3306,
        username: 'pmm',
        passwordSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-XyZ',
      })),
      pmmServerAddress: '10.0.0.5',
      pmmApiUrl: baseUrl,
      caParameterName: CA_PARAMETER,
      adminSecretArn: SECRET_ARN,
      enrolmentSecretArn: ENROLMENT_ARN,
      reconcilerRoleArn: 'arn:aws:iam::123456789012:role/pmm-reconciler-abc',
      secretReaderArns: [],
      stateParameterName: STATE_PARAMETER,
      missingGraceMs: 6 * HOUR_MS,
    };
  }

  interface RunExtras {
    readonly config?: Partial<ReconcilerConfig>;
    readonly options?: ReconcileOptions;
    /** Lambda time left; default: a fixed 300 s (the function's timeout). */
    readonly remainingMs?: () => number;
    readonly now?: () => number;
  }

  async function run(asgNames: string[], pmmTimeoutMs = 500, extras: RunExtras = {}) {
    return reconcile({
      config: { ...config(asgNames), ...extras.config },
      clients: {
        autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
        ec2: new EC2Client({ region: 'eu-west-1' }),
        ssm: new SSMClient({ region: 'eu-west-1' }),
        secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
      },
      remainingMs: extras.remainingMs ?? (() => 300_000),
      now: extras.now,
      log: (e) => logs.push(e),
      options: {
        pollIntervalMs: 5,
        firstPollDelayMs: 0,
        backoffBaseMs: 5,
        pmmTimeoutMs,
        deadlineMarginMs: 1000,
        ...extras.options,
      },
    });
  }

  const registered = (id: string, asg = 'db') => ({
    service_id: `svc-${id}`,
    service_name: `${asg}/${host(id)}`,
    service_type: 'mysql',
    node_id: `node-${id}`,
    custom_labels: { aws_instance_id: id, managed_by: 'pmm-asg-reconciler' },
  });

  it('enrols new instances, skips registered ones and retires terminated ones', async () => {
    givenAsgs({
      db: [
        ['i-1', 'InService'],
        ['i-2', 'InService'],
        ['i-3', 'Pending'],
        ['i-4', 'Terminating'],
      ],
    });
    pmm.services = [
      registered('i-1'),
      registered('i-4'),
      registered('i-9'),
      registered('i-7', 'other'),
    ];

    const summary = await run(['db']);

    expect(summary.added.sort()).toEqual([`db/${host('i-2')}`]);
    expect(summary.removed.sort()).toEqual([`db/${host('i-4')}`, `db/${host('i-9')}`].sort());
    // The listing, then one more to confirm the registration (honest counts).
    expect(pmm.requests.filter((r) => r.startsWith('GET') && !r.includes('/graph/'))).toEqual([
      'GET /v1/management/services',
      'GET /v1/management/services',
    ]);
    expect(pmm.requests).toContain('DELETE /v1/management/nodes/node-i-4?force=true');
    expect(pmm.services.map((s) => s.service_id).sort()).toEqual(['svc-i-1', 'svc-i-2', 'svc-i-7']);
    const sends = ssmMock.commandCalls(SendCommandCommand);
    expect(sends).toHaveLength(1);
    expect(sends[0].args[0].input.InstanceIds).toEqual(['i-2']);
    expect(sends[0].args[0].input.DocumentName).toBe('AWS-RunShellScript');
    const summaryLog = logs.find((l) => l.message === 'reconcile summary')!;
    expect(summaryLog.counts).toEqual({
      added: 1,
      removed: 2,
      failed: 0,
      skipped: 1,
      healthy: 1,
      missingAsgs: 0,
      foreignInMonitored: 0,
    });
    expect(logs.some((l) => l._aws !== undefined && l.InstancesAdded === 1)).toBe(true);
  });

  it('re-enrols an instance whose pmm-agent PMM lists as disconnected; leaves a connected one alone', async () => {
    givenAsgs({
      db: [
        ['i-1', 'InService'],
        ['i-2', 'InService'],
      ],
    });
    pmm.services = [
      {
        ...registered('i-1'),
        agents: [
          { agent_id: 'pa-1', agent_type: 'pmm-agent', is_connected: true },
          { agent_id: 'me-1', agent_type: 'mysqld_exporter', status: 'RUNNING' },
        ],
      },
      {
        ...registered('i-2'),
        agents: [
          { agent_id: 'pa-2', agent_type: 'pmm-agent', is_connected: false },
          { agent_id: 'me-2', agent_type: 'mysqld_exporter', status: 'UNKNOWN' },
        ],
      },
    ];

    const summary = await run(['db']);

    const sends = ssmMock.commandCalls(SendCommandCommand);
    expect(sends.map((c) => c.args[0].input.InstanceIds)).toEqual([['i-2']]);
    expect(summary.added).toEqual([`db/${host('i-2')}`]);
    expect(summary.healthy).toBe(1);
    // Nothing is deleted: the agent-down instance keeps its service while it re-registers.
    expect(pmm.requests.filter((r) => r.startsWith('DELETE'))).toEqual([]);
  });

  it('leaves fully healthy instances untouched: no command, no delete', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    pmm.services = [
      {
        ...registered('i-1'),
        agents: [{ agent_id: 'pa-1', agent_type: 'pmm-agent', is_connected: true }],
      },
    ];

    const summary = await run(['db']);

    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(pmm.requests).toEqual(['GET /v1/management/services']);
    expect(summary.healthy).toBe(1);
  });

  it('enrols the others when EC2 does not know one instance yet (InvalidInstanceID.NotFound)', async () => {
    givenAsgs({
      db: [
        ['i-1', 'InService'],
        ['i-2', 'InService'],
      ],
    });
    // EC2 as it behaves right after launch: i-2 is not visible yet. Asked by InstanceIds,
    // the whole call fails; asked by filter, the unknown ID simply matches nothing.
    ec2Mock.on(DescribeInstancesCommand).callsFake(async (input) => {
      if (input.InstanceIds?.includes('i-2')) {
        throw named('InvalidInstanceID.NotFound', "The instance ID 'i-2' does not exist");
      }
      return {
        Reservations: [
          {
            Instances: idsOf(input)
              .filter((id) => id !== 'i-2')
              .map((id) => ({
                InstanceId: id,
                PrivateIpAddress: ip(id),
                PrivateDnsName: `${host(id)}.eu-west-1.compute.internal`,
              })),
          },
        ],
      };
    });

    let error: ReconcileError | undefined;
    await run(['db']).catch((e) => (error = e));

    expect(error?.summary.added).toEqual([`db/${host('i-1')}`]);
    expect(error?.summary.failed.map((f) => f.instanceId)).toEqual(['i-2']);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'instance-id', Values: ['i-1', 'i-2'] },
    ]);
  });

  it('isolates a failing DescribeInstances to its ASG', async () => {
    givenAsgs({ a: [['i-1', 'InService']], b: [['i-500', 'InService']] });
    ec2Mock.on(DescribeInstancesCommand).callsFake(async (input) => {
      const ids = idsOf(input);
      if (ids.includes('i-500')) throw named('InternalError', 'EC2 had a bad moment');
      return {
        Reservations: [
          {
            Instances: ids.map((id) => ({
              InstanceId: id,
              PrivateIpAddress: ip(id),
              PrivateDnsName: `${host(id)}.eu-west-1.compute.internal`,
            })),
          },
        ],
      };
    });
    // b has a service of a terminated instance: without b's details it must not be retired.
    pmm.services = [registered('i-777', 'b')];

    let error: ReconcileError | undefined;
    await run(['a', 'b']).catch((e) => (error = e));

    expect(error?.summary.added).toEqual([`a/${host('i-1')}`]);
    expect(error?.summary.failed).toEqual([
      expect.objectContaining({ asgName: 'b', instanceId: 'i-500' }),
    ]);
    expect(error?.summary.removed).toEqual([]);
    expect(pmm.services.map((s) => s.service_id)).toEqual(['svc-i-777', 'svc-i-1']);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(2);
  });

  it('sends one command per 50 instances across ASGs, with secret ARNs but no secret values', async () => {
    const groups: Record<string, [string, string][]> = {};
    for (let g = 0; g < 3; g++) {
      groups[`asg-${g}`] = Array.from({ length: 40 }, (_, i) => [`i-${g * 100 + i}`, 'InService']);
    }
    givenAsgs(groups);

    const summary = await run(Object.keys(groups));

    const sends = ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
    expect(sends).toHaveLength(3);
    expect(sends.every((s) => (s.InstanceIds ?? []).length <= 50)).toBe(true);
    expect(summary.added).toHaveLength(120);
    const script = sends[0].Parameters!.commands![0];
    expect(script).toContain(`PMM_ENROLMENT_SECRET_ARN='${ENROLMENT_ARN}'`);
    expect(script).not.toContain(SECRET_ARN);
    expect(script).toContain('arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-XyZ');
    expect(script).not.toContain(PASSWORD);
    expect(JSON.stringify(logs)).not.toContain(PASSWORD);
  });

  it('keeps polling while the invocation does not exist yet', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    ssmMock
      .on(GetCommandInvocationCommand)
      .rejectsOnce(named('InvocationDoesNotExist'))
      .resolvesOnce({ Status: 'InProgress' })
      .callsFake(success);

    const summary = await run(['db']);

    expect(summary.added).toEqual([`db/${host('i-1')}`]);
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(3);
  });

  it('cleans up a service that blocks add and retries the install once', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    // A service of that name exists but is labelled for another (long gone) instance AND is
    // on a node with a service we keep, so it is removed by the already-exists path.
    pmm.services = [
      { service_id: 'keep', service_name: 'unrelated', service_type: 'mysql', node_id: 'shared' },
    ];
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolvesOnce({ Status: 'Failed', ResponseCode: 17, StandardOutputContent: 'already exists' })
      .callsFake(success);
    pmm.services = [
      ...pmm.services,
      {
        service_id: 'blocker',
        service_name: `db/${host('i-1')}`,
        service_type: 'mysql',
        node_id: 'shared',
        custom_labels: { aws_instance_id: 'i-0' },
      },
    ];

    const summary = await run(['db']);

    // The stale service is on a node that also hosts a kept service: removed as a service.
    expect(pmm.requests).toContain('DELETE /v1/inventory/services/blocker?force=true');
    expect(summary.added).toEqual([`db/${host('i-1')}`]);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(2);
    expect(pmm.services.map((s) => s.service_id)).toEqual(['keep', 'svc-i-1']);
  });

  it('retries PMM 5xx and slow answers, then succeeds', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    pmm.services = [registered('i-1')];
    pmm.faults.push({ match: 'GET /v1/management/services', status: 503, times: 2 });
    pmm.faults.push({ match: 'GET /v1/management/services', status: 200, times: 1, delayMs: 400 });

    const summary = await run(['db'], 150);

    expect(summary.healthy).toBe(1);
    expect(pmm.requests.filter((r) => r.startsWith('GET'))).toHaveLength(4);
  });

  it('fails clearly on a PMM auth error without touching instances', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    smMock.on(GetSecretValueCommand).resolves({ SecretString: 'wrong' });

    await expect(run(['db'])).rejects.toThrow(/PMM API rejected the admin credential \(HTTP 401\)/);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(pmm.requests).toHaveLength(1);
  });

  it('rides out AWS throttling', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .rejectsOnce(named('Throttling', 'Rate exceeded'))
      .resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'db',
            Instances: [{ InstanceId: 'i-1', LifecycleState: 'InService' }],
          },
        ],
      } as never);
    ssmMock
      .on(SendCommandCommand)
      .rejectsOnce(named('ThrottlingException'))
      .resolves({ Command: { CommandId: 'c' } });

    const summary = await run(['db']);

    expect(summary.added).toEqual([`db/${host('i-1')}`]);
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2);
  });

  it('isolates failures: an instance the IAM condition refuses, a failed install and a failed removal do not stop the rest, then it throws', async () => {
    const groups: Record<string, [string, string][]> = {
      a: Array.from({ length: 50 }, (_, i) => [`i-${i}`, 'InService']),
      b: Array.from({ length: 10 }, (_, i) => [`i-${500 + i}`, 'InService']),
    };
    givenAsgs(groups);
    pmm.services = [registered('i-900', 'a'), registered('i-901', 'b')];
    pmm.faults.push({ match: 'DELETE /v1/management/nodes/node-i-900', status: 500, times: 10 });
    let calls = 0;
    ssmMock.on(SendCommandCommand).callsFake(async (input) => {
      calls++;
      // The tag condition of the Lambda's policy refuses one instance: the call fails whole.
      if ((input.InstanceIds as string[]).includes('i-7')) {
        throw named('AccessDeniedException', 'not authorized to perform ssm:SendCommand');
      }
      return { Command: { CommandId: `cmd-${calls}` } };
    });
    ssmMock.on(GetCommandInvocationCommand, { InstanceId: 'i-9' }).resolves({
      Status: 'Failed',
      ResponseCode: 1,
      StandardOutputContent: 'PMM_RECONCILER_RESULT=error:apt',
    });

    let error: ReconcileError | undefined;
    await run(['a', 'b']).catch((e) => (error = e));

    expect(error).toBeInstanceOf(ReconcileError);
    const s = error!.summary;
    expect(s.removed).toEqual([`b/${host('i-901')}`]);
    expect(s.added).toHaveLength(58);
    // i-7 refused + i-9 install failure + 1 removal failure; the other 49 of i-7's batch enrol.
    expect(s.failed).toHaveLength(3);
    expect(s.failed.find((f) => f.instanceId === 'i-7')?.reason).toMatch(/AccessDeniedException/);
    expect(s.failed.find((f) => f.instanceId === 'i-9')?.reason).toMatch(/exit 1/);
  });

  it('isolates a target whose value cannot go into the install command', async () => {
    givenAsgs({
      a: [
        ['i-1', 'InService'],
        ['i-2', 'InService'],
      ],
      b: [['i-3', 'InService']],
    });
    const base = config(['a', 'b']);
    const asgs = base.asgs.map((a) => (a.asgName === 'b' ? { ...a, username: 'bad user' } : a));

    let error: ReconcileError | undefined;
    await run(['a', 'b'], 500, { config: { asgs } }).catch((e) => (error = e));

    expect(error?.summary.added.sort()).toEqual([`a/${host('i-1')}`, `a/${host('i-2')}`].sort());
    expect(error?.summary.failed).toEqual([
      expect.objectContaining({
        instanceId: 'i-3',
        reason: expect.stringMatching(/unsafe user name/),
      }),
    ]);
  });

  it('stops removing when a slow PMM brings the deadline near, and still logs the summary', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    pmm.services = ['i-11', 'i-12', 'i-13', 'i-14', 'i-15'].map((id) => registered(id));
    // Every DELETE takes 150 ms; one removal at a time.
    pmm.faults.push({ match: 'DELETE ', status: 200, times: 10, delayMs: 150 });
    // The clock starts with the first removal (so a slow machine cannot eat the room before):
    // margin 1000 ms + enrolment reserve 300 ms + room for about two slow removals.
    let firstDelete: number | undefined;
    const remainingMs = () => {
      if (firstDelete === undefined && pmm.requests.some((r) => r.startsWith('DELETE'))) {
        firstDelete = Date.now();
      }
      return firstDelete === undefined ? 60_000 : 1000 + 300 + 320 - (Date.now() - firstDelete);
    };

    const summary = await run(['db'], 2000, {
      remainingMs,
      options: { concurrency: 1, enrolReserveMs: 300 },
    });

    expect(summary.removed.length).toBeGreaterThanOrEqual(1);
    expect(summary.removed.length).toBeLessThan(5);
    const deferred = summary.skipped.filter((p) => /^removing .*deadline near/.test(p.reason));
    expect(deferred).toHaveLength(5 - summary.removed.length);
    expect(logs.find((l) => l.message === 'reconcile summary')).toBeDefined();
  });

  it('sends nothing once the deadline is near; the summary says so', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });

    // Time runs out after discovery, before anything is sent.
    const summary = await run(['db'], 500, {
      remainingMs: () => (ec2Mock.commandCalls(DescribeInstancesCommand).length > 0 ? 900 : 60_000),
    });

    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(summary.skipped).toEqual([
      expect.objectContaining({ instanceId: 'i-1', reason: 'not sent: Lambda deadline near' }),
    ]);
    expect(logs.find((l) => l.message === 'reconcile summary')).toBeDefined();
  });

  it('reports installs still running at the deadline as skipped', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    // The clock is driven by the run itself, not by wall time: plenty of time until the first
    // poll of the install, then a few polls later less than the deadline margin (1,000 ms).
    let polls = 0;
    ssmMock.on(GetCommandInvocationCommand).callsFake(async () => {
      polls += 1;
      return { Status: 'InProgress' };
    });

    const summary = await run(['db'], 500, {
      remainingMs: () => (polls < 3 ? 300_000 : 900),
      options: { pollIntervalMs: 20 },
    });

    expect(polls).toBeGreaterThanOrEqual(3);

    expect(summary.added).toEqual([]);
    expect(summary.skipped).toEqual([
      expect.objectContaining({
        instanceId: 'i-1',
        reason: 'install still running (command cmd-1)',
      }),
    ]);
  });

  it('reports an install that finds another run holding the lock (exit 11) as skipped', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    ssmMock.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 11,
      StandardOutputContent: 'PMM_RECONCILER_RESULT=busy',
    });

    const summary = await run(['db']);

    expect(summary.failed).toEqual([]);
    expect(summary.skipped).toEqual([
      expect.objectContaining({ instanceId: 'i-1', reason: 'an earlier install is still running' }),
    ]);
  });

  it('lists services again on "already exists" and removes the service found then', async () => {
    givenAsgs({ db: [['i-1', 'InService']] });
    // The blocking service appears after the run listed services (a concurrent registration).
    let n = 0;
    ssmMock.on(SendCommandCommand).callsFake(async () => {
      if (n === 0) {
        pmm.services.push({
          service_id: 'late',
          service_name: `db/${host('i-1')}`,
          service_type: 'mysql',
          node_id: 'n-late',
          custom_labels: { aws_instance_id: 'i-0', managed_by: 'pmm-asg-reconciler' },
        });
      }
      return { Command: { CommandId: `cmd-${++n}` } };
    });
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolvesOnce({ Status: 'Failed', ResponseCode: 17, StandardOutputContent: 'already exists' })
      .callsFake(success);

    const summary = await run(['db']);

    // Listing, the re-list after "already exists" (which also confirms), the final confirmation.
    expect(pmm.requests.filter((r) => r.startsWith('GET /v1/'))).toHaveLength(3);
    expect(pmm.requests).toContain('DELETE /v1/inventory/services/late?force=true');
    // One credential for the run, not one per install attempt.
    const issued = smMock
      .commandCalls(PutSecretValueCommand)
      .filter((c) => JSON.parse(c.args[0].input.SecretString!).password !== undefined);
    expect(issued).toHaveLength(1);
    expect(summary.added).toEqual([`db/${host('i-1')}`]);
    expect(summary.failed).toEqual([]);
  });

  it('splits a batch to isolate an instance SSM does not manage yet', async () => {
    givenAsgs({
      db: [
        ['i-1', 'InService'],
        ['i-2', 'InService'],
        ['i-3', 'InService'],
        ['i-4', 'InService'],
      ],
    });
    ssmMock.on(SendCommandCommand).callsFake(async (input) => {
      if ((input.InstanceIds as string[]).includes('i-3')) throw named('InvalidInstanceId');
      return { Command: { CommandId: 'c' } };
    });

    await expect(run(['db'])).rejects.toThrow(ReconcileError);
    const sent = ssmMock
      .commandCalls(SendCommandCommand)
      .map((c) => c.args[0].input.InstanceIds!.join(','));
    expect(sent).toEqual(['i-1,i-2,i-3,i-4', 'i-1,i-2', 'i-3,i-4', 'i-3', 'i-4']);
  });
  describe('enrolment credential', () => {
    const grafana = () => pmm.requests.filter((r) => r.includes('/graph/'));
    const puts = () => smMock.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
    const sendInputs = () => ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input);

    it('issues the enrolment user a password, stores it after the policy and before SendCommand, never logs or sends it, revokes it once the installs finished', async () => {
      givenAsgs({
        db: [
          ['i-1', 'InService'],
          ['i-2', 'InService'],
        ],
      });
      const summary = await run(['db']);

      expect(pmm.users).toEqual([
        expect.objectContaining({ login: 'pmm-asg-reconciler-enrolment', role: 'Admin' }),
      ]);
      // Issued, stored (after the policy let i-1 and i-2 read), sent; then, the installs
      // done, cleared and the policy back to no instance.
      expect(order).toEqual([
        'PutResourcePolicy',
        'PutSecretValue',
        'SendCommand',
        'PutSecretValue',
        'PutResourcePolicy',
      ]);
      const issued = JSON.parse(puts()[0].SecretString!);
      expect(issued).toEqual({
        username: 'pmm-asg-reconciler-enrolment',
        password: expect.stringMatching(/^[0-9a-f]{48}-Aa1$/),
        issued_at: expect.any(String),
      });
      expect(JSON.parse(puts()[1].SecretString!)).toEqual({ revoked_at: expect.any(String) });
      // The issued password no longer works: replaced by one nobody stores, sessions ended.
      expect(pmm.users[0].password).not.toBe(issued.password);
      expect(pmm.users[0].logouts).toBe(1);
      expect(summary.enrolmentCredential).toBe('issued');
      expect(summary.enrolmentAccess).toBe('revoked');
      const everything = JSON.stringify([logs, sendInputs(), summary]);
      for (const p of pmm.passwordsSet) expect(everything).not.toContain(p);
      expect(JSON.stringify(sendInputs())).not.toContain(SECRET_ARN);
    });

    it('reuses the stored password while Grafana accepts it (installs of an earlier run in flight)', async () => {
      givenAsgs({ db: [['i-1', 'InService']] });
      // i-1's install keeps running past this run: the credential is kept.
      ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
      // ListCommands lists it once it was sent.
      ssmMock.on(ListCommandsCommand).callsFake(async () => ({
        Commands: order.includes('SendCommand')
          ? [
              {
                CommandId: 'cmd-1',
                Comment: 'pmm-reconciler: enrol 1 instance(s)',
                Status: 'InProgress',
                InstanceIds: ['i-1'],
              },
            ]
          : [],
      }));
      const first = await run(['db'], 500, { options: { installWaitMs: 0 } });
      expect(first.enrolmentAccess).toBe('kept');
      const password = JSON.parse(enrolmentSecret!).password;

      givenAsgs({
        db: [
          ['i-1', 'InService'],
          ['i-2', 'InService'],
        ],
      });
      ssmMock.on(GetCommandInvocationCommand).callsFake(success);
      pmm.requests.length = 0;
      const second = await run(['db'], 500, { options: { installWaitMs: 0 } });
      expect(second.enrolmentCredential).toBe('reused');
      expect(JSON.parse(enrolmentSecret!).password).toBe(password);
      expect(pmm.users[0].password).toBe(password);
      expect(grafana()).toEqual(['GET /graph/api/user']);
    });

    it('makes no Grafana call, no secret read or write and no policy write in steady state', async () => {
      givenAsgs({ db: [['i-1', 'InService']] });
      // The policy the Lambda itself writes when no install is in flight.
      enrolmentPolicy = buildEnrolmentPolicy(
        {
          reconcilerRoleArn: 'arn:aws:iam::123456789012:role/pmm-reconciler-abc',
          readerArns: [],
          accountId: '123456789012',
        },
        [],
      );
      pmm.services = [
        {
          ...registered('i-1'),
          agents: [{ agent_id: 'pa-1', agent_type: 'pmm-agent', is_connected: true }],
        },
      ];

      const summary = await run(['db']);

      expect(pmm.requests).toEqual(['GET /v1/management/services']);
      expect(puts()).toEqual([]);
      expect(
        smMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId),
      ).toEqual([SECRET_ARN]);
      expect(summary.awsCalls.GetResourcePolicy).toBe(1);
      expect(summary.awsCalls.PutResourcePolicy).toBeUndefined();
      expect(summary.awsCalls.ListCommands).toBeUndefined();
      expect(summary.enrolmentCredential).toBeUndefined();
      expect(summary.enrolmentAccess).toBeUndefined();
    });

    it('fails enrolment cleanly when the Grafana API fails: reported, no SendCommand, removals still done, nobody allowed', async () => {
      givenAsgs({ db: [['i-1', 'InService']] });
      pmm.services = [registered('i-9')];
      pmm.faults.push({ match: 'POST /graph/api/admin/users', status: 500, times: 1 });

      let error: ReconcileError | undefined;
      await run(['db']).catch((e) => (error = e));

      expect(error).toBeInstanceOf(ReconcileError);
      expect(error!.summary.removed).toEqual([`db/${host('i-9')}`]);
      expect(error!.summary.failed).toEqual([
        expect.objectContaining({
          instanceId: 'i-1',
          reason: expect.stringMatching(/^enrolment credential: .*HTTP 500/),
        }),
      ]);
      expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
      expect(puts()).toEqual([]);
      // The policy that let i-1 read was taken back at the end of the run.
      expect(enrolmentPolicy).not.toContain('instance/i-1');
      expect(logs.find((l) => l.message === 'reconcile summary')).toBeDefined();
    });

    it('sends nothing when the credential cannot be stored (PutSecretValue refused); the password is replaced at once', async () => {
      givenAsgs({ db: [['i-1', 'InService']] });
      smMock.on(PutSecretValueCommand).rejects(named('AccessDeniedException', 'not allowed'));

      let error: ReconcileError | undefined;
      await run(['db']).catch((e) => (error = e));

      expect(error!.summary.failed).toEqual([
        expect.objectContaining({
          instanceId: 'i-1',
          reason: 'enrolment credential: AccessDeniedException: not allowed',
        }),
      ]);
      expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
      // Set, then replaced at once (never stored, never usable), then replaced at revocation.
      expect(pmm.passwordsSet.length).toBeGreaterThanOrEqual(3);
      const issued = pmm.passwordsSet[1];
      expect(pmm.users[0].password).not.toBe(issued);
      expect(JSON.stringify([logs, error!.summary, error!.message])).not.toContain(issued);
    });
  });
});
