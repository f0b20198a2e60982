/**
 * Reconciler benchmark: 1,000 InService instances across 10 ASGs, 50 ms per AWS call and per
 * PMM call (a real local HTTP server). Targets: steady state issues 0 SendCommand calls and
 * finishes in < 2 s (1 PMM request, no enrolment credential); 200 new instances take <= 4
 * SendCommand calls (after issuing one enrolment credential). Also prints the zip size
 * and the cold import time of the bundle.
 *
 * Time to monitored (simulated clock, the real reconcile() against the fake PMM): 1,000
 * launches spread over an hour, each instance's SSM agent online 20-60 s after InService;
 * p50/p95 from InService to its SendCommand for schedule-only and event-driven runs. Target:
 * event-driven p95 < 90 s, and never a second install to an instance.
 *
 *   npm run bench:reconciler
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { buildEnrolmentPolicy } from '../functions/asg-reconciler/src/enrolment-policy';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { BUNDLE_PATH, buildLambda, ZIP_PATH } from '../functions/asg-reconciler/build';
import { reconcile, Summary } from '../functions/asg-reconciler/src/reconcile';
import { FakeService, FakePmm } from '../functions/asg-reconciler/testing/fake-pmm';
import {
  percentile,
  SimOptions,
  simulate,
} from '../functions/asg-reconciler/testing/time-to-monitored';

const LATENCY_MS = 50;
const ASGS = 10;
const PER_ASG = 100;
const PASSWORD = 'bench';
const delay = () => new Promise((r) => setTimeout(r, LATENCY_MS));
const ip = (n: number) => `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`;
const host = (n: number) => `ip-${ip(n).replace(/\./g, '-')}`;
const asgName = (g: number) => `db-${g}`;

function mockAws(): void {
  const groups = Array.from({ length: ASGS }, (_, g) => ({
    AutoScalingGroupName: asgName(g),
    Instances: Array.from({ length: PER_ASG }, (_, i) => ({
      InstanceId: `i-${g * PER_ASG + i}`,
      LifecycleState: 'InService',
    })),
  }));
  // The enrolment secret holds no credential yet: the run that enrols issues one (Grafana
  // calls), writes it (PutSecretValue) and the policy that lets the instances read it.
  const sm = mockClient(SecretsManagerClient);
  sm.on(GetSecretValueCommand).callsFake(async () => (await delay(), { SecretString: PASSWORD }));
  sm.on(PutSecretValueCommand).callsFake(async () => (await delay(), { VersionId: 'v1' }));
  // What the Lambda itself leaves when no install is in flight.
  let policy: string | undefined = buildEnrolmentPolicy(
    {
      reconcilerRoleArn: 'arn:aws:iam::123456789012:role/pmm-reconciler',
      readerArns: [],
      accountId: '123456789012',
    },
    [],
  );
  sm.on(GetResourcePolicyCommand).callsFake(
    async () => (await delay(), { ResourcePolicy: policy }),
  );
  sm.on(PutResourcePolicyCommand).callsFake(async (input) => {
    await delay();
    policy = input.ResourcePolicy;
    return {};
  });
  mockClient(AutoScalingClient)
    .on(DescribeAutoScalingGroupsCommand)
    .callsFake(async (input) => {
      await delay();
      const names = new Set(input.AutoScalingGroupNames as string[]);
      return { AutoScalingGroups: groups.filter((g) => names.has(g.AutoScalingGroupName)) };
    });
  mockClient(EC2Client)
    .on(DescribeInstancesCommand)
    .callsFake(async (input) => {
      await delay();
      return {
        Reservations: [
          {
            Instances: (input.Filters?.[0]?.Values ?? []).map((id: string) => {
              const n = Number(id.slice(2));
              return {
                InstanceId: id,
                PrivateIpAddress: ip(n),
                PrivateDnsName: `${host(n)}.ec2.internal`,
              };
            }),
          },
        ],
      };
    });
  let n = 0;
  const ssm = mockClient(SSMClient);
  ssm
    .on(SendCommandCommand)
    .callsFake(async () => (await delay(), { Command: { CommandId: `c${++n}` } }));
  ssm.on(GetCommandInvocationCommand).callsFake(async (input) => {
    await delay();
    // A successful install registers its (marked) service: the run confirms it in PMM.
    const n = Number(input.InstanceId!.slice(2));
    currentPmm?.services.push(service(n));
    return { Status: 'Success', ResponseCode: 0 };
  });
  ssm.on(GetParameterCommand).callsFake(async (input) => {
    await delay();
    const ca = input.Name === '/bench/pmm/ca-certificate' ? currentPmm?.ca : undefined;
    return { Parameter: { Value: ca ?? '{"version":1,"missingSince":{}}' } };
  });
  ssm.on(ListCommandsCommand).callsFake(async () => (await delay(), { Commands: [] }));
}

let currentPmm: FakePmm | undefined;

function service(n: number): FakeService {
  return {
    service_id: `s${n}`,
    service_name: `${asgName(Math.floor(n / PER_ASG))}/${host(n)}`,
    service_type: 'mysql',
    node_id: `n${n}`,
    custom_labels: { aws_instance_id: `i-${n}`, managed_by: 'pmm-asg-reconciler' },
  };
}

function services(registered: number): FakeService[] {
  const out: FakeService[] = [];
  for (let n = 0; n < ASGS * PER_ASG && out.length < registered; n++) out.push(service(n));
  return out;
}

async function scenario(name: string, registered: number): Promise<Summary & { wallMs: number }> {
  const pmm = new FakePmm(PASSWORD);
  pmm.latencyMs = LATENCY_MS;
  // Every 5th instance of each ASG is new, in the second scenario (200 of 1,000).
  const all = services(ASGS * PER_ASG);
  pmm.services = registered === all.length ? all : all.filter((_, i) => i % 5 !== 0);
  const url = await pmm.start();
  currentPmm = pmm;
  const t0 = performance.now();
  const summary = await reconcile({
    config: {
      asgs: Array.from({ length: ASGS }, (_, g) => ({
        asgName: asgName(g),
        serviceType: 'mysql' as const,
        port: 3306,
        username: 'pmm',
        passwordSecretArn: null,
      })),
      pmmServerAddress: '10.0.0.5',
      pmmApiUrl: url,
      adminSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin',
      enrolmentSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-enrolment',
      reconcilerRoleArn: 'arn:aws:iam::123456789012:role/pmm-reconciler',
      secretReaderArns: [],
      stateParameterName: '/bench/pmm-asg-reconciler/state',
      caParameterName: '/bench/pmm/ca-certificate',
      missingGraceMs: 6 * 3_600_000,
    },
    clients: {
      autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
      ec2: new EC2Client({ region: 'eu-west-1' }),
      ssm: new SSMClient({ region: 'eu-west-1' }),
      secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    },
    remainingMs: () => 270_000,
    log: () => undefined,
    options: { firstPollDelayMs: 100, pollIntervalMs: 100 },
  });
  const wallMs = performance.now() - t0;
  await pmm.stop();
  console.log(
    `${name.padEnd(34)} wall ${wallMs.toFixed(0).padStart(5)} ms  SendCommand ${summary.sendCommandCalls}  ` +
      `added ${summary.added.length}  healthy ${summary.healthy}  PMM requests ${summary.pmmRequests}  ` +
      `AWS ${JSON.stringify(summary.awsCalls)}`,
  );
  return { ...summary, wallMs };
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
  const built = await buildLambda();
  mockAws();
  console.log(
    `reconciler benchmark: ${ASGS} ASGs x ${PER_ASG} InService instances, ${LATENCY_MS} ms per AWS/PMM call`,
  );
  const steady = await scenario('steady state (all registered)', ASGS * PER_ASG);
  const fresh = await scenario('200 new instances', ASGS * PER_ASG - 200);
  const coldMs = execFileSync(
    process.execPath,
    [
      '-e',
      `const t=process.hrtime.bigint();require(${JSON.stringify(BUNDLE_PATH)});console.log(Number(process.hrtime.bigint()-t)/1e6)`,
    ],
    { encoding: 'utf8' },
  ).trim();
  console.log(
    `bundle ${built.bundleBytes} B, zip ${statSync(ZIP_PATH).size} B (target < 1,048,576), ` +
      `cold import ${Number(coldMs).toFixed(0)} ms (AWS SDK clients from the runtime, got bundled)`,
  );
  // ---- time to monitored, on a simulated clock ----
  const sim: SimOptions = {
    launches: 1000,
    spreadS: 3600,
    ssmMinS: 20,
    ssmMaxS: 60,
    installS: 90,
    scheduleS: 300,
    runOverheadS: 2,
    lambdaTimeoutS: 300,
    events: false,
    seed: 11,
  };
  console.log(
    `time to monitored (simulated clock): ${sim.launches} launches over ${sim.spreadS} s, SSM online ` +
      `${sim.ssmMinS}-${sim.ssmMaxS} s after InService, install ${sim.installS} s, ${sim.runOverheadS} s per run, ` +
      'runs never overlap',
  );
  const ttm = async (label: string, o: Partial<SimOptions>) => {
    const r = await simulate({ ...sim, ...o });
    const p50 = percentile(r.latenciesS, 50);
    const p95 = percentile(r.latenciesS, 95);
    console.log(
      `${label.padEnd(44)} InService->SendCommand p50 ${p50.toFixed(0).padStart(4)} s  p95 ${p95
        .toFixed(0)
        .padStart(4)} s  max ${Math.max(...r.latenciesS).toFixed(0)} s  runs ${r.runs}  ` +
        `SendCommand ${r.sendCommands}  never sent ${r.unsent}  installs per instance (max) ${r.installsPerInstanceMax}`,
    );
    return { ...r, p50, p95 };
  };
  const before = await ttm('schedule only, no in-run SSM wait (before)', {
    options: { ssmWaitMs: 0 },
  });
  const scheduleOnly = await ttm('schedule only (5 min)', {});
  const eventDriven = await ttm('event-driven (launch events + schedule)', { events: true });

  const checks: [string, boolean][] = [
    ['steady state: 0 SendCommand', steady.sendCommandCalls === 0],
    ['steady state: < 2 s', steady.wallMs < 2000],
    [
      'steady state: 1 PMM request, no PutSecretValue',
      steady.pmmRequests === 1 && steady.awsCalls.PutSecretValue === undefined,
    ],
    ['200 new: <= 4 SendCommand', fresh.sendCommandCalls <= 4 && fresh.added.length === 200],
    ['zip < 1 MB', built.zipBytes < 1_048_576],
    ['event-driven: p95 InService->SendCommand < 90 s', eventDriven.p95 < 90],
    [
      'every launch sent exactly one install (no double enrolment)',
      [before, scheduleOnly, eventDriven].every(
        (r) => r.unsent === 0 && r.installsPerInstanceMax === 1,
      ),
    ],
  ];
  for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}`);
  if (checks.some(([, ok]) => !ok)) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
