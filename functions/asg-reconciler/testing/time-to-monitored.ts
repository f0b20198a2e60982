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
import { ASG_MANAGER } from '../src/decide';
import { reconcile, ReconcileOptions, Trigger } from '../src/reconcile';
import { FakePmm } from './fake-pmm';

/**
 * Time to monitored, on a simulated clock: the real reconcile() against the real fake PMM
 * (HTTP) and AWS mocks whose answers follow the simulated time. Launches are spread over an
 * hour; each instance's SSM agent comes online 20-60 s after InService; an install takes
 * `installS` seconds. Lambda runs never overlap (reserved concurrency 1): a run starts when
 * its trigger fired and the previous run ended (EventBridge/async invoke queue, FIFO).
 */
export interface SimOptions {
  readonly launches: number;
  readonly spreadS: number;
  readonly ssmMinS: number;
  readonly ssmMaxS: number;
  readonly installS: number;
  readonly scheduleS: number;
  /** Simulated cost of one run besides its waits (cold start, API latency). */
  readonly runOverheadS: number;
  readonly lambdaTimeoutS: number;
  readonly events: boolean;
  readonly seed: number;
  readonly options?: ReconcileOptions;
}

export interface SimResult {
  readonly latenciesS: number[];
  readonly runs: number;
  readonly sendCommands: number;
  readonly unsent: number;
  readonly installsPerInstanceMax: number;
}

