import { reconcileRds, RdsPhaseDeps, RdsReconcileError, RdsSummary } from './rds-reconcile';

export type WithRds<T> = T & { readonly rds?: RdsSummary };

/**
 * Runs the ASG phase and, when `monitored_rds` is non-empty, the RDS phase beside it (each
 * logs its own summary and never stops the other). The handler throws when either phase
 * failed, so the Errors alarm fires; it returns the ASG summary with `rds` added.
 */
export async function runWithRds<T extends object>(
  asgPhase: () => Promise<T>,
  rds: RdsPhaseDeps,
): Promise<WithRds<T>> {
  const rdsPhase = rds.config.inputs.length > 0 ? reconcileRds(rds) : Promise.resolve(undefined);
  const [asg, r] = await Promise.allSettled([asgPhase(), rdsPhase]);
  if (asg.status === 'rejected') throw asg.reason;
  if (r.status === 'rejected') throw r.reason as RdsReconcileError;
  return r.value === undefined ? asg.value : { ...asg.value, rds: r.value };
}
