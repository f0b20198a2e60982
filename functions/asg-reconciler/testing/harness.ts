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
import { ReconcilerConfig } from '../src/config';
import { reconcile, ReconcileDeps, ReconcileOptions } from '../src/reconcile';
import { FakePmm, FakeService } from './fake-pmm';

/**
 * A compact test bed for the reconciler: a real FakePmm over HTTP plus AWS SDK mocks whose
 * state the test can change (ASG membership, SSM online/in-flight, the state parameter, the
 * enrolment secret). A successful install registers a marked service in the fake PMM, as
 * templates/reconciler/install.sh does.
 */
export const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin-AbCdEf';
export const ENROLMENT_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-enrolment-token-GhIjKl';
export const STATE_PARAMETER = '/test/pmm-asg-reconciler/state';
export const CA_PARAMETER = '/pmm/test/ca-certificate';
export const RECONCILER_ROLE = 'arn:aws:iam::123456789012:role/pmm-reconciler-abc';
export const READER_ROLE = 'arn:aws:iam::123456789012:role/dba';
/** The instance ARN `ec2:SourceInstanceARN` holds for `id` (account and region of ENROLMENT_ARN). */
export const arnOf = (id: string) => `arn:aws:ec2:eu-west-1:123456789012:instance/${id}`;
export const MANAGER = 'pmm-asg-reconciler';

export const num = (id: string) => parseInt(id.replace(/\D/g, '') || '0', 10);
export const ip = (id: string) => `10.0.${Math.floor(num(id) / 250)}.${(num(id) % 250) + 1}`;
export const host = (id: string) => `ip-${ip(id).replace(/\./g, '-')}`;

