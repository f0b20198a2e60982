import { ownershipOf, OwnershipMarker } from './ownership';
import {
  AsgConfig,
  AsgInstance,
  INSTANCE_ID_LABEL,
  InstanceDetails,
  PMM_AGENT_TYPE,
  PmmService,
} from './types';

/**
 * Pure reconcile decisions: what to enrol, what to retire, what to leave alone. No I/O here;
 * everything the decision needs is passed in.
 */
export interface DecisionInput {
  readonly asgs: readonly AsgConfig[];
  /** Instances per ASG name; `undefined` when listing that ASG failed (its services are protected). */
  readonly membership: ReadonlyMap<string, readonly AsgInstance[] | undefined>;
  /** EC2 details by instance ID; a missing entry means the lookup failed. */
  readonly details: ReadonlyMap<string, InstanceDetails>;
  /** Every PMM service (listed once per run). */
  readonly services: readonly PmmService[];
  /**
   * Monitored ASGs DescribeAutoScalingGroups did not return, still within their grace
   * period: nothing of theirs is removed (missing is not empty).
   */
  readonly missingAsgs?: ReadonlySet<string>;
  /** Missing ASGs whose grace period is over: treated as empty (their marked services go). */
  readonly expiredAsgs?: ReadonlySet<string>;
}

/** `managed_by` value of what the ASG reconciler registers. */
export const ASG_MANAGER = 'pmm-asg-reconciler';

/**
 * The ASG reconciler's marker. Migration rule: a service registered by an earlier version
 * (which labelled what it added with `aws_instance_id` only, never `managed_by`) is ours when
 * it has no `managed_by` label and an `aws_instance_id` of EC2's `i-<hex>` form; decide()
 * considers services under a monitored `{asg_name}/` prefix only. A service without
 * `aws_instance_id` is foreign.
 */
export const ASG_MARKER: OwnershipMarker = {
  manager: ASG_MANAGER,
  resourceLabel: INSTANCE_ID_LABEL,
  isLegacy: (labels) => /^i-[0-9a-f]+$/.test(labels[INSTANCE_ID_LABEL] ?? ''),
};

/** An InService instance that has no PMM service yet. */
export interface EnrolTarget {
  readonly instanceId: string;
  readonly asgName: string;
  readonly serviceName: string;
  readonly nodeAddress: string;
  readonly port: number;
  readonly username: string;
  readonly passwordSecretArn: string | null;
  readonly launchTime?: Date;
  /** Registered, but PMM reports its pmm-agent disconnected: the (idempotent) install re-runs. */
  readonly reenrol?: boolean;
}

/** Remove a whole PMM node (its agents, services and service account) or a single service. */
export type Retirement =
  | { readonly kind: 'node'; readonly nodeId: string; readonly serviceNames: readonly string[] }
  | { readonly kind: 'service'; readonly serviceId: string; readonly serviceName: string };

export interface Problem {
  readonly asgName: string;
  readonly instanceId?: string;
  readonly reason: string;
}

export interface Plan {
  readonly enrol: EnrolTarget[];
  readonly retire: Retirement[];
  /** Service names of registered, InService instances (left alone). */
  readonly healthy: string[];
  /** Instances deliberately not touched this run (pending, standby, ...). */
  readonly skipped: Problem[];
  /** Things that could not be decided (the run reports them as failures). */
  readonly failed: Problem[];
  /** Services outside every monitored `{asg_name}/` prefix (never touched). */
  readonly foreignServices: number;
  /**
   * Services under a monitored `{asg_name}/` prefix that the reconciler did not create (no
   * marker): counted, never removed.
   */
  readonly foreignInMonitored: number;
}

/** Lifecycle states of instances that are leaving the group for good. */
export function isLeaving(lifecycleState: string): boolean {
  return lifecycleState.startsWith('Terminating') || lifecycleState === 'Terminated';
}

/**
 * The host name Ubuntu gives an instance: the first label of its private DNS name
 * (`ip-10-0-1-23.ec2.internal` -> `ip-10-0-1-23`), else derived from the private IP.
 */
export function hostnameOf(details: InstanceDetails | undefined): string | undefined {
  const dns = details?.privateDnsName?.split('.')[0];
  if (dns) return dns;
  if (details?.privateIp) return `ip-${details.privateIp.replace(/\./g, '-')}`;
  return undefined;
}

export function serviceNameFor(asgName: string, hostname: string): string {
  return `${asgName}/${hostname}`;
}

/** The monitored ASG a service name belongs to (`{asg_name}/{hostname}`), if any. */
export function owningAsg(serviceName: string, asgNames: ReadonlySet<string>): string | undefined {
  const slash = serviceName.indexOf('/');
  if (slash <= 0 || slash === serviceName.length - 1) return undefined;
  if (serviceName.indexOf('/', slash + 1) !== -1) return undefined;
  const asg = serviceName.slice(0, slash);
  return asgNames.has(asg) ? asg : undefined;
}

/**
 * Whether the node's pmm-agent of a service is connected to PMM: true/false when the listing
 * has a `pmm-agent` entry (a missing `is_connected` is false: proto3 JSON omits false),
 * undefined when PMM gave no agent information.
 */
export function agentConnected(service: PmmService): boolean | undefined {
  const agent = service.agents?.find((a) => a.agentType === PMM_AGENT_TYPE);
  if (agent === undefined) return undefined;
  return agent.isConnected === true;
}

/** The instance a service is the reconciler's registration for; undefined when foreign. */
export function ownedInstance(service: PmmService): string | undefined {
  const o = ownershipOf(service.customLabels, ASG_MARKER);
  return o.owner === 'ours' ? o.resourceId : undefined;
}

