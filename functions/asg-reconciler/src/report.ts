import type { Summary } from './reconcile';

/** One structured summary line and one Embedded Metric Format line (CloudWatch metrics). */
export function report(s: Summary, log: (entry: Record<string, unknown>) => void): void {
  log({
    level: s.failed.length > 0 ? 'error' : 'info',
    message: 'reconcile summary',
    trigger: s.trigger,
    added: s.added,
    removed: s.removed,
    failed: s.failed,
    skipped: s.skipped,
    missingAsgs: s.missingAsgs,
    counts: {
      added: s.added.length,
      removed: s.removed.length,
      failed: s.failed.length,
      skipped: s.skipped.length,
      healthy: s.healthy,
      missingAsgs: s.missingAsgs.length,
      foreignInMonitored: s.foreignInMonitored,
    },
    awsCalls: s.awsCalls,
    pmmRequests: s.pmmRequests,
    enrolmentCredential: s.enrolmentCredential,
    enrolmentAccess: s.enrolmentAccess,
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
            { Name: 'AsgsMissing', Unit: 'Count' },
            { Name: 'ForeignServicesInMonitoredPrefixes', Unit: 'Count' },
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
    AsgsMissing: s.missingAsgs.length,
    ForeignServicesInMonitoredPrefixes: s.foreignInMonitored,
    DurationMs: s.durationMs,
  });
}
