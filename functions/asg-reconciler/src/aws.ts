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
import { chunk } from './decide';
import { AsgInstance, InstanceDetails } from './types';
import { errorMessage, mapLimit, withThrottleRetry } from './util';

export interface AwsClients {
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly secrets: SecretsManagerClient;
}

export interface AsgListing {
  /** Listed ASGs -> instances; an ASG whose call failed -> undefined. */
  readonly membership: Map<string, AsgInstance[] | undefined>;
  /** ASGs a successful call did not return. */
  readonly missing: string[];
}

export interface AwsOptions {
  readonly throttleAttempts: number;
  readonly throttleBaseMs: number;
  /** Parallel AWS read calls. */
  readonly concurrency: number;
  /** Milliseconds an AWS call may still take (the Lambda deadline minus its margin). */
  readonly budgetMs?: () => number;
}

/** An AWS call not started, or abandoned, because the Lambda deadline is near. */
export class AwsDeadlineError extends Error {
  constructor(op: string) {
    super(`${op}: Lambda deadline near`);
    this.name = 'AwsDeadlineError';
  }
}

/**
 * Runs one AWS call within the time the Lambda has left (`budgetMs`, none: unbounded): it is
 * not started without budget, and is aborted and abandoned with an AwsDeadlineError when the
 * budget runs out, so a hanging AWS API cannot keep a run from logging its summary.
 * `started` is called when the call really starts (for call counts).
 */
export function underBudget<T>(
  op: string,
  budgetMs: (() => number) | undefined,
  fn: (abortSignal: AbortSignal) => Promise<T>,
  started: () => void = () => undefined,
): Promise<T> {
  const budget = budgetMs?.() ?? Number.POSITIVE_INFINITY;
  if (!(budget > 0)) return Promise.reject(new AwsDeadlineError(op));
  started();
  const controller = new AbortController();
  if (!Number.isFinite(budget)) return fn(controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AwsDeadlineError(op));
    }, Math.ceil(budget));
  });
  return Promise.race([fn(controller.signal), deadline]).finally(() => clearTimeout(timer));
}

/** DescribeAutoScalingGroups accepts up to 100 names per call (MaxRecords 100). */
const ASG_NAMES_PER_CALL = 100;
/** DescribeInstances instance IDs per call (values of one `instance-id` filter). */
const INSTANCES_PER_CALL = 200;

export class AwsIo {
  /** API calls made, by operation name (for the summary, tests and the benchmark). */
  public readonly calls: Record<string, number> = {};

  constructor(
    private readonly clients: AwsClients,
    private readonly options: AwsOptions,
  ) {}

  private count(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
  }

  /**
   * One AWS call with throttling retries, bounded by the time the Lambda has left: it does
   * not start without budget and is abandoned (and aborted) when the budget runs out, so a
   * hanging AWS API cannot keep the run from logging its summary.
   */
  private retry<T>(op: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withThrottleRetry(
      () => underBudget(op, this.options.budgetMs, fn, () => this.count(op)),
      this.options.throttleAttempts,
      this.options.throttleBaseMs,
    );
  }

  async secretString(arn: string): Promise<string> {
    const out = await this.retry('GetSecretValue', (abortSignal) =>
      this.clients.secrets.send(new GetSecretValueCommand({ SecretId: arn }), { abortSignal }),
    );
    if (out.SecretString === undefined) throw new Error(`the secret ${arn} has no SecretString`);
    return out.SecretString;
  }

  /** Stores a new current version of a secret (the SDK adds the idempotency token). */
  async putSecretString(arn: string, value: string): Promise<void> {
    await this.retry('PutSecretValue', (abortSignal) =>
      this.clients.secrets.send(new PutSecretValueCommand({ SecretId: arn, SecretString: value }), {
        abortSignal,
      }),
    );
  }

  /** A secret's resource policy (undefined: none). */
  async secretPolicy(arn: string): Promise<string | undefined> {
    const out = await this.retry('GetResourcePolicy', (abortSignal) =>
      this.clients.secrets.send(new GetResourcePolicyCommand({ SecretId: arn }), { abortSignal }),
    );
    return out.ResourcePolicy;
  }

