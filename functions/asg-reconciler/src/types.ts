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

/** A PMM service from `GET /v1/management/services`. */
export interface PmmService {
  readonly serviceId: string;
  readonly serviceName: string;
  readonly serviceType?: string;
  readonly nodeId: string;
  readonly customLabels: Readonly<Record<string, string>>;
}

/** The custom label the install script puts on every service it adds. */
export const INSTANCE_ID_LABEL = 'aws_instance_id';
