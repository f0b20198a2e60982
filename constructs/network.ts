import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Fn, IResolvable, Token } from 'cdktf';
import { Construct } from 'constructs';

export interface NetworkProps {
  readonly namePrefix: string;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  /** CIDR blocks allowed to reach the ALB on 443/80. */
  readonly allowedCidrBlocks: string[];
  /** @default - no SSH ingress */
  readonly adminCidrBlock?: string;
  /** RDS security groups that get 5432/3306 ingress from the instance. */
  readonly rdsSecurityGroupIds: string[];
  /** Terraform-shaped `monitored_asgs`; each `security_group_id` gets 443 into the instance. */
  readonly monitoredAsgs: IResolvable | object[];
}

/** VPC lookup and the ALB and instance security groups (issue #4 fills this in). */
export class Network extends Construct {
  public readonly vpcId: string;
  public readonly instanceSubnetId: string;
  public readonly instanceAvailabilityZone: string;
  public readonly albSecurityGroupId: string;
  public readonly instanceSecurityGroupId: string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.instanceSubnetId = Token.asString(Fn.element(props.privateSubnetIds, 0));
    const subnet = new DataAwsSubnet(this, 'instance_subnet', { id: this.instanceSubnetId });
    this.vpcId = subnet.vpcId;
    this.instanceAvailabilityZone = subnet.availabilityZone;
    const albSg = new SecurityGroup(this, 'alb', {
      namePrefix: `${props.namePrefix}-alb-`,
      vpcId: this.vpcId,
    });
    const instanceSg = new SecurityGroup(this, 'instance', {
      namePrefix: `${props.namePrefix}-instance-`,
      vpcId: this.vpcId,
    });
    this.albSecurityGroupId = albSg.id;
    this.instanceSecurityGroupId = instanceSg.id;
  }
}