export function named(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

export class Bed {
  pmm: FakePmm;
  readonly asg = mockClient(AutoScalingClient);
  readonly ec2 = mockClient(EC2Client);
  readonly ssm = mockClient(SSMClient);
  readonly sm = mockClient(SecretsManagerClient);
  baseUrl = '';
  logs: Record<string, unknown>[] = [];
  /** ASG name -> [instanceId, lifecycleState][]; an ASG absent here is not returned. */
  groups: Record<string, [string, string][]> = {};
  /** The state parameter (undefined: does not exist). */
  state: string | undefined = '{}';
  /** The CA parameter's value (default: the fake PMM's CA, as the host publishes it). */
  caValue: string | undefined;
  enrolmentSecret: string | undefined;
  /** The enrolment secret's resource policy (undefined: none). */
  policy: string | undefined;
  /** Every policy written (PutResourcePolicy), in order. */
  policyWrites: string[] = [];
  /** Installs of the reconciler ListCommands reports in flight: instance ID -> command ID. */
  inFlight = new Map<string, string>();
  /** Instances SSM reports online (undefined: all). */
  online: Set<string> | undefined;
  /** Simulated install outcome per instance (default: success, registers a service). */
  installResult: (id: string) => {
    Status: string;
    ResponseCode?: number;
    StandardOutputContent?: string;
  } = (id) => {
    this.registerInstall(id);
    return { Status: 'Success', ResponseCode: 0 };
  };
  launchTime = new Date(Date.now() - 3_600_000);
  private commandN = 0;

  constructor(readonly password: string) {
    this.pmm = new FakePmm(password);
  }

  /** Fresh PMM and AWS state (a new FakePmm on a new HTTPS port), for each test. */
  async start(): Promise<void> {
    this.pmm = new FakePmm(this.password);
    this.commandN = 0;
    this.groups = {};
    this.state = '{}';
    this.caValue = undefined;
    this.enrolmentSecret = undefined;
    this.policy = undefined;
    this.policyWrites = [];
    this.inFlight = new Map();
    this.online = undefined;
    this.logs = [];
    this.launchTime = new Date(Date.now() - 3_600_000);
    this.installResult = (id) => {
      this.registerInstall(id);
      return { Status: 'Success', ResponseCode: 0 };
    };
    this.baseUrl = await this.pmm.start();
    for (const m of [this.asg, this.ec2, this.ssm, this.sm]) m.reset();
    this.sm.on(GetSecretValueCommand).callsFake(async (input) => {
      if (input.SecretId === ADMIN_ARN) return { SecretString: this.password };
      if (input.SecretId === ENROLMENT_ARN && this.enrolmentSecret !== undefined) {
        return { SecretString: this.enrolmentSecret };
      }
      throw named('ResourceNotFoundException', "Secrets Manager can't find the secret value");
    });
    this.sm.on(PutSecretValueCommand).callsFake(async (input) => {
      this.enrolmentSecret = input.SecretString;
      return { VersionId: 'v' };
    });
    this.sm.on(GetResourcePolicyCommand).callsFake(async () => ({
      Name: 'enrolment',
      ResourcePolicy: this.policy,
    }));
    this.sm.on(PutResourcePolicyCommand).callsFake(async (input) => {
      if (input.BlockPublicPolicy !== true) throw named('ValidationException', 'not blocked');
      this.policy = input.ResourcePolicy;
      this.policyWrites.push(input.ResourcePolicy!);
      return { Name: 'enrolment' };
    });
    this.asg.on(DescribeAutoScalingGroupsCommand).callsFake(async (input) => ({
      AutoScalingGroups: (input.AutoScalingGroupNames as string[])
        .filter((name) => this.groups[name])
        .map((name) => ({
          AutoScalingGroupName: name,
          Instances: this.groups[name].map(([id, state]) => ({
            InstanceId: id,
            LifecycleState: state,
          })),
        })),
    }));
    this.ec2.on(DescribeInstancesCommand).callsFake(async (input) => ({
      Reservations: [
        {
          Instances: (input.Filters?.[0]?.Values ?? []).map((id: string) => ({
            InstanceId: id,
            PrivateIpAddress: ip(id),
            PrivateDnsName: `${host(id)}.eu-west-1.compute.internal`,
            LaunchTime: this.launchTime,
          })),
        },
      ],
    }));
    this.ssm.on(SendCommandCommand).callsFake(async () => ({
      Command: { CommandId: `cmd-${++this.commandN}` },
    }));
    this.ssm
      .on(GetCommandInvocationCommand)
      .callsFake(async (input) => this.installResult(input.InstanceId!));
    this.ssm.on(GetParameterCommand).callsFake(async (input) => {
      if (input.Name === CA_PARAMETER) {
        return { Parameter: { Name: CA_PARAMETER, Value: this.caValue ?? this.pmm.ca } };
      }
      if (input.Name !== STATE_PARAMETER || this.state === undefined) {
        throw named('ParameterNotFound');
      }
      return { Parameter: { Name: STATE_PARAMETER, Value: this.state } };
    });
    this.ssm.on(PutParameterCommand).callsFake(async (input) => {
      this.state = input.Value;
      return { Version: 2 };
    });
    this.ssm.on(ListCommandsCommand).callsFake(async () => ({
      Commands: [...this.inFlight].map(([id, commandId]) => ({
        CommandId: commandId,
        Comment: 'pmm-reconciler: enrol 1 instance(s)',
        Status: 'InProgress',
        InstanceIds: [id],
      })),
    }));
    this.ssm.on(DescribeInstanceInformationCommand).callsFake(async (input) => ({
      InstanceInformationList: (input.Filters?.[0]?.Values ?? [])
        .filter((id: string) => this.online === undefined || this.online.has(id))
        .map((id: string) => ({ InstanceId: id, PingStatus: 'Online' })),
    }));
  }

  stop(): Promise<void> {
    return this.pmm.stop();
  }

  asgOf(id: string): string | undefined {
    return Object.entries(this.groups).find(([, l]) => l.some(([i]) => i === id))?.[0];
  }

  /** A service the reconciler registered for `id` (marked). */
  ours(id: string, asg = this.asgOf(id) ?? 'db'): FakeService {
    return {
      service_id: `svc-${id}`,
      service_name: `${asg}/${host(id)}`,
      service_type: 'mysql',
      node_id: `node-${id}`,
      custom_labels: { aws_instance_id: id, managed_by: MANAGER },
    };
  }

  registerInstall(id: string): void {
    const s = this.ours(id);
    if (!this.pmm.services.some((x) => x.service_name === s.service_name))
      this.pmm.services.push(s);
  }

  config(asgNames = Object.keys(this.groups)): ReconcilerConfig {
    return {
      asgs: asgNames.map((asgName) => ({
        asgName,
        serviceType: 'mysql',
        port: 3306,
        username: 'pmm',
        passwordSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-XyZ',
      })),
      pmmServerAddress: '10.0.0.5',
      pmmApiUrl: this.baseUrl,
      caParameterName: CA_PARAMETER,
      adminSecretArn: ADMIN_ARN,
      enrolmentSecretArn: ENROLMENT_ARN,
      reconcilerRoleArn: RECONCILER_ROLE,
      secretReaderArns: [READER_ROLE],
      stateParameterName: STATE_PARAMETER,
      missingGraceMs: 6 * 3_600_000,
    };
  }

  clients() {
    return {
      autoScaling: new AutoScalingClient({ region: 'eu-west-1' }),
      ec2: new EC2Client({ region: 'eu-west-1' }),
      ssm: new SSMClient({ region: 'eu-west-1' }),
      secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    };
  }

  /** One run; resolves with the summary or the thrown error (never rejects). */
  async run(
    extras: Partial<Omit<ReconcileDeps, 'options'>> & {
      options?: ReconcileOptions;
      asgNames?: string[];
    } = {},
  ): Promise<{ summary?: Awaited<ReturnType<typeof reconcile>>; error?: unknown }> {
    this.logs = [];
    try {
      const summary = await reconcile({
        config: extras.config ?? this.config(extras.asgNames),
        clients: this.clients(),
        remainingMs: extras.remainingMs ?? (() => 300_000),
        now: extras.now,
        sleep: extras.sleep,
        trigger: extras.trigger,
        onSent: extras.onSent,
        log: (e) => this.logs.push(e),
        options: {
          pollIntervalMs: 5,
          firstPollDelayMs: 0,
          backoffBaseMs: 5,
          pmmTimeoutMs: 500,
          deadlineMarginMs: 1000,
          ssmPollMs: 5,
          ...extras.options,
        },
      });
      return { summary };
    } catch (error) {
      return { error };
    }
  }
}
