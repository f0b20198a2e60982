import { AwsClients, AwsIo } from './aws';
import { ReconcilerConfig } from './config';
import { decide, EnrolTarget, ownedInstance, Plan, Problem, Retirement } from './decide';
import { CredentialSource, EnrolmentAccess, SettleResult } from './enrolment';
import { accountOf } from './enrolment-policy';
import { trackMissing } from './grace';
import { COMMAND_COMMENT, InstallTunables, Outcome, problem, runInstall } from './install';
import { PmmApi, PmmRequestError } from './pmm-api';
import { readPmmCa } from './pmm-ca';
import { Redactor } from './redact';
import { report } from './report';
import { readState, writeState } from './state';
import { PmmService } from './types';
import { errorMessage, errorName, mapLimit, sleep as realSleep } from './util';
import { isLeaving } from './decide';

/** What started the run. */
export type Trigger = 'schedule' | 'event';

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
   * No PMM request, removal or SendCommand starts, and polling stops, when the Lambda has
   * this much time left (the summary is always logged). @default 30000
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
  /** Longest wait within a run for young instances to come online in SSM. @default 90000 */
  readonly ssmWaitMs?: number;
  /** Between SSM online checks while waiting. @default 5000 */
  readonly ssmPollMs?: number;
  /**
   * How long a run polls installs after its last send; the rest is followed by the next run.
   * @default unbounded for scheduled runs (until the deadline), 20000 for event runs
   */
  readonly installWaitMs?: number;
  /** A monitored ASG missing this long is treated as deleted. @default 21600000 (6 h) */
  readonly missingGraceMs?: number;
  /** PMM API per-attempt timeout. @default 10000 */
  readonly pmmTimeoutMs?: number;
  /** PMM API retries on 5xx/timeouts. @default 3 */
  readonly pmmRetries?: number;
  /** First PMM/AWS backoff delay. @default 500 */
  readonly backoffBaseMs?: number;
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
  /** @default setTimeout-based (the benchmark passes a simulated clock's). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 'schedule' */
  readonly trigger?: Trigger;
  /** Called once per instance when its SendCommand was accepted. */
  readonly onSent?: (instanceId: string, atMs: number) => void;
}

export interface MissingAsg {
  readonly asgName: string;
  /** ISO time it was first seen missing (this run's time when the state is unknown). */
  readonly since: string;
  /** ISO time its marked services may be removed; null when the state could not be read. */
  readonly removeAfter: string | null;
  readonly expired: boolean;
}

