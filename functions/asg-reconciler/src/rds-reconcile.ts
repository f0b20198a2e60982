import { RDSClient } from '@aws-sdk/client-rds';
import { AwsClients, AwsIo } from './aws';
import { trackMissing } from './grace';
import { PmmApi, PmmRequestError } from './pmm-api';
import { discoverRds } from './rds-aws';
import {
  decideRds,
  missingRdsInputs,
  ownedRds,
  RdsPlan,
  RdsProblem,
  RdsTarget,
} from './rds-decide';
import { readPmmCa } from './pmm-ca';
import { RdsPmmApi } from './rds-pmm';
import { RdsInput } from './rds-types';
import { Redactor } from './redact';
import { readState, writeState } from './state';
import { PmmService } from './types';
import { errorMessage, errorName, mapLimit } from './util';

/** Settings of the RDS phase (from the Lambda environment; no secret values). */
export interface RdsPhaseConfig {
  readonly inputs: readonly RdsInput[];
  /** PMM API over TLS (`https://<PMM private IP>:443`), verified against PMM's CA. */
  readonly pmmApiUrl: string;
  /** SSM parameter holding the PEM of PMM's private CA (pmm-ca.ts). */
  readonly caParameterName: string;
  readonly adminSecretArn: string;
  /** SSM parameter of the RDS phase's missing-input clocks (its own: the ASG phase rewrites its). */
  readonly stateParameterName: string;
  readonly missingGraceMs: number;
  /** Region of the Lambda (RDS instances are looked up there). */
  readonly region: string;
}

export interface RdsPhaseOptions {
  readonly concurrency?: number;
  readonly deadlineMarginMs?: number;
  readonly pmmTimeoutMs?: number;
  readonly pmmRetries?: number;
  readonly backoffBaseMs?: number;
}

export interface RdsPhaseDeps {
  readonly config: RdsPhaseConfig;
  readonly clients: AwsClients & { readonly rds: RDSClient };
  readonly remainingMs: () => number;
  readonly options?: RdsPhaseOptions;
  readonly log?: (entry: Record<string, unknown>) => void;
  readonly now?: () => number;
}

export interface MissingRds {
  readonly identifier: string;
  readonly since: string;
  readonly removeAfter: string | null;
  readonly expired: boolean;
}

export interface RdsSummary {
  /** Services whose registration this run confirmed in PMM (new or re-registered). */
  readonly added: string[];
  readonly reregistered: string[];
  readonly removed: string[];
  readonly unchanged: number;
  readonly kept: string[];
  readonly foreign: number;
  readonly missing: MissingRds[];
  readonly failed: RdsProblem[];
  readonly skipped: RdsProblem[];
  readonly awsCalls: Record<string, number>;
  readonly pmmRequests: number;
  readonly durationMs: number;
}

export class RdsReconcileError extends Error {
  constructor(public readonly summary: RdsSummary) {
    super(
      `RDS reconcile finished with ${summary.failed.length} failure(s): ` +
        summary.failed
          .slice(0, 5)
          .map((f) => `${f.identifier}: ${f.reason}`)
          .join('; '),
    );
    this.name = 'RdsReconcileError';
  }
}

/**
 * One RDS run: discover, decide, remove, (re-)register, confirm, report. DB passwords are
 * read from Secrets Manager here, added to the redactor before use, and sent to PMM over
 * TLS only; every log line, error and the summary go through the redactor.
 */
