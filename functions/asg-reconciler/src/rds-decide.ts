import { createHash } from 'node:crypto';
import { markerLabels, ownershipOf, OwnershipMarker } from './ownership';
import { familyOf, RdsInput, RdsInstance, RdsLookup } from './rds-types';
import { PmmService } from './types';

/**
 * Ownership of RDS registrations: `managed_by=pmm-rds-reconciler` and
 * `aws_rds_instance=<DB instance identifier>` (ownership.ts). No legacy rule: nothing was
 * registered by a reconciler before this marker existed.
 */
export const RDS_MARKER: OwnershipMarker = {
  manager: 'pmm-rds-reconciler',
  resourceLabel: 'aws_rds_instance',
};
/** The `monitored_rds` identifier a registration came from (the instance or its cluster). */
export const RDS_INPUT_LABEL = 'aws_rds_input';
/** Hash of what the registration was made from: a different value means re-register. */
export const RDS_FINGERPRINT_LABEL = 'rds_fingerprint';

/** `rds/<DB instance identifier>`: the service and node name in PMM. */
export const rdsServiceName = (instanceId: string): string => `rds/${instanceId}`;

export interface RdsTarget {
  readonly input: RdsInput;
  readonly instance: RdsInstance & { readonly address: string; readonly port: number };
  readonly serviceName: string;
  /** Every custom label to register with (the user's plus the marker and fingerprint). */
  readonly labels: Record<string, string>;
}

export interface RdsRemoval {
  readonly service: PmmService;
  readonly reason: string;
}

export interface RdsProblem {
  readonly identifier: string;
  readonly reason: string;
}

export interface RdsPlan {
  readonly register: RdsTarget[];
  /** Registered from other data (endpoint, engine version, settings): remove, then add. */
  readonly replace: { readonly target: RdsTarget; readonly old: PmmService[] }[];
  readonly remove: RdsRemoval[];
  readonly unchanged: string[];
  /** Our services kept although their input is missing or unknown (grace rule). */
  readonly kept: string[];
  /** Services named `rds/...` the reconciler did not create (never touched). */
  readonly foreign: number;
  readonly failed: RdsProblem[];
  readonly skipped: RdsProblem[];
}

export interface RdsDecisionInput {
  readonly inputs: readonly RdsInput[];
  readonly lookups: ReadonlyMap<string, RdsLookup>;
  readonly services: readonly PmmService[];
  /** Input identifiers (missing from AWS or from the input) whose grace period is over. */
  readonly expired: ReadonlySet<string>;
}