const ASG = 'db';
const ip = (n: number) =>
  `10.${Math.floor(n / 62500) + 1}.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
const host = (n: number) => `ip-${ip(n).replace(/\./g, '-')}`;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function simulate(o: SimOptions): Promise<SimResult> {
  const random = rng(o.seed);
  const inServiceAt: number[] = [];
  const onlineAt: number[] = [];
  for (let n = 0; n < o.launches; n++) {
    inServiceAt.push(random() * o.spreadS * 1000);
    onlineAt.push(inServiceAt[n] + (o.ssmMinS + random() * (o.ssmMaxS - o.ssmMinS)) * 1000);
  }
  let now = 0;
  const firstSend = new Map<number, number>();
  const sendsPer = new Map<number, number>();
  const commands = new Map<string, { ids: number[]; at: number }>();
  const idOf = (n: number) => `i-${n}`;
  const numOf = (id: string) => Number(id.slice(2));

  const pmm = new FakePmm('sim');
  const url = await pmm.start();
  const registered = new Set<number>();
  /** Installs that finished by now register their service in PMM. */
  const settle = () => {
    for (const c of commands.values()) {
      if (now < c.at + o.installS * 1000) continue;
      for (const n of c.ids) {
        if (registered.has(n)) continue;
        registered.add(n);
        pmm.services.push({
          service_id: `s${n}`,
          service_name: `${ASG}/${host(n)}`,
          service_type: 'mysql',
          node_id: `n${n}`,
          custom_labels: { aws_instance_id: idOf(n), managed_by: ASG_MANAGER },
          agents: [{ agent_type: 'pmm-agent', is_connected: true }],
        });
      }
    }
  };

  // The enrolment secret and its policy keep what the Lambda writes.
  let enrolmentValue: string | undefined;
  let enrolmentPolicy: string | undefined;
  mockClient(SecretsManagerClient)
    .on(GetSecretValueCommand)
    .callsFake(async (input) => {
      if (String(input.SecretId).includes('admin')) return { SecretString: 'sim' };
      if (enrolmentValue === undefined) {
        throw Object.assign(new Error('no version'), { name: 'ResourceNotFoundException' });
      }
      return { SecretString: enrolmentValue };
    })
    .on(PutSecretValueCommand)
    .callsFake(async (input) => {
      enrolmentValue = input.SecretString;
      return {};
    })
    .on(GetResourcePolicyCommand)
    .callsFake(async () => ({ ResourcePolicy: enrolmentPolicy }))
    .on(PutResourcePolicyCommand)
    .callsFake(async (input) => {
      enrolmentPolicy = input.ResourcePolicy;
      return {};
    });
  mockClient(AutoScalingClient)
    .on(DescribeAutoScalingGroupsCommand)
    .callsFake(async () => ({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: ASG,
          Instances: inServiceAt.flatMap((t, n) =>
            t <= now ? [{ InstanceId: idOf(n), LifecycleState: 'InService' }] : [],
          ),
        },
      ],
    }));
  mockClient(EC2Client)
    .on(DescribeInstancesCommand)
    .callsFake(async (input) => ({
      Reservations: [
        {
          Instances: (input.Filters?.[0]?.Values ?? []).map((id: string) => ({
            InstanceId: id,
            PrivateIpAddress: ip(numOf(id)),
            PrivateDnsName: `${host(numOf(id))}.ec2.internal`,
            LaunchTime: new Date(inServiceAt[numOf(id)] - 30_000),
          })),
        },
      ],
    }));
  let commandN = 0;
  mockClient(SSMClient)
    .on(GetParameterCommand)
    .callsFake(async (input) => ({
      Parameter: { Value: input.Name === '/sim/ca' ? pmm.ca : '{"version":1,"missingSince":{}}' },
    }))
    .on(PutParameterCommand)
    .resolves({})
    .on(DescribeInstanceInformationCommand)
    .callsFake(async (input) => ({
      InstanceInformationList: (input.Filters?.[0]?.Values ?? [])
        .filter((id: string) => onlineAt[numOf(id)] <= now)
        .map((id: string) => ({ InstanceId: id, PingStatus: 'Online' })),
    }))
    .on(SendCommandCommand)
    .callsFake(async (input) => {
      const ids = (input.InstanceIds as string[]).map(numOf);
      // SSM refuses the whole call when it does not manage one of the instances yet.
      if (ids.some((n) => onlineAt[n] > now)) {
        throw Object.assign(new Error('not managed yet'), { name: 'InvalidInstanceId' });
      }
      const id = `c${++commandN}`;
      commands.set(id, { ids, at: now });
      for (const n of ids) sendsPer.set(n, (sendsPer.get(n) ?? 0) + 1);
      return { Command: { CommandId: id } };
    })
    .on(GetCommandInvocationCommand)
    .callsFake(async (input) => {
      settle();
      const c = commands.get(input.CommandId!)!;
      return now >= c.at + o.installS * 1000
        ? { Status: 'Success', ResponseCode: 0 }
        : { Status: 'InProgress' };
    })
    .on(ListCommandsCommand)
    .callsFake(async () => ({
      Commands: [...commands].flatMap(([id, c]) =>
        now < c.at + o.installS * 1000
          ? [
              {
                CommandId: id,
                Comment: 'pmm-reconciler: enrol',
                Status: 'InProgress',
                InstanceIds: c.ids.map(idOf),
              },
            ]
          : [],
      ),
    }));

  // Triggers: the schedule, plus (event-driven) one launch event per instance at InService.
  const endMs = (o.spreadS + 900) * 1000;
  const triggers: { at: number; trigger: Trigger }[] = [];
  for (let t = 0; t <= endMs; t += o.scheduleS * 1000)
    triggers.push({ at: t, trigger: 'schedule' });
  if (o.events) for (const t of inServiceAt) triggers.push({ at: t, trigger: 'event' });
  triggers.sort((a, b) => a.at - b.at);

  let busyUntil = 0;
  let runs = 0;
  for (const t of triggers) {
    now = Math.max(t.at, busyUntil);
    const started = now;
    now += o.runOverheadS * 1000;
    settle();
    runs++;
    await reconcile({
      config: {
        asgs: [
          {
            asgName: ASG,
            serviceType: 'mysql',
            port: 3306,
            username: 'pmm',
            passwordSecretArn: null,
          },
        ],
        pmmServerAddress: '10.0.0.5',
        pmmApiUrl: url,
        adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin',
        enrolmentSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:enrolment',
        reconcilerRoleArn: 'arn:aws:iam::123456789012:role/reconciler',
        secretReaderArns: [],
        stateParameterName: '/sim/state',
        caParameterName: '/sim/ca',
        missingGraceMs: 6 * 3_600_000,
      },
      clients: {
        autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
        ec2: new EC2Client({ region: 'eu-west-1' }),
        ssm: new SSMClient({ region: 'eu-west-1' }),
        secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
      },
      remainingMs: () => started + o.lambdaTimeoutS * 1000 - now,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      trigger: t.trigger,
      log: () => undefined,
      options: { backoffBaseMs: 1, ...o.options },
      onSent: (id, at) => {
        const n = numOf(id);
        if (!firstSend.has(n)) firstSend.set(n, at);
      },
    }).catch(() => undefined); // failures are counted per instance below
    busyUntil = now;
  }
  await pmm.stop();

  const latenciesS = [...firstSend].map(([n, at]) => (at - inServiceAt[n]) / 1000);
  return {
    latenciesS,
    runs,
    sendCommands: commandN,
    unsent: o.launches - firstSend.size,
    installsPerInstanceMax: Math.max(0, ...sendsPer.values()),
  };
}
