/**
 * Ownership of PMM services by marker, not by name: a reconciler removes only what it
 * created. Generic (the ASG reconciler uses it; an RDS path can reuse it with its own marker).
 *
 * What a reconciler registers carries two custom labels: `managed_by=<manager>` and
 * `<resourceLabel>=<id of the monitored resource>` (e.g. `aws_instance_id=i-0abc...`).
 * Label names follow Prometheus label syntax (PMM exports custom labels as metric labels),
 * hence `managed_by`, not `managed-by`.
 */
export const MANAGED_BY_LABEL = 'managed_by';

export interface OwnershipMarker {
  /** The `managed_by` value, e.g. `pmm-asg-reconciler`. */
  readonly manager: string;
  /** The label holding the monitored resource's ID, e.g. `aws_instance_id`. */
  readonly resourceLabel: string;
  /**
   * Migration rule for registrations made before the marker existed: labels without
   * `managed_by` for which this returns true are taken as this manager's. Absent: none are.
   */
  readonly isLegacy?: (labels: Readonly<Record<string, string>>) => boolean;
}

export type Ownership =
  | { readonly owner: 'ours'; readonly resourceId: string; readonly legacy: boolean }
  | { readonly owner: 'foreign' };

/** The custom labels to put on a service registered for `resourceId`. */
export function markerLabels(marker: OwnershipMarker, resourceId: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: marker.manager, [marker.resourceLabel]: resourceId };
}

/**
 * Whose a service is, from its custom labels. Ours: `managed_by` is our manager and the
 * resource label is set, or (no `managed_by` at all) the marker's legacy rule accepts it.
 * Everything else (another manager, our manager without a resource ID, no labels) is foreign.
 */
export function ownershipOf(
  labels: Readonly<Record<string, string>>,
  marker: OwnershipMarker,
): Ownership {
  const resourceId = labels[marker.resourceLabel];
  const manager = labels[MANAGED_BY_LABEL];
  if (!resourceId) return { owner: 'foreign' };
  if (manager === marker.manager) return { owner: 'ours', resourceId, legacy: false };
  if (manager === undefined && marker.isLegacy?.(labels) === true) {
    return { owner: 'ours', resourceId, legacy: true };
  }
  return { owner: 'foreign' };
}