export interface Summary {
  readonly trigger: Trigger;
  /** Instances whose registration this run confirmed in PMM. */
  readonly added: string[];
  readonly removed: string[];
  readonly failed: Problem[];
  readonly skipped: Problem[];
  readonly healthy: number;
  readonly foreignServices: number;
  /** Services under a monitored prefix the reconciler did not create (never removed). */
  readonly foreignInMonitored: number;
  readonly missingAsgs: MissingAsg[];
  readonly sendCommandCalls: number;
  readonly awsCalls: Record<string, number>;
  readonly pmmRequests: number;
  /** Whether this run issued or reused the enrolment credential; undefined when it sent nothing. */
  readonly enrolmentCredential?: CredentialSource;
  /**
   * What the end of the run did with the credential: revoked (no install in flight), kept
   * (installs in flight), deferred (deadline near), unknown (ListCommands failed); undefined
   * in a steady state.
   */
  readonly enrolmentAccess?: SettleResult;
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

/** One reconcile run: decide, retire, enrol, confirm, report. Never stops at the first error. */
export async function reconcile(deps: ReconcileDeps): Promise<Summary> {
  const o = deps.options ?? {};
  const redactor = new Redactor();
  const log = redactor.wrap(deps.log ?? ((e) => console.log(JSON.stringify(e))));
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? realSleep;
  const trigger = deps.trigger ?? 'schedule';
  const started = now();
  const concurrency = o.concurrency ?? 10;
  const backoffBaseMs = o.backoffBaseMs ?? 500;
  const margin = o.deadlineMarginMs ?? 30_000;
  // Every AWS and PMM call within the time the Lambda has left, minus the summary's margin.
  const budgetMs = () => deps.remainingMs() - margin;
  const aws = new AwsIo(deps.clients, {
    throttleAttempts: 5,
    throttleBaseMs: backoffBaseMs,
    concurrency,
    budgetMs,
  });
  const cfg = deps.config;
  const failed: Problem[] = [];
  const skipped: Problem[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  const missingAsgs: MissingAsg[] = [];
  let pmm: PmmApi | undefined;
  let plan: Plan | undefined;
  let access: EnrolmentAccess | undefined;
  let settled: SettleResult | undefined;
  /** Instances whose install this run left running (ListCommands may not list it yet). */
  const pendingInstalls = new Set<string>();
  const deferredOrFailed = (target: EnrolTarget, what: string, e: unknown) => {
    if (e instanceof PmmRequestError && e.kind === 'deadline') {
      skipped.push(problem(target, `${what}: deferred, Lambda deadline near`));
    } else failed.push(problem(target, `${what}: ${errorMessage(e)}`));
  };

  const summary = (): Summary => ({
    trigger,
    added,
    removed,
    failed,
    skipped,
    healthy: plan?.healthy.length ?? 0,
    foreignServices: plan?.foreignServices ?? 0,
    foreignInMonitored: plan?.foreignInMonitored ?? 0,
    missingAsgs,
    sendCommandCalls: aws.calls.SendCommand ?? 0,
    awsCalls: { ...aws.calls },
    pmmRequests: pmm?.requests ?? 0,
    enrolmentCredential: access?.source,
    enrolmentAccess: settled,
    durationMs: now() - started,
  });

  try {
    // ---- gather: the admin credential, ASG membership, PMM services and state (once) ----
    // PMM's CA first: until the host has published it, no credential is read or sent.
    const certificateAuthority = await readPmmCa(aws, cfg.caParameterName);
    const password = await aws.secretString(cfg.adminSecretArn);
    redactor.add(password);
    // PMM as one user: the admin, or the enrolment user (to check its stored password).
    const pmmAs = (username: string, pw: string) =>
      new PmmApi({
        baseUrl: cfg.pmmApiUrl,
        certificateAuthority,
        username,
        password: pw,
        requestTimeoutMs: o.pmmTimeoutMs,
        retries: o.pmmRetries,
        backoffBaseMs,
        budgetMs,
        redactor,
      });
    pmm = pmmAs('admin', password);
    const executionTimeoutSeconds = o.executionTimeoutSeconds ?? 1200;
    access = new EnrolmentAccess({
      pmm,
      pmmAs,
      aws,
      secretArn: cfg.enrolmentSecretArn,
      policy: {
        reconcilerRoleArn: cfg.reconcilerRoleArn,
        readerArns: cfg.secretReaderArns,
        accountId: accountOf(cfg.enrolmentSecretArn),
      },
      now,
      log,
      redactor,
      commandComment: COMMAND_COMMENT,
      // An install can be delivered for SendCommand's TimeoutSeconds (600) and then run for
      // executionTimeout: the same look-back as the follow-up of earlier runs' installs.
      lookBackMs: (executionTimeoutSeconds + 600) * 1000,
    });
    const names = cfg.asgs.map((a) => a.asgName);
    const [listing, services, state] = await Promise.all([
      aws.asgMembership(names),
      pmm.listServices(),
      readState(aws, cfg.stateParameterName),
      access.load(),
    ]);
    const { membership } = listing;

    // ---- missing is not empty: report every run, remove only after the grace period ----
    const graceMs = o.missingGraceMs ?? cfg.missingGraceMs;
    const unknown = names.filter((n) => membership.has(n) && membership.get(n) === undefined);
    const grace = trackMissing(
      state.ok ? state.missingSince : undefined,
      { missing: listing.missing, unknown },
      now(),
      graceMs,
    );
    if (!state.ok) {
      failed.push({ asgName: '*', reason: `reading the reconciler state: ${state.error}` });
    }
    for (const asgName of listing.missing) {
      const since = grace.since.get(asgName)!;
      const expired = grace.expired.has(asgName);
      const entry: MissingAsg = {
        asgName,
        since: new Date(since).toISOString(),
        removeAfter: state.ok ? new Date(since + graceMs).toISOString() : null,
        expired,
      };
      missingAsgs.push(entry);
      const reason = expired
        ? `Auto Scaling Group not found since ${entry.since}; grace period over, removing its marked services`
        : `Auto Scaling Group not found since ${entry.since}; nothing of it is removed before ${entry.removeAfter ?? 'the state can be read'}`;
      failed.push({ asgName, reason });
      log({ level: 'warn', message: 'monitored Auto Scaling Group missing', ...entry });
    }
    if (grace.changed && grace.next !== undefined) {
      try {
        await writeState(aws, cfg.stateParameterName, grace.next);
      } catch (e) {
        failed.push({
          asgName: '*',
          reason: `writing the reconciler state: ${errorName(e)}: ${errorMessage(e)}`,
        });
      }
    }

    // One lookup group per ASG: a failed DescribeInstances affects only that ASG.
    const present = [...membership.values()].map((list) =>
      (list ?? []).filter((i) => !isLeaving(i.lifecycleState)).map((i) => i.instanceId),
    );
    const details = await aws.instanceDetails(present);
    for (const err of aws.lastErrors) log({ level: 'warn', message: err });

    plan = decide({
      asgs: cfg.asgs,
      membership,
      details,
      services,
      missingAsgs: new Set(listing.missing.filter((n) => !grace.expired.has(n))),
      expiredAsgs: grace.expired,
    });
    failed.push(...plan.failed);
    skipped.push(...plan.skipped);

    // ---- retire first, so a replacement instance can take over a stale name ----
    // A hanging PMM must not eat the whole invocation: no removal starts once the time left
    // is below the margin plus what enrolment needs; the rest waits for the next run.
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
    // The policy and the credential are dealt with once per run, and only when something is
    // to be sent (a steady-state run makes no Grafana, PutSecretValue or policy write).
    const enrolment = access;
    const tunables: InstallTunables = {
      batchSize: o.batchSize ?? 50,
      concurrency,
      firstPollDelayMs: o.firstPollDelayMs ?? 3000,
      pollIntervalMs: o.pollIntervalMs ?? 5000,
      deadlineMarginMs: margin,
      executionTimeoutSeconds,
      ssmGraceMs: o.ssmGraceMs ?? 900_000,
      ssmWaitMs: o.ssmWaitMs ?? 90_000,
      ssmPollMs: o.ssmPollMs ?? 5000,
      installWaitMs: o.installWaitMs ?? (trigger === 'event' ? 20_000 : Number.POSITIVE_INFINITY),
    };
    const enrol = async (targets: EnrolTarget[]) => {
      const outcomes = await runInstall(targets, {
        aws,
        cfg,
        pmmCaCertificate: certificateAuthority,
        t: tunables,
        remainingMs: deps.remainingMs,
        now,
        sleep,
        failed,
        skipped,
        allowRead: (ids, inFlight) => enrolment.allow(ids, inFlight),
        ensureCredential: () => enrolment.ensureCredential(),
        onSent: deps.onSent,
      });
      for (const [t, outcome] of outcomes) {
        if (outcome === 'running') pendingInstalls.add(t.instanceId);
        else pendingInstalls.delete(t.instanceId);
      }
      return outcomes;
    };

    // Honest counts: an install that exited 0 counts as added only once PMM lists a service
    // of that name marked with that instance. One listing confirms a whole round.
    const confirm = async (outcomes: Map<EnrolTarget, Outcome>) => {
      const done = [...outcomes].filter(([, v]) => v === 'enrolled' || v === 'already-exists');
      if (done.length === 0) return { blocked: [] as EnrolTarget[], current: undefined };
      let current: PmmService[] | undefined;
      try {
        current = await pmm!.listServices();
      } catch (e) {
        for (const [t] of done) deferredOrFailed(t, 'confirming the registration in PMM', e);
        return { blocked: [] as EnrolTarget[], current: undefined };
      }
      const blocked: EnrolTarget[] = [];
      for (const [t, outcome] of done) {
        const mine = current.some(
          (s) => s.serviceName === t.serviceName && ownedInstance(s) === t.instanceId,
        );
        if (mine) added.push(t.serviceName);
        else if (outcome === 'already-exists') blocked.push(t);
        else {
          failed.push(
            problem(t, `install exited 0 but PMM lists no service ${t.serviceName} for it`),
          );
        }
      }
      return { blocked, current };
    };

    const first = await confirm(await enrol(plan.enrol));
    const retry: EnrolTarget[] = [];
    // A service of that name (from an earlier registration) blocks the add. The listing
    // just taken is current: remove the stale service when it is ours, never when it is not.
    for (const target of first.blocked) {
      const holders = first.current!.filter((s) => s.serviceName === target.serviceName);
      if (holders.some((s) => ownedInstance(s) === undefined)) {
        failed.push(
          problem(
            target,
            `service name ${target.serviceName} is held by a service the reconciler did not create`,
          ),
        );
        continue;
      }
      try {
        for (const s of holders) await pmm.removeService(s.serviceId);
        if (holders.length > 0) removed.push(target.serviceName);
        retry.push(target);
      } catch (e) {
        deferredOrFailed(target, 'removing the stale service', e);
      }
    }
    if (retry.length > 0) {
      const second = await confirm(await enrol(retry));
      for (const target of second.blocked) {
        failed.push(problem(target, 'service still exists after removing the stale one'));
      }
    }
  } catch (e) {
    failed.push({ asgName: '*', reason: `${errorName(e)}: ${errorMessage(e)}` });
  }

  // ---- the enrolment credential: revoked once no install is in flight ----
  // Also after a run that failed half-way: whatever it issued or allowed is looked at.
  if (access && pmm) {
    try {
      settled = await access.settle([...pendingInstalls], () => deps.remainingMs() <= margin);
    } catch (e) {
      failed.push({
        asgName: '*',
        reason: `revoking the enrolment credential: ${errorName(e)}: ${errorMessage(e)}`,
      });
    }
  }

  const s = redactor.redactValue(summary());
  report(s, log);
  if (s.failed.length > 0) throw new ReconcileError(s);
  return s;
}

async function retire(pmm: PmmApi, r: Retirement): Promise<void> {
  if (r.kind === 'node') await pmm.removeNode(r.nodeId);
  else await pmm.removeService(r.serviceId);
}