export function decide(input: DecisionInput): Plan {
  let foreignServices = 0;
  let foreignInMonitored = 0;
  const plan: Omit<Plan, 'foreignServices' | 'foreignInMonitored'> = {
    enrol: [],
    retire: [],
    healthy: [],
    skipped: [],
    failed: [],
  };
  const asgNames = new Set(input.asgs.map((a) => a.asgName));
  const byName = new Map<string, PmmService[]>();
  for (const s of input.services) {
    const list = byName.get(s.serviceName) ?? [];
    list.push(s);
    byName.set(s.serviceName, list);
  }

  /** Service IDs that must stay; ASGs whose membership is not fully known. */
  const keep = new Set<string>();
  const protectedAsgs = new Set<string>();

  for (const asg of input.asgs) {
    if (input.expiredAsgs?.has(asg.asgName)) continue; // gone for good: no instances
    if (input.missingAsgs?.has(asg.asgName)) {
      // Missing, within its grace period: retire nothing (reported by the caller).
      protectedAsgs.add(asg.asgName);
      continue;
    }
    const instances = input.membership.get(asg.asgName);
    if (instances === undefined) {
      protectedAsgs.add(asg.asgName);
      plan.failed.push({ asgName: asg.asgName, reason: 'could not list the Auto Scaling Group' });
      continue;
    }
    const claimed = new Map<string, string>();
    for (const inst of instances) {
      if (isLeaving(inst.lifecycleState)) continue;
      const details = input.details.get(inst.instanceId);
      const hostname = hostnameOf(details);
      const inService = inst.lifecycleState === 'InService';
      if (hostname === undefined) {
        // Without a name we cannot tell which service is this instance's: retire nothing here.
        protectedAsgs.add(asg.asgName);
        const problem = {
          asgName: asg.asgName,
          instanceId: inst.instanceId,
          reason: 'no EC2 details (private DNS name or IP)',
        };
        (inService ? plan.failed : plan.skipped).push(problem);
        continue;
      }
      const name = serviceNameFor(asg.asgName, hostname);
      const other = claimed.get(name);
      if (other !== undefined) {
        plan.failed.push({
          asgName: asg.asgName,
          instanceId: inst.instanceId,
          reason: `service name ${name} is also claimed by ${other}`,
        });
        continue;
      }
      claimed.set(name, inst.instanceId);
      const existing = byName.get(name) ?? [];
      const own = existing.filter((s) => ownedInstance(s) === inst.instanceId);
      const heldByForeign = existing.some((s) => ownedInstance(s) === undefined);
      if (!inService) {
        // Pending, Standby, Detaching...: leave its services alone, do not enrol (yet).
        for (const s of own) keep.add(s.serviceId);
        plan.skipped.push({
          asgName: asg.asgName,
          instanceId: inst.instanceId,
          reason: `lifecycle state ${inst.lifecycleState}`,
        });
        continue;
      }
      const reenrol = own.length > 0 && own.some((s) => agentConnected(s) === false);
      if (own.length > 0 && !reenrol) {
        for (const s of own) keep.add(s.serviceId);
        plan.healthy.push(name);
        continue;
      }
      if (own.length === 0 && heldByForeign) {
        // PMM would refuse the name ("already exists") and the holder is not ours to remove.
        plan.skipped.push({
          asgName: asg.asgName,
          instanceId: inst.instanceId,
          reason: `service name ${name} is held by a service the reconciler did not create`,
        });
        continue;
      }
      // Its own service is kept while the install re-registers a disconnected agent.
      for (const s of own) keep.add(s.serviceId);
      // No service, or only stale ones left by an earlier instance with the same host name
      // (those are retired below because nothing keeps them).
      plan.enrol.push({
        instanceId: inst.instanceId,
        asgName: asg.asgName,
        serviceName: name,
        nodeAddress: details?.privateIp ?? hostname,
        port: asg.port,
        username: asg.username,
        passwordSecretArn: asg.passwordSecretArn,
        launchTime: details?.launchTime,
        ...(reenrol ? { reenrol: true } : {}),
      });
    }
  }

  const retireIds = new Set<string>();
  for (const s of input.services) {
    const asg = owningAsg(s.serviceName, asgNames);
    if (asg === undefined) {
      foreignServices++;
      continue;
    }
    if (ownedInstance(s) === undefined) {
      // Under a monitored prefix but not created by the reconciler: never removed.
      foreignInMonitored++;
      continue;
    }
    if (protectedAsgs.has(asg) || keep.has(s.serviceId)) continue;
    retireIds.add(s.serviceId);
  }

  // Remove whole nodes when every service on them is retired (drops agents and the node's
  // service account too); otherwise remove just the services.
  const servicesByNode = new Map<string, PmmService[]>();
  for (const s of input.services) {
    if (!s.nodeId) continue;
    const list = servicesByNode.get(s.nodeId) ?? [];
    list.push(s);
    servicesByNode.set(s.nodeId, list);
  }
  const doneNodes = new Set<string>();
  for (const s of input.services) {
    if (!retireIds.has(s.serviceId)) continue;
    const onNode = s.nodeId ? (servicesByNode.get(s.nodeId) ?? []) : [];
    if (s.nodeId && onNode.every((o) => retireIds.has(o.serviceId))) {
      if (doneNodes.has(s.nodeId)) continue;
      doneNodes.add(s.nodeId);
      plan.retire.push({
        kind: 'node',
        nodeId: s.nodeId,
        serviceNames: onNode.map((o) => o.serviceName),
      });
    } else {
      plan.retire.push({ kind: 'service', serviceId: s.serviceId, serviceName: s.serviceName });
    }
  }
  return { ...plan, foreignServices, foreignInMonitored };
}

/** Split `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
