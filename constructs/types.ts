import { IResolvable } from 'cdktf';

/** One Auto Scaling Group whose instances the reconciler enrols in PMM. */
export interface MonitoredAsg {
  /** Name of the Auto Scaling Group. */
  readonly asgName: string;
  /**
   * Database service on each instance.
   * @default 'mysql'
   */
  readonly serviceType?: 'mysql';
  /**
   * Database port on each instance.
   * @default 3306
   */
  readonly port?: number;
  /** Database user pmm-agent connects as. */
  readonly username: string;
  /** Security group of the ASG's instances; gets 443 into the PMM instance for pmm-agent. */
  readonly securityGroupId: string;
  /**
   * Secrets Manager secret holding the database password, read on the instance itself.
   * @default - no password
   */
  readonly passwordSecretArn?: string;
}

/**
 * The `monitored_asgs` list: literal objects from TypeScript, or the module variable (a
 * Terraform expression with the snake_case attribute names of the module interface).
 */
export type MonitoredAsgs = readonly MonitoredAsg[] | IResolvable;

/**
 * The Terraform shape of `monitored_asgs` (snake_case attributes, defaults filled), whether it
 * came from TypeScript literals or from the module variable.
 */
export function toTerraformAsgs(asgs: MonitoredAsgs): IResolvable | object[] {
  if (!Array.isArray(asgs)) return asgs as IResolvable;
  return (asgs as readonly MonitoredAsg[]).map((a) => ({
    asg_name: a.asgName,
    service_type: a.serviceType ?? 'mysql',
    port: a.port ?? 3306,
    username: a.username,
    security_group_id: a.securityGroupId,
    password_secret_arn: a.passwordSecretArn ?? null,
  }));
}