  /** Replaces a secret's resource policy; Secrets Manager refuses a public one (BlockPublicPolicy). */
  async putSecretPolicy(arn: string, policy: string): Promise<void> {
    await this.retry('PutResourcePolicy', (abortSignal) =>
      this.clients.secrets.send(
        new PutResourcePolicyCommand({
          SecretId: arn,
          ResourcePolicy: policy,
          BlockPublicPolicy: true,
        }),
        { abortSignal },
      ),
    );
  }

  /**
   * Instances of each named ASG (every lifecycle state). `membership` maps a listed ASG to its
   * instances and an ASG whose call failed to undefined (unknown); `missing` names the ASGs a
   * successful call did not return (a typo, a deleted group, eventual consistency): missing is
   * not empty, the caller decides what that means.
   */
  async asgMembership(names: readonly string[]): Promise<AsgListing> {
    const membership = new Map<string, AsgInstance[] | undefined>();
    const missing: string[] = [];
    await mapLimit(chunk(names, ASG_NAMES_PER_CALL), this.options.concurrency, async (group) => {
      const found = new Map<string, AsgInstance[]>();
      const wanted = new Set(group);
      try {
        let token: string | undefined;
        do {
          const page = await this.retry('DescribeAutoScalingGroups', (abortSignal) =>
            this.clients.autoScaling.send(
              new DescribeAutoScalingGroupsCommand({
                AutoScalingGroupNames: group,
                MaxRecords: ASG_NAMES_PER_CALL,
                NextToken: token,
              }),
              { abortSignal },
            ),
          );
          for (const g of page.AutoScalingGroups ?? []) {
            const name = g.AutoScalingGroupName ?? '';
            if (!wanted.has(name)) continue;
            const list = found.get(name) ?? [];
            found.set(name, list);
            for (const i of g.Instances ?? []) {
              if (!i.InstanceId) continue;
              list.push({
                instanceId: i.InstanceId,
                asgName: name,
                lifecycleState: i.LifecycleState ?? 'Unknown',
              });
            }
          }
          token = page.NextToken;
        } while (token);
        for (const n of group) {
          const list = found.get(n);
          if (list === undefined) missing.push(n);
          else membership.set(n, list);
        }
      } catch (e) {
        for (const n of group) membership.set(n, undefined);
        this.lastErrors.push(`DescribeAutoScalingGroups(${group.join(',')}): ${errorMessage(e)}`);
      }
    });
    return { membership, missing };
  }

  /**
   * The instances SSM reports Online among `ids` (DescribeInstanceInformation, 50 IDs per
   * filter); undefined when a call failed (unknown: the caller sends anyway, as before).
   */
  async ssmOnline(ids: readonly string[]): Promise<Set<string> | undefined> {
    const online = new Set<string>();
    try {
      for (const group of chunk(ids, 50)) {
        let token: string | undefined;
        do {
          const page = await this.retry('DescribeInstanceInformation', (abortSignal) =>
            this.clients.ssm.send(
              new DescribeInstanceInformationCommand({
                Filters: [{ Key: 'InstanceIds', Values: group }],
                MaxResults: 50,
                NextToken: token,
              }),
              { abortSignal },
            ),
          );
          for (const i of page.InstanceInformationList ?? []) {
            if (i.InstanceId && i.PingStatus === 'Online') online.add(i.InstanceId);
          }
          token = page.NextToken;
        } while (token);
      }
      return online;
    } catch (e) {
      this.lastErrors.push(`DescribeInstanceInformation: ${errorMessage(e)}`);
      return undefined;
    }
  }

