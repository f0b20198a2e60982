import { AwsClients, AwsIo } from './aws';
import { ReconcilerConfig } from './config';
import { chunk, decide, EnrolTarget, isLeaving, Plan, Problem, Retirement } from './decide';
import {
  deleteExpiredTokens,
  ensureEnrolmentToken,
  EnrolmentTokenOptions,
  EnsuredToken,
  TokenSource,
} from './enrolment';
import { EXIT, renderInstallScript, UnsafeValueError } from './install-command';
import { PmmApi } from './pmm-api';
import { PmmService } from './types';
import { errorMessage, errorName, mapLimit, sleep } from './util';

/** Tunables (the defaults suit the 5-minute schedule and the 300 s Lambda timeout). */
export interface ReconcileOptions {
  /** Instances per SendCommand (SSM's maximum is 50). @default 50 */
  readonly batchSize?: number;
  /** Parallel GetCommandInvocation / PMM delete calls. @default 10 */
  readonly concurrency?: number;
  /** Wait between polling rounds. @default 5000 */
  readonly pollIntervalMs?: number;
  /** First poll after sending. @default 3000 */
  readonly firstPollDelayMs?: number;
  /**
   * Stop polling, and start no further PMM removal or SendCommand, when the Lambda has this
   * much time left (the summary is always logged). @default 30000
   */
  readonly deadlineMarginMs?: number;
  /** Removals stop earlier, leaving this much (beyond the margin) for enrolment. @default 60000 */
  readonly enrolReserveMs?: number;
  /**
   * `executionTimeout` of the install command: three apt-get calls may each wait 300 s for
   * the dpkg lock (unattended-upgrades on a fresh instance). @default 1200
   */
  readonly executionTimeoutSeconds?: number;
  /** An instance SSM does not know yet counts as a failure only after this age. @default 900000 */
  readonly ssmGraceMs?: number;
  /** PMM API per-attempt timeout. @default 10000 */
  readonly pmmTimeoutMs?: number;
  /** PMM API retries on 5xx/timeouts. @default 3 */
  readonly pmmRetries?: number;
  /** First PMM/AWS backoff delay. @default 500 */
  readonly backoffBaseMs?: number;
  /** The enrolment token (service account, lifetime, reuse). */
  readonly enrolmentToken?: EnrolmentTokenOptions;
}