/** The fingerprint of a registration: endpoint, engine version and the input's settings. */
export function fingerprint(input: RdsInput, instance: RdsInstance, port: number): string {
  const basis = JSON.stringify([
    instance.address,
    port,
    instance.engine,
    instance.engineVersion,
    instance.clusterId ?? '',
    instance.enhancedMonitoring,
    input.username,
    input.passwordSecretArn,
    input.querySource,
    Object.entries(input.customLabels).sort(([a], [b]) => a.localeCompare(b)),
  ]);
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

/** The `monitored_rds` identifier and instance of one of our services; undefined = not ours. */
export function ownedRds(s: PmmService): { instanceId: string; inputId: string } | undefined {
  const o = ownershipOf(s.customLabels, RDS_MARKER);
  if (o.owner !== 'ours') return undefined;
  return { instanceId: o.resourceId, inputId: s.customLabels[RDS_INPUT_LABEL] ?? '' };
}

/**
 * Pure decision of one RDS run. New instance: register. Registered from the same data:
 * unchanged. Different fingerprint: replace. Our service whose instance a successful read
 * no longer lists under its (found) input: remove. Input missing from AWS or from the
 * list: keep until `expired` says the grace period is over, then remove. Input unknown
 * (failed read): keep. Services the reconciler did not create: never touched.
 */
export function decideRds(d: RdsDecisionInput): RdsPlan {
  const plan: { -readonly [K in keyof RdsPlan]: RdsPlan[K] } = {
    register: [],
    replace: [],
    remove: [],
    unchanged: [],
    kept: [],
    foreign: 0,
    failed: [],
    skipped: [],
  };
  const byName = new Map<string, PmmService[]>();
  for (const s of d.services) {
    byName.set(s.serviceName, [...(byName.get(s.serviceName) ?? []), s]);
    if (s.serviceName.startsWith('rds/') && ownedRds(s) === undefined) plan.foreign++;
  }
  const configured = new Map(d.inputs.map((i) => [i.identifier, i]));
  const wanted = new Set<string>();

  for (const input of d.inputs) {
    const lookup = d.lookups.get(input.identifier);
    if (lookup?.state !== 'found') continue;
    for (const instance of lookup.instances) {
      const serviceName = rdsServiceName(instance.instanceId);
      if (wanted.has(instance.instanceId)) {
        plan.skipped.push({
          identifier: input.identifier,
          reason: `${instance.instanceId} is already covered by another monitored_rds entry`,
        });
        continue;
      }
      wanted.add(instance.instanceId);
      const family = familyOf(instance.engine);
      if (family !== input.engine) {
        plan.failed.push({
          identifier: input.identifier,
          reason: `${instance.instanceId} runs engine ${instance.engine}, not ${input.engine}; not registered`,
        });
        continue;
      }
      const port = input.port ?? instance.port;
      if (instance.address === undefined || port === undefined) {
        plan.skipped.push({
          identifier: input.identifier,
          reason: `${instance.instanceId} has no endpoint yet`,
        });
        continue;
      }
      const target: RdsTarget = {
        input,
        instance: { ...instance, address: instance.address, port },
        serviceName,
        labels: {
          ...input.customLabels,
          ...markerLabels(RDS_MARKER, instance.instanceId),
          [RDS_INPUT_LABEL]: input.identifier,
          [RDS_FINGERPRINT_LABEL]: fingerprint(input, instance, port),
        },
      };
      const holders = byName.get(serviceName) ?? [];
      if (holders.some((s) => ownedRds(s)?.instanceId !== instance.instanceId)) {
        plan.failed.push({
          identifier: input.identifier,
          reason: `service name ${serviceName} is held by a service the reconciler did not create`,
        });
        continue;
      }
      if (holders.length === 0) plan.register.push(target);
      else if (
        holders.length === 1 &&
        holders[0].customLabels[RDS_FINGERPRINT_LABEL] === target.labels[RDS_FINGERPRINT_LABEL]
      ) {
        plan.unchanged.push(serviceName);
      } else plan.replace.push({ target, old: holders });
    }
  }

  for (const s of d.services) {
    const mine = ownedRds(s);
    if (mine === undefined || wanted.has(mine.instanceId)) continue;
    const input = configured.get(mine.inputId);
    const lookup = input ? d.lookups.get(input.identifier) : undefined;
    if (input && lookup?.state === 'found') {
      if (lookup.instances.some((i) => i.instanceId === mine.instanceId)) {
        // Still there but not registrable this run (no endpoint, engine mismatch, name held).
        plan.kept.push(s.serviceName);
        continue;
      }
      plan.remove.push({
        service: s,
        reason: `${mine.instanceId} is no longer part of ${mine.inputId}`,
      });
    } else if ((!input || lookup?.state === 'missing') && d.expired.has(mine.inputId)) {
      plan.remove.push({
        service: s,
        reason: input
          ? `${mine.inputId} missing from AWS past the grace period`
          : `${mine.inputId} removed from monitored_rds past the grace period`,
      });
    } else plan.kept.push(s.serviceName);
  }
  return plan;
}

/**
 * Input identifiers for the grace clock: those a successful read did not find, and those
 * our services name that are no longer listed in `monitored_rds`.
 */
export function missingRdsInputs(
  inputs: readonly RdsInput[],
  lookups: ReadonlyMap<string, RdsLookup>,
  services: readonly PmmService[],
): { missing: string[]; unknown: string[] } {
  const listed = new Set(inputs.map((i) => i.identifier));
  const missing = new Set(
    inputs.filter((i) => lookups.get(i.identifier)?.state === 'missing').map((i) => i.identifier),
  );
  for (const s of services) {
    const inputId = ownedRds(s)?.inputId;
    if (inputId && !listed.has(inputId)) missing.add(inputId);
  }
  const unknown = inputs
    .filter((i) => (lookups.get(i.identifier)?.state ?? 'unknown') === 'unknown')
    .map((i) => i.identifier);
  return { missing: [...missing], unknown };
}
