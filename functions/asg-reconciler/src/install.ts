import { AwsDeadlineError, AwsIo } from './aws';
import { ReconcilerConfig } from './config';
import { ASG_MANAGER, chunk, EnrolTarget, Problem } from './decide';
import { CredentialSource } from './enrolment';
import { EXIT, renderInstallScript, UnsafeValueError } from './install-command';
import { errorMessage, errorName, mapLimit } from './util';

/** Comment prefix of the reconciler's install commands (how later runs find them). */
export const COMMAND_COMMENT = 'pmm-reconciler: enrol';

/** `pending`: not sent this run; `running`: sent (or followed) and still running at the end. */
export type Outcome = 'enrolled' | 'already-exists' | 'busy' | 'pending' | 'running' | 'failed';

export interface InstallTunables {
  readonly batchSize: number;
  readonly concurrency: number;
  readonly firstPollDelayMs: number;
  readonly pollIntervalMs: number;
  readonly deadlineMarginMs: number;
  readonly executionTimeoutSeconds: number;
  /** An instance SSM does not know yet counts as a failure only after this age. */
  readonly ssmGraceMs: number;
  /** How long a run waits for young instances to come online in SSM before sending. */
  readonly ssmWaitMs: number;
  readonly ssmPollMs: number;
  /** How long a run polls installs after its last send (then the next run follows them). */
  readonly installWaitMs: number;
}

export interface InstallContext {
  readonly aws: AwsIo;
  readonly cfg: ReconcilerConfig;
  /** PEM of PMM's CA (public): the install script trusts exactly this CA. */
  readonly pmmCaCertificate: string;
  readonly t: InstallTunables;
  readonly remainingMs: () => number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly failed: Problem[];
  readonly skipped: Problem[];
  /**
   * Lets these instances (and the installs still in flight; undefined: unknown) read the
   * enrolment secret; returns the ones that did not fit in its policy.
   */
  readonly allowRead: (ids: string[], inFlight: string[] | undefined) => Promise<string[]>;
  /** Makes the enrolment secret hold an accepted credential (once per run). */
  readonly ensureCredential: () => Promise<CredentialSource>;
  /** Called once per instance when its SendCommand was accepted (benchmark, tests). */
  readonly onSent?: (instanceId: string, atMs: number) => void;
}

const POLLING = new Set(['Pending', 'InProgress', 'Delayed']);

interface Sent {
  readonly target: EnrolTarget;
  readonly commandId: string;
  /** Sent by an earlier run and still running: followed, not sent again. */
  readonly followed: boolean;
}

export function problem(t: EnrolTarget, reason: string): Problem {
  return { asgName: t.asgName, instanceId: t.instanceId, reason };
}

/**
 * Enrols `targets`: follows installs earlier runs still have in flight (never a second
 * install to the same instance), waits (bounded) for young instances to come online in SSM,
 * sends one command per batch, polls until done, the install wait or the deadline.
 */