export interface ReconcileDeps {
  readonly config: ReconcilerConfig;
  readonly clients: AwsClients;
  /** Milliseconds this invocation has left (Lambda context). */
  readonly remainingMs: () => number;
  readonly options?: ReconcileOptions;
  /** Structured log sink (one JSON object per line). @default console.log */
  readonly log?: (entry: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export interface Summary {
  readonly added: string[];
  readonly removed: string[];
  readonly failed: Problem[];
  readonly skipped: Problem[];
  readonly healthy: number;
  readonly foreignServices: number;
  readonly sendCommandCalls: number;
  readonly awsCalls: Record<string, number>;
  readonly pmmRequests: number;
  /** Whether this run minted or reused an enrolment token; undefined when it enrolled nobody. */
  readonly enrolmentToken?: TokenSource;
  readonly durationMs: number;
}

/** The run could not do everything; thrown after all work so the Errors alarm fires. */
export class ReconcileError extends Error {
  constructor(public readonly summary: Summary) {
    super(
      `ASG reconcile finished with ${summary.failed.length} failure(s): ` +
        summary.failed
          .slice(0, 5)
          .map((f) => `${f.asgName}${f.instanceId ? `/${f.instanceId}` : ''}: ${f.reason}`)
          .join('; '),
    );
    this.name = 'ReconcileError';
  }
}

const POLLING = new Set(['Pending', 'InProgress', 'Delayed']);

interface Sent {
  readonly target: EnrolTarget;
  readonly commandId: string;
}

type Outcome = 'enrolled' | 'already-exists' | 'busy' | 'pending' | 'failed';

/** One reconcile run: decide, retire, enrol, report. Never stops at the first error. */
export async function reconcile(deps: ReconcileDeps): Promise<Summary> {
  const o = deps.options ?? {};
  const log = deps.log ?? ((e) => console.log(JSON.stringify(e)));
  const now = deps.now ?? Date.now;
  const started = now();
  const concurrency = o.concurrency ?? 10;
  const backoffBaseMs = o.backoffBaseMs ?? 500;
  const aws = new AwsIo(deps.clients, {
    throttleAttempts: 5,
    throttleBaseMs: backoffBaseMs,
    concurrency,
  });
  const cfg = deps.config;
  const failed: Problem[] = [];
  const skipped: Problem[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  let pmm: PmmApi | undefined;
  let plan: Plan | undefined;
  let tokenSource: TokenSource | undefined;

  const summary = (): Summary => ({
    added,
    removed,
    failed,
    skipped,
    healthy: plan?.healthy.length ?? 0,
    foreignServices: plan?.foreignServices ?? 0,
    sendCommandCalls: aws.calls.SendCommand ?? 0,
    awsCalls: { ...aws.calls },
    pmmRequests: pmm?.requests ?? 0,
    enrolmentToken: tokenSource,
    durationMs: now() - started,
  });

  try {
    // ---- gather: the admin credential, ASG membership and PMM services (once) ----
    const password = await aws.secretString(cfg.adminSecretArn);
    pmm = new PmmApi({
      baseUrl: cfg.pmmApiUrl,
      username: 'admin',
      password,
      requestTimeoutMs: o.pmmTimeoutMs,
      retries: o.pmmRetries,
      backoffBaseMs,
    });
    const [membership, services] = await Promise.all([
      aws.asgMembership(cfg.asgs.map((a) => a.asgName)),
      pmm.listServices(),
    ]);
    // One lookup group per ASG: a failed DescribeInstances affects only that ASG.
    const present = [...membership.values()].map((list) =>
      (list ?? []).filter((i) => !isLeaving(i.lifecycleState)).map((i) => i.instanceId),
    );
    const details = await aws.instanceDetails(present);
    for (const err of aws.lastErrors) log({ level: 'warn', message: err });

    plan = decide({ asgs: cfg.asgs, membership, details, services });
    failed.push(...plan.failed);
    skipped.push(...plan.skipped);

    // ---- retire first, so a replacement instance can take over a stale name ----
    // A hanging PMM must not eat the whole invocation: no removal starts once the time left
    // is below the margin plus what enrolment needs; the rest waits for the next run.
    const margin = o.deadlineMarginMs ?? 30_000;
    const retireUntil = margin + (o.enrolReserveMs ?? 60_000);
    await mapLimit(plan.retire, concurrency, async (r) => {
      const what = r.kind === 'node' ? `node ${r.nodeId}` : `service ${r.serviceName}`;
      const asgName = (r.kind === 'node' ? r.serviceNames[0] : r.serviceName).split('/')[0];
      if (deps.remainingMs() < retireUntil) {
        skipped.push({ asgName, reason: `removing ${what}: deferred, Lambda deadline near` });
        return;
      }
      try {
        await retire(pmm!, r);
        removed.push(...(r.kind === 'node' ? r.serviceNames : [r.serviceName]));
      } catch (e) {
        failed.push({ asgName, reason: `removing ${what}: ${errorMessage(e)}` });
      }
    });

    // ---- enrol new instances, batched across ASGs ----
    // The enrolment token is ensured once per run, and only when something is to be sent
    // (a steady-state run makes no Grafana or PutSecretValue call).
    let token: Promise<EnsuredToken> | undefined;
    let minted: number | undefined;
    const ensureToken = () =>
      (token ??= ensureEnrolmentToken({
        pmm: pmm!,
        aws,
        secretArn: cfg.enrolmentSecretArn,
        now,
        log,
        options: o.enrolmentToken,
      }).then((t) => {
        tokenSource = t.source;
        minted = t.accountId;
        return t;
      }));
    const enrol = async (targets: EnrolTarget[]) =>
      runInstall(targets, { aws, cfg, o, deps, now, concurrency, failed, skipped, ensureToken });
    const outcomes = await enrol(plan.enrol);
    const blocked: EnrolTarget[] = [];
    for (const [target, outcome] of outcomes) {
      if (outcome === 'enrolled') added.push(target.serviceName);
      if (outcome === 'already-exists') blocked.push(target);
    }
    const retry: EnrolTarget[] = [];
    if (blocked.length > 0) {
      // A service of that name (from an earlier registration) blocks the add. The listing
      // from the start of the run may be stale by now: list once more, remove what is there
      // and try once more.
      let current: PmmService[] | undefined;
      try {
        current = await pmm.listServices();
      } catch (e) {
        for (const t of blocked) {
          failed.push(problem(t, `service already exists; listing services: ${errorMessage(e)}`));
        }
      }
      for (const target of current === undefined ? [] : blocked) {
        const stale = current!.filter((s) => s.serviceName === target.serviceName);
        try {
          for (const s of stale) await pmm.removeService(s.serviceId);
          if (stale.length > 0) removed.push(target.serviceName);
          retry.push(target);
        } catch (e) {
          failed.push(problem(target, `removing stale service: ${errorMessage(e)}`));
        }
      }
    }
    if (retry.length > 0) {
      for (const [target, outcome] of await enrol(retry)) {
        if (outcome === 'enrolled') added.push(target.serviceName);
        else if (outcome === 'already-exists') {
          failed.push(problem(target, 'service still exists after removing the stale one'));
        }
      }
    }
    // After a mint: expired tokens of the enrolment account go (bounded, only logged).
    if (minted !== undefined) {
      await deleteExpiredTokens(
        pmm,
        minted,
        o.enrolmentToken?.maxExpiredDeletions ?? 10,
        log,
        () => deps.remainingMs() < margin,
      );
    }
  } catch (e) {
    failed.push({ asgName: '*', reason: `${errorName(e)}: ${errorMessage(e)}` });
  }

  const s = summary();
  report(s, log);
  if (s.failed.length > 0) throw new ReconcileError(s);
  return s;
}

async function retire(pmm: PmmApi, r: Retirement): Promise<void> {
  if (r.kind === 'node') await pmm.removeNode(r.nodeId);
  else await pmm.removeService(r.serviceId);
}

function problem(t: EnrolTarget, reason: string): Problem {
  return { asgName: t.asgName, instanceId: t.instanceId, reason };
}

interface InstallContext {
  readonly aws: AwsIo;
  readonly cfg: ReconcilerConfig;
  readonly o: ReconcileOptions;
  readonly deps: ReconcileDeps;
  readonly now: () => number;
  readonly concurrency: number;
  readonly failed: Problem[];
  readonly skipped: Problem[];
  /** Makes the enrolment secret hold a valid token (once per run). */
  readonly ensureToken: () => Promise<EnsuredToken>;
}

/** Sends the install command in batches, polls until done or the deadline, classifies. */
async function runInstall(
  targets: EnrolTarget[],
  ctx: InstallContext,
): Promise<Map<EnrolTarget, Outcome>> {
  const outcomes = new Map<EnrolTarget, Outcome>();
  if (targets.length === 0) return outcomes;
  const { aws, o } = ctx;
  const sorted = [...targets].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const sent: Sent[] = [];

  const margin = o.deadlineMarginMs ?? 30_000;
  if (ctx.deps.remainingMs() <= margin) {
    for (const t of sorted) {
      outcomes.set(t, 'pending');
      ctx.skipped.push(problem(t, 'not sent: Lambda deadline near'));
    }
    return outcomes;
  }
  // No token, no command: the instances could not register (reported, retried next run).
  try {
    await ctx.ensureToken();
  } catch (e) {
    for (const t of sorted) {
      outcomes.set(t, 'failed');
      ctx.failed.push(problem(t, `enrolment token: ${errorName(e)}: ${errorMessage(e)}`));
    }
    return outcomes;
  }
  const send = async (batch: EnrolTarget[]): Promise<void> => {
    if (ctx.deps.remainingMs() <= margin) {
      for (const t of batch) {
        outcomes.set(t, 'pending');
        ctx.skipped.push(problem(t, 'not sent: Lambda deadline near'));
      }
      return;
    }
    try {
      const script = renderInstallScript({
        pmmServerAddress: ctx.cfg.pmmServerAddress,
        enrolmentSecretArn: ctx.cfg.enrolmentSecretArn,
        targets: batch,
      });
      const commandId = await aws.sendCommand(
        batch.map((t) => t.instanceId),
        script,
        `pmm-reconciler: enrol ${batch.length} instance(s)`,
        o.executionTimeoutSeconds ?? 1200,
      );
      for (const target of batch) sent.push({ target, commandId });
    } catch (e) {
      // One instance SSM does not manage (yet), one the IAM tag condition refuses, or one
      // value that cannot go into the script rejects the whole call: split to isolate it.
      if (isPerInstance(e) && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await send(batch.slice(0, half));
        await send(batch.slice(half));
        return;
      }
      for (const t of batch) {
        outcomes.set(t, 'failed');
        const young =
          t.launchTime !== undefined &&
          ctx.now() - t.launchTime.getTime() < (o.ssmGraceMs ?? 900_000);
        if (errorName(e) === 'InvalidInstanceId' && young) {
          ctx.skipped.push(problem(t, 'SSM agent not registered yet'));
          outcomes.set(t, 'pending');
        } else if (e instanceof UnsafeValueError) {
          ctx.failed.push(problem(t, errorMessage(e)));
        } else {
          ctx.failed.push(problem(t, `SendCommand: ${errorName(e)}: ${errorMessage(e)}`));
        }
      }
    }
  };
  await mapLimit(chunk(sorted, o.batchSize ?? 50), 4, send);

  // ---- poll ----
  const deadline = ctx.now() + Math.max(0, ctx.deps.remainingMs() - margin);
  let waiting = sent;
  await sleep(Math.min(o.firstPollDelayMs ?? 3000, Math.max(0, deadline - ctx.now())));
  while (waiting.length > 0) {
    const still: Sent[] = [];
    await mapLimit(waiting, ctx.concurrency, async (s) => {
      try {
        const inv = await aws.commandInvocation(s.commandId, s.target.instanceId);
        const status = inv.Status ?? 'Pending';
        if (POLLING.has(status)) {
          still.push(s);
          return;
        }
        const code = inv.ResponseCode ?? -1;
        const out = inv.StandardOutputContent ?? '';
        if (status === 'Success' && code === EXIT.ok) outcomes.set(s.target, 'enrolled');
        else if (
          code === EXIT.alreadyExists ||
          out.includes('PMM_RECONCILER_RESULT=already-exists')
        ) {
          outcomes.set(s.target, 'already-exists');
        } else if (code === EXIT.busy) {
          outcomes.set(s.target, 'busy');
          ctx.skipped.push(problem(s.target, 'an earlier install is still running'));
        } else {
          outcomes.set(s.target, 'failed');
          ctx.failed.push(
            problem(
              s.target,
              `install ${status} (exit ${code}): ${tail(out, inv.StandardErrorContent)}`,
            ),
          );
        }
      } catch (e) {
        // Right after SendCommand the invocation may not exist yet: keep polling.
        if (errorName(e) === 'InvocationDoesNotExist') still.push(s);
        else {
          outcomes.set(s.target, 'failed');
          ctx.failed.push(problem(s.target, `GetCommandInvocation: ${errorMessage(e)}`));
        }
      }
    });
    waiting = still;
    if (waiting.length === 0) break;
    const pause = o.pollIntervalMs ?? 5000;
    if (ctx.now() + pause >= deadline) {
      for (const s of waiting) {
        outcomes.set(s.target, 'pending');
        ctx.skipped.push(problem(s.target, `install still running (command ${s.commandId})`));
      }
      break;
    }
    await sleep(pause);
  }
  return outcomes;
}

/** SendCommand errors caused by one instance of the batch (splitting the batch isolates it). */
function isPerInstance(e: unknown): boolean {
  const name = errorName(e);
  return (
    name === 'InvalidInstanceId' ||
    name === 'AccessDeniedException' ||
    e instanceof UnsafeValueError
  );
}

/** The last lines of the command output, for the failure reason (never contains secrets). */
function tail(stdout: string, stderr: string | undefined): string {
  const text = `${stdout}\n${stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
  return text.length > 300 ? text.slice(-300) : text;
}

/** One structured summary line and one Embedded Metric Format line (CloudWatch metrics). */
function report(s: Summary, log: (entry: Record<string, unknown>) => void): void {
  log({
    level: s.failed.length > 0 ? 'error' : 'info',
    message: 'reconcile summary',
    added: s.added,
    removed: s.removed,
    failed: s.failed,
    skipped: s.skipped,
    counts: {
      added: s.added.length,
      removed: s.removed.length,
      failed: s.failed.length,
      skipped: s.skipped.length,
      healthy: s.healthy,
    },
    awsCalls: s.awsCalls,
    pmmRequests: s.pmmRequests,
    enrolmentToken: s.enrolmentToken,
    durationMs: s.durationMs,
  });
  log({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: 'PMM/Reconciler',
          Dimensions: [[]],
          Metrics: [
            { Name: 'InstancesAdded', Unit: 'Count' },
            { Name: 'ServicesRemoved', Unit: 'Count' },
            { Name: 'Failures', Unit: 'Count' },
            { Name: 'InstancesSkipped', Unit: 'Count' },
            { Name: 'InstancesHealthy', Unit: 'Count' },
            { Name: 'DurationMs', Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    InstancesAdded: s.added.length,
    ServicesRemoved: s.removed.length,
    Failures: s.failed.length,
    InstancesSkipped: s.skipped.length,
    InstancesHealthy: s.healthy,
    DurationMs: s.durationMs,
  });
}
