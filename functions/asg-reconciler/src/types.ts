/** One monitored Auto Scaling Group (from the `monitored_asgs` module variable). */
export interface AsgConfig {
  readonly asgName: string;
  readonly serviceType: 'mysql';
  readonly port: number;
  readonly username: string;
  /** Secrets Manager ARN of the database password, read on the instance itself; null = none. */
  readonly passwordSecretArn: string | null;
}

/** An instance as DescribeAutoScalingGroups reports it. */
export interface AsgInstance {
  readonly instanceId: string;
  readonly asgName: string;
  readonly lifecycleState: string;
}

/** What EC2 DescribeInstances tells us about an instance. */
export interface InstanceDetails {
  readonly instanceId: string;
  readonly privateIp?: string;
  readonly privateDnsName?: string;
  readonly launchTime?: Date;
}

/**
 * An agent of a listed service (management/v1 UniversalAgent: `agent_type`, `is_connected`,
 * `status`). PMM lists the service's own agents plus the agents running on its node without
 * a service, i.e. the node's `pmm-agent`.
 */
export interface PmmAgent {
  readonly agentType: string;
  /** Absent in the JSON when false (proto3 omits zero values unless told otherwise). */
  readonly isConnected?: boolean;
  readonly status?: string;
}

/** A PMM service from `GET /v1/management/services`. */
export interface PmmService {
  readonly serviceId: string;
  readonly serviceName: string;
  readonly serviceType?: string;
  readonly nodeId: string;
  readonly customLabels: Readonly<Record<string, string>>;
  /** `agents` of the listing; undefined when PMM gave none (no agent information). */
  readonly agents?: readonly PmmAgent[];
}

/** `agent_type` of the node's agent (managed/models: PMMAgentType = "pmm-agent"). */
export const PMM_AGENT_TYPE = 'pmm-agent';

/** The custom label the install script puts on every service it adds. */
export const INSTANCE_ID_LABEL = 'aws_instance_id';
