import { IResolvable } from 'cdktf';
import { Construct } from 'constructs';
import { Flag } from './util/plan-time';

export interface AsgReconcilerProps {
  readonly namePrefix: string;
  /** Terraform-shaped `monitored_asgs`; empty creates nothing. */
  readonly monitoredAsgs: IResolvable | object[];
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly pmmInstanceSecurityGroupId: string;
  readonly pmmPrivateIp: string;
  readonly adminSecretArn: string;
  readonly logRetentionDays: number;
}

/** The optional ASG reconciler Lambda (issue #6 fills this in). */
export class AsgReconciler extends Construct {
  /** True when `monitoredAsgs` is non-empty (a plan-time expression). */
  public readonly enabled: Flag;
  /** null when not created. */
  public readonly functionName: string;
  public readonly functionArn: string;
  public readonly roleArn: string;

  constructor(scope: Construct, id: string, _props: AsgReconcilerProps) {
    super(scope, id);
    this.enabled = false;
    this.functionName = '';
    this.functionArn = '';
    this.roleArn = '';
  }
}