  /**
   * Install commands of this reconciler still running (Pending/InProgress), by instance ID,
   * sent after `sinceMs`: a run does not send a second install to an instance an earlier run
   * is still enrolling; it follows that command instead. undefined when the call failed.
   */
  async inFlightInstalls(sinceMs: number, commentPrefix: string) {
    const byInstance = new Map<string, string>();
    try {
      let token: string | undefined;
      do {
        const page = await this.retry('ListCommands', (abortSignal) =>
          this.clients.ssm.send(
            new ListCommandsCommand({
              Filters: [
                // SSM's documented form: 2021-07-07T00:00:00Z (no fractional seconds).
                {
                  key: 'InvokedAfter',
                  value: new Date(sinceMs).toISOString().replace(/\.\d+Z$/, 'Z'),
                },
                { key: 'DocumentName', value: 'AWS-RunShellScript' },
              ],
              MaxResults: 50,
              NextToken: token,
            }),
            { abortSignal },
          ),
        );
        for (const c of page.Commands ?? []) {
          if (!c.CommandId || !(c.Comment ?? '').startsWith(commentPrefix)) continue;
          if (c.Status !== 'Pending' && c.Status !== 'InProgress') continue;
          for (const id of c.InstanceIds ?? []) byInstance.set(id, c.CommandId);
        }
        token = page.NextToken;
      } while (token);
      return byInstance;
    } catch (e) {
      this.lastErrors.push(`ListCommands: ${errorMessage(e)}`);
      return undefined;
    }
  }

  /** A parameter's value; undefined when it does not exist. Other failures throw. */
  async parameter(name: string): Promise<string | undefined> {
    try {
      const out = await this.retry('GetParameter', (abortSignal) =>
        this.clients.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), {
          abortSignal,
        }),
      );
      return out.Parameter?.Value;
    } catch (e) {
      if ((e as { name?: string }).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  }

  async putParameter(name: string, value: string): Promise<void> {
    await this.retry('PutParameter', (abortSignal) =>
      this.clients.ssm.send(
        new PutParameterCommand({ Name: name, Value: value, Overwrite: true }),
        { abortSignal },
      ),
    );
  }

  /** Errors swallowed by the partial-result calls above and below (reported in the summary). */
  public readonly lastErrors: string[] = [];

  /**
   * EC2 details by instance ID; instances whose lookup failed are simply absent. `groups` are
   * looked up separately (one per ASG), so a failing call costs only its own group.
   *
   * The IDs go in an `instance-id` filter, not `InstanceIds`: with `InstanceIds` one ID EC2
   * does not know yet (normal right after launch) fails the whole call with
   * InvalidInstanceID.NotFound; a filter simply does not match it.
   */
  async instanceDetails(
    groups: readonly (readonly string[])[],
  ): Promise<Map<string, InstanceDetails>> {
    const result = new Map<string, InstanceDetails>();
    const calls = groups.flatMap((ids) => chunk(ids, INSTANCES_PER_CALL));
    await mapLimit(calls, this.options.concurrency, async (group) => {
      try {
        let token: string | undefined;
        do {
          const page = await this.retry('DescribeInstances', (abortSignal) =>
            this.clients.ec2.send(
              new DescribeInstancesCommand({
                Filters: [{ Name: 'instance-id', Values: group }],
                NextToken: token,
              }),
              { abortSignal },
            ),
          );
          for (const r of page.Reservations ?? []) {
            for (const i of r.Instances ?? []) {
              if (!i.InstanceId) continue;
              result.set(i.InstanceId, {
                instanceId: i.InstanceId,
                privateIp: i.PrivateIpAddress,
                privateDnsName: i.PrivateDnsName,
                launchTime: i.LaunchTime,
              });
            }
          }
          token = page.NextToken;
        } while (token);
      } catch (e) {
        this.lastErrors.push(`DescribeInstances(${group.length} instances): ${errorMessage(e)}`);
      }
    });
    return result;
  }

  /** One AWS-RunShellScript command for a batch of instances; returns the command ID. */
  async sendCommand(
    instanceIds: readonly string[],
    script: string,
    comment: string,
    executionTimeoutSeconds: number,
  ): Promise<string> {
    const out = await this.retry('SendCommand', (abortSignal) =>
      this.clients.ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [...instanceIds],
          Comment: comment.slice(0, 100),
          TimeoutSeconds: 600,
          Parameters: {
            commands: [script],
            executionTimeout: [String(executionTimeoutSeconds)],
          },
        }),
        { abortSignal },
      ),
    );
    const id = out.Command?.CommandId;
    if (!id) throw new Error('SendCommand returned no CommandId');
    return id;
  }

  async commandInvocation(commandId: string, instanceId: string) {
    return this.retry('GetCommandInvocation', (abortSignal) =>
      this.clients.ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        { abortSignal },
      ),
    );
  }
}