export async function runInstall(
  targets: readonly EnrolTarget[],
  ctx: InstallContext,
): Promise<Map<EnrolTarget, Outcome>> {
  const outcomes = new Map<EnrolTarget, Outcome>();
  if (targets.length === 0) return outcomes;
  const { aws, t: o } = ctx;
  const margin = o.deadlineMarginMs;
  const nearDeadline = () => ctx.remainingMs() <= margin;
  const defer = (list: readonly EnrolTarget[], reason: string) => {
    for (const t of list) {
      outcomes.set(t, 'pending');
      ctx.skipped.push(problem(t, reason));
    }
  };
  const sorted = [...targets].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  if (nearDeadline()) {
    defer(sorted, 'not sent: Lambda deadline near');
    return outcomes;
  }
  const sent: Sent[] = [];
  let toSend = sorted;
  // An install an earlier run sent that is still running is followed, not sent again. If
  // that cannot be read, send anyway: the lock on the instance stops a second install.
  const flying = await aws.inFlightInstalls(
    ctx.now() - (o.executionTimeoutSeconds + 600) * 1000,
    COMMAND_COMMENT,
  );
  if (flying !== undefined) {
    toSend = [];
    for (const t of sorted) {
      const commandId = flying.get(t.instanceId);
      if (commandId === undefined) toSend.push(t);
      else sent.push({ target: t, commandId, followed: true });
    }
  }
  // Only the instances sent (and those still installing) may read the enrolment secret, and
  // the policy comes first, the credential second (docs/reconciler.md, "The enrolment
  // credential"). No credential, no command: the instances could not register.
  if (toSend.length > 0) {
    try {
      const excluded = new Set(
        await ctx.allowRead(
          toSend.map((t) => t.instanceId),
          flying ? [...flying.keys()] : undefined,
        ),
      );
      if (excluded.size > 0) {
        defer(
          toSend.filter((t) => excluded.has(t.instanceId)),
          'not sent: the enrolment secret policy is full (next run)',
        );
        toSend = toSend.filter((t) => !excluded.has(t.instanceId));
      }
    } catch (e) {
      for (const t of toSend) {
        outcomes.set(t, 'failed');
        ctx.failed.push(problem(t, `enrolment policy: ${errorName(e)}: ${errorMessage(e)}`));
      }
      toSend = [];
    }
  }
  if (toSend.length > 0) {
    try {
      await ctx.ensureCredential();
    } catch (e) {
      for (const t of toSend) {
        outcomes.set(t, 'failed');
        ctx.failed.push(problem(t, `enrolment credential: ${errorName(e)}: ${errorMessage(e)}`));
      }
      toSend = [];
    }
  }
  let lastSendAt = ctx.now();
  const send = async (batch: EnrolTarget[]): Promise<void> => {
    if (nearDeadline()) return defer(batch, 'not sent: Lambda deadline near');
    try {
      const script = renderInstallScript({
        pmmServerAddress: ctx.cfg.pmmServerAddress,
        pmmCaCertificate: ctx.pmmCaCertificate,
        enrolmentSecretArn: ctx.cfg.enrolmentSecretArn,
        managedBy: ASG_MANAGER,
        targets: batch,
      });
      const commandId = await aws.sendCommand(
        batch.map((t) => t.instanceId),
        script,
        `${COMMAND_COMMENT} ${batch.length} instance(s)`,
        o.executionTimeoutSeconds,
      );
      lastSendAt = ctx.now();
      for (const target of batch) {
        sent.push({ target, commandId, followed: false });
        ctx.onSent?.(target.instanceId, lastSendAt);
      }
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
        if (errorName(e) === 'InvalidInstanceId' && young(t)) {
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
  const young = (t: EnrolTarget) =>
    t.launchTime !== undefined && ctx.now() - t.launchTime.getTime() < o.ssmGraceMs;

  // ---- send, waiting (bounded) for young instances SSM does not report online yet ----
  const waitUntil = ctx.now() + o.ssmWaitMs;
  let pending = toSend;
  while (pending.length > 0) {
    if (nearDeadline()) {
      defer(pending, 'not sent: Lambda deadline near');
      break;
    }
    const check = pending.filter(young);
    const online = check.length > 0 ? await aws.ssmOnline(check.map((t) => t.instanceId)) : null;
    const ready = pending.filter((t) => !young(t) || !online || online.has(t.instanceId));
    pending = pending.filter((t) => !ready.includes(t));
    if (ready.length > 0) await mapLimit(chunk(ready, o.batchSize), 4, send);
    if (pending.length === 0) break;
    if (ctx.now() + o.ssmPollMs > waitUntil || ctx.remainingMs() - o.ssmPollMs <= margin) {
      defer(pending, 'SSM agent not registered yet');
      break;
    }
    await ctx.sleep(o.ssmPollMs);
  }

  // ---- poll ----
  const deadline = Math.min(
    ctx.now() + Math.max(0, ctx.remainingMs() - margin),
    lastSendAt + o.installWaitMs,
  );
  let waiting = sent;
  if (waiting.length > 0) {
    await ctx.sleep(Math.min(o.firstPollDelayMs, Math.max(0, deadline - ctx.now())));
  }
  while (waiting.length > 0) {
    const still: Sent[] = [];
    await mapLimit(waiting, o.concurrency, async (s) => {
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
        // Right after SendCommand the invocation may not exist yet: keep polling. A poll not
        // made because the deadline is near says nothing about the install: still running.
        if (errorName(e) === 'InvocationDoesNotExist' || e instanceof AwsDeadlineError)
          still.push(s);
        else {
          outcomes.set(s.target, 'failed');
          ctx.failed.push(problem(s.target, `GetCommandInvocation: ${errorMessage(e)}`));
        }
      }
    });
    waiting = still;
    if (waiting.length === 0) break;
    if (ctx.now() + o.pollIntervalMs >= deadline || ctx.remainingMs() <= margin) {
      for (const s of waiting) {
        outcomes.set(s.target, 'running');
        const by = s.followed ? ', sent by an earlier run' : '';
        ctx.skipped.push(problem(s.target, `install still running (command ${s.commandId}${by})`));
      }
      break;
    }
    await ctx.sleep(o.pollIntervalMs);
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
