/**
 * The contract between the CloudWatch agent config on the host
 * (`templates/host/cloudwatch-agent.json`) and the alarms and dashboard that read its metrics:
 * CloudWatch matches dimensions exactly, so both sides use these. A test proves the agent
 * config publishes exactly these namespaces, metric names and dimension sets.
 *
 * What the agent publishes (with `omit_hostname`, `append_dimensions` = InstanceId,
 * `drop_device` and `aggregation_dimensions` = [[InstanceId, path]]):
 * - `mem_used_percent` with {InstanceId};
 * - `disk_used_percent` with {InstanceId, path} for `/` and `/srv` (the aggregated series;
 *   the raw series also carries `fstype` and should not be used by alarms).
 */
export const AGENT_NAMESPACE = 'CWAgent';

/** Mount points whose usage the agent reports (`path` dimension values). */
export const AGENT_DISK_PATHS = { root: '/', data: '/srv' } as const;

export interface AgentMetric {
  readonly namespace: string;
  readonly metricName: string;
  /** Every dimension, exactly as the agent publishes the metric. */
  readonly dimensions: Record<string, string>;
}

export interface AgentMetricDimensions {
  readonly memoryUsedPercent: AgentMetric;
  readonly rootDiskUsedPercent: AgentMetric;
  readonly dataDiskUsedPercent: AgentMetric;
}

/** The agent's metrics for one instance. */
export function agentMetricsFor(instanceId: string): AgentMetricDimensions {
  const byInstance = { InstanceId: instanceId };
  return {
    memoryUsedPercent: {
      namespace: AGENT_NAMESPACE,
      metricName: 'mem_used_percent',
      dimensions: byInstance,
    },
    rootDiskUsedPercent: {
      namespace: AGENT_NAMESPACE,
      metricName: 'disk_used_percent',
      dimensions: { ...byInstance, path: AGENT_DISK_PATHS.root },
    },
    dataDiskUsedPercent: {
      namespace: AGENT_NAMESPACE,
      metricName: 'disk_used_percent',
      dimensions: { ...byInstance, path: AGENT_DISK_PATHS.data },
    },
  };
}