export async function reconcileRds(deps: RdsPhaseDeps): Promise<RdsSummary> {
  const o = deps.options ?? {};
  const cfg = deps.config;
  const redactor = new Redactor();
  const log = redactor.wrap(deps.log ?? ((e) => console.log(JSON.stringify(e))));
  const now = deps.now ?? Date.now;
  const started = now();
  const concurrency = o.concurrency ?? 10;
  const margin = o.deadlineMarginMs ?? 30_000;
  const backoffBaseMs = o.backoffBaseMs ?? 500;
  // Every AWS and PMM call within the time the Lambda has left (minus the margin for the
  // summary): a hanging API fails its identifiers, never the whole invocation.
  const budgetMs = () => deps.remainingMs() - margin;
  const aws = new AwsIo(deps.clients, {
    throttleAttempts: 5,
    throttleBaseMs: backoffBaseMs,
    concurrency,
    budgetMs,
  });
  const failed: RdsProblem[] = [];
  const skipped: RdsProblem[] = [];
  const added: string[] = [];
  const reregistered: string[] = [];
  const removed: string[] = [];
  const missing: MissingRds[] = [];
  let rdsCalls: Record<string, number> = {};
  let plan: RdsPlan | undefined;
  let pmm: PmmApi | undefined;
  let tls: RdsPmmApi | undefined;
  const late = () => deps.remainingMs() < margin;
  const fail = (identifier: string, what: string, e: unknown) => {
    if (e instanceof PmmRequestError && e.kind === 'deadline') {
      skipped.push({ identifier, reason: `${what}: deferred, Lambda deadline near` });
    } else failed.push({ identifier, reason: `${what}: ${errorMessage(e)}` });
  };

  try {
    // PMM's CA first: without it nothing, not even the admin password, is read or sent.
    const certificateAuthority = await readPmmCa(aws, cfg.caParameterName);
    const admin = await aws.secretString(cfg.adminSecretArn);
    redactor.add(admin);
    const transport = {
      username: 'admin',
      password: admin,
      requestTimeoutMs: o.pmmTimeoutMs,
      retries: o.pmmRetries,
      backoffBaseMs,
      budgetMs,
      redactor,
      baseUrl: cfg.pmmApiUrl,
      certificateAuthority,
    };
    pmm = new PmmApi(transport);
    tls = new RdsPmmApi(transport);
    const ids = cfg.inputs.map((i) => i.identifier);
    const [discovery, services, state] = await Promise.all([
      discoverRds(deps.clients.rds, ids, cfg.region, {
        concurrency,
        throttleAttempts: 5,
        throttleBaseMs: backoffBaseMs,
        budgetMs,
      }),
      pmm.listServices(),
      readState(aws, cfg.stateParameterName),
    ]);
    rdsCalls = discovery.calls;
    const { lookups } = discovery;
    for (const [id, l] of lookups) {
      if (l.state === 'unknown')
        failed.push({ identifier: id, reason: `RDS lookup failed: ${l.error}` });
    }

    // ---- missing is not empty: from AWS or from the input, removal only after the grace ----
    const seen = missingRdsInputs(cfg.inputs, lookups, services);
    const grace = trackMissing(
      state.ok ? state.missingSince : undefined,
      seen,
      now(),
      cfg.missingGraceMs,
    );
    if (!state.ok)
      failed.push({ identifier: '*', reason: `reading the RDS state: ${state.error}` });
    const listed = new Set(ids);
    for (const identifier of seen.missing) {
      const since = grace.since.get(identifier)!;
      const entry: MissingRds = {
        identifier,
        since: new Date(since).toISOString(),
        removeAfter: state.ok ? new Date(since + cfg.missingGraceMs).toISOString() : null,
        expired: grace.expired.has(identifier),
      };
      missing.push(entry);
      // Not found in AWS is a failure (the alarm fires); removed from the input is expected.
      if (listed.has(identifier)) {
        failed.push({
          identifier,
          reason: `RDS instance or cluster not found since ${entry.since}`,
        });
      }
      log({
        level: 'warn',
        message: listed.has(identifier)
          ? 'monitored RDS identifier missing'
          : 'RDS identifier no longer in monitored_rds',
        ...entry,
      });
    }
    if (grace.changed && grace.next !== undefined) {
      try {
        await writeState(aws, cfg.stateParameterName, grace.next);
      } catch (e) {
        failed.push({
          identifier: '*',
          reason: `writing the RDS state: ${errorName(e)}: ${errorMessage(e)}`,
        });
      }
    }

    plan = decideRds({ inputs: cfg.inputs, lookups, services, expired: grace.expired });
    failed.push(...plan.failed);
    skipped.push(...plan.skipped);

    // ---- removals: the node too when every service on it is ours ----
    const removeOne = async (s: PmmService, identifier: string) => {
      const onNode = services.filter((x) => x.nodeId === s.nodeId);
      const wholeNode = s.nodeId !== '' && onNode.every((x) => ownedRds(x) !== undefined);
      if (wholeNode) await pmm!.removeNode(s.nodeId);
      else await pmm!.removeService(s.serviceId);
      removed.push(s.serviceName);
      void identifier;
    };
    await mapLimit(plan.remove, concurrency, async (r) => {
      const id = ownedRds(r.service)?.inputId ?? '*';
      if (late())
        return void skipped.push({
          identifier: id,
          reason: `removing ${r.service.serviceName}: deferred, Lambda deadline near`,
        });
      try {
        await removeOne(r.service, id);
        log({
          level: 'info',
          message: 'removed RDS service',
          service: r.service.serviceName,
          reason: r.reason,
        });
      } catch (e) {
        fail(id, `removing ${r.service.serviceName}`, e);
      }
    });

    // ---- (re-)registrations: password from Secrets Manager, over TLS, never logged ----
    const passwords = new Map<string, Promise<string>>();
    const passwordOf = (arn: string) => {
      let p = passwords.get(arn);
      if (!p) {
        p = aws.secretString(arn).then((v) => {
          redactor.add(v);
          return v;
        });
        passwords.set(arn, p);
      }
      return p;
    };
    const sent: RdsTarget[] = [];
    const register = async (target: RdsTarget, old: PmmService[]) => {
      const id = target.input.identifier;
      if (late())
        return void skipped.push({
          identifier: id,
          reason: `registering ${target.serviceName}: deferred, Lambda deadline near`,
        });
      let password: string;
      try {
        password = await passwordOf(target.input.passwordSecretArn);
      } catch (e) {
        // The ARN is not secret; the error names only the ARN and the AWS error.
        return void failed.push({
          identifier: id,
          reason: `reading the password secret ${target.input.passwordSecretArn}: ${errorName(e)}`,
        });
      }
      try {
        for (const s of old) await removeOne(s, id);
        await tls!.addRds(target, password);
        sent.push(target);
      } catch (e) {
        fail(id, `registering ${target.serviceName}`, e);
      }
    };
    const work = [
      ...plan.register.map((t) => ({ t, old: [] as PmmService[] })),
      ...plan.replace.map((r) => ({ t: r.target, old: r.old })),
    ];
    await mapLimit(work, concurrency, ({ t, old }) => register(t, old));

    // ---- honest counts: confirmed in a fresh listing ----
    if (sent.length > 0) {
      try {
        const current = await pmm.listServices();
        const replacing = new Set(plan.replace.map((r) => r.target.serviceName));
        for (const t of sent) {
          const ok = current.some(
            (s) =>
              s.serviceName === t.serviceName && ownedRds(s)?.instanceId === t.instance.instanceId,
          );
          if (!ok)
            failed.push({
              identifier: t.input.identifier,
              reason: `PMM accepted ${t.serviceName} but does not list it`,
            });
          else if (replacing.has(t.serviceName)) reregistered.push(t.serviceName);
          else added.push(t.serviceName);
        }
      } catch (e) {
        for (const t of sent) fail(t.input.identifier, `confirming ${t.serviceName} in PMM`, e);
      }
    }
  } catch (e) {
    failed.push({ identifier: '*', reason: `${errorName(e)}: ${errorMessage(e)}` });
  }

  const summary: RdsSummary = redactor.redactValue({
    added,
    reregistered,
    removed,
    unchanged: plan?.unchanged.length ?? 0,
    kept: plan?.kept ?? [],
    foreign: plan?.foreign ?? 0,
    missing,
    failed,
    skipped,
    awsCalls: { ...aws.calls, ...rdsCalls },
    pmmRequests: (pmm?.requests ?? 0) + (tls?.requests ?? 0),
    durationMs: now() - started,
  });
  log({
    level: summary.failed.length > 0 ? 'error' : 'info',
    message: 'rds reconcile summary',
    ...summary,
  });
  log({
    _aws: {
      Timestamp: now(),
      CloudWatchMetrics: [
        {
          Namespace: 'PMM/Reconciler',
          Dimensions: [[]],
          Metrics: [
            { Name: 'RdsAdded', Unit: 'Count' },
            { Name: 'RdsRemoved', Unit: 'Count' },
            { Name: 'RdsFailures', Unit: 'Count' },
            { Name: 'RdsMissing', Unit: 'Count' },
          ],
        },
      ],
    },
    RdsAdded: summary.added.length + summary.reregistered.length,
    RdsRemoved: summary.removed.length,
    RdsFailures: summary.failed.length,
    RdsMissing: summary.missing.length,
  });
  if (summary.failed.length > 0) throw new RdsReconcileError(summary);
  return summary;
}
