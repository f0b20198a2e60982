/**
 * The contract between the CloudWatch agent config on the host and the alarms and dashboard
 * that read its metrics: CloudWatch matches dimensions exactly, so both sides use these.
 */
export const AGENT_NAMESPACE = 'CWAgent';

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
