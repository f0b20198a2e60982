import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { DataAwsVpc } from '@cdktf/provider-aws/lib/data-aws-vpc';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn, IResolvable, Op, propertyAccess, TerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';
import { InstanceEgress } from './instance-egress';
import { countWhen, countWhenSet, Flag } from './util/plan-time';
import { requireNonEmpty } from './util/validate';

/** Ports of the traffic this construct allows; shared with the tests and docs. */
export const PORTS = {
  http: 80,
  https: 443,
  ssh: 22,
  postgresql: 5432,
  mysql: 3306,
} as const;

export interface NetworkProps {
  /** `<service_name>-<environment>`: prefixes security group names. */
  readonly namePrefix: string;
  /** Public subnets of the ALB (only their VPC matters here). */
  readonly publicSubnetIds: string[];
  /** Private subnets; the instance goes in the first, whose VPC is the deployment's VPC. */
  readonly privateSubnetIds: string[];
  /**
   * CIDR blocks allowed to reach the ALB on 443 and 80 (one rule per block and port). A
   * Terraform expression may be null: the default then applies.
   * @default - 0.0.0.0/0 for an internet-facing ALB, the VPC's IPv4 CIDR blocks for an internal one
   */
  readonly allowedCidrBlocks?: string[];
  /**
   * The ALB is internal (plan-time): the default `allowedCidrBlocks` become the VPC's.
   * @default false
   */
  readonly internalAlb?: Flag;
  /**
   * CIDR block allowed to SSH (22) to the instance. A Terraform expression that may be
   * null (the module variable) switches the rule at plan time.
   * @default - no SSH ingress
   */
  readonly adminCidrBlock?: string;
  /** RDS security groups that get 5432/3306 ingress from the instance. */
  readonly rdsSecurityGroupIds: string[];
  /**
   * Terraform-shaped `monitored_asgs`; each distinct `security_group_id` gets 443 into the
   * instance (one rule per group, however many ASGs share it).
   */
  readonly monitoredAsgs: IResolvable | object[];
  /**
   * Allow-list of IPv4 CIDR blocks the instance may reach (a module expression may be null).
   * @default - all outbound traffic
   */
  readonly egressCidrBlocks?: string[];
}

/**
 * The VPC (looked up from the first private subnet) and the security groups of the design
 * document's "Network Security" table. Every rule is its own
 * `aws_vpc_security_group_{ingress,egress}_rule` with a description; lists become
 * `for_each` keyed by values known at plan time (CIDR blocks, security group IDs). The reconciler adds its own Lambda rule to the instance group.
 */
export class Network extends Construct {
  public readonly vpcId: string;
  public readonly instanceSubnetId: string;
  public readonly instanceAvailabilityZone: string;
  public readonly albSecurityGroupId: string;
  public readonly instanceSecurityGroupId: string;
  /** The CIDR blocks the ALB accepts (allowedCidrBlocks or its default). */
  public readonly albAllowedCidrBlocks: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    requireNonEmpty('Network', 'privateSubnetIds', props.privateSubnetIds);
    if (props.allowedCidrBlocks !== undefined) {
      requireNonEmpty('Network', 'allowedCidrBlocks', props.allowedCidrBlocks);
    }

    this.instanceSubnetId = Token.asString(Fn.element(props.privateSubnetIds, 0));
    const subnet = new DataAwsSubnet(this, 'instance_subnet', { id: this.instanceSubnetId });
    this.vpcId = subnet.vpcId;
    this.instanceAvailabilityZone = subnet.availabilityZone;
    this.albAllowedCidrBlocks = this.albSources(props);

    // Groups without inline rules: rules are separate resources, so the ALB <-> instance
    // references form no cycle and changing a rule never replaces a group.
    const albSg = new SecurityGroup(this, 'alb', {
      namePrefix: `${props.namePrefix}-alb-`,
      description: 'PMM load balancer: HTTPS/HTTP from allowed CIDR blocks, HTTP to the instance',
      vpcId: this.vpcId,
      tags: { Name: `${props.namePrefix}-alb` },
      lifecycle: { createBeforeDestroy: true },
    });
    const instanceSg = new SecurityGroup(this, 'instance', {
      namePrefix: `${props.namePrefix}-instance-`,
      description: 'PMM server instance: HTTP from the load balancer, gRPC from pmm-agents',
      vpcId: this.vpcId,
      tags: { Name: `${props.namePrefix}-instance` },
      lifecycle: { createBeforeDestroy: true },
    });
    this.albSecurityGroupId = albSg.id;
    this.instanceSecurityGroupId = instanceSg.id;

    // ---- ALB: in 443 and 80 from each allowed CIDR block; out only to the instance on 80.
    const allowed = TerraformIterator.fromList(this.albAllowedCidrBlocks);
    for (const [ruleId, port, what] of [
      ['alb_https_in', PORTS.https, 'HTTPS'],
      ['alb_http_in', PORTS.http, 'HTTP (redirected to HTTPS)'],
    ] as const) {
      new VpcSecurityGroupIngressRule(this, ruleId, {
        forEach: allowed,
        securityGroupId: albSg.id,
        description: `${what} from allowed CIDR block ${allowed.value}`,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        cidrIpv4: Token.asString(allowed.value),
        tags: { Name: `${props.namePrefix}-alb-${port}-in` },
      });
    }
    new VpcSecurityGroupEgressRule(this, 'alb_to_instance_http', {
      securityGroupId: albSg.id,
      description: 'HTTP to the PMM instance (target group)',
      ipProtocol: 'tcp',
      fromPort: PORTS.http,
      toPort: PORTS.http,
      referencedSecurityGroupId: instanceSg.id,
      tags: { Name: `${props.namePrefix}-alb-to-instance` },
    });

    // ---- Instance.
    new VpcSecurityGroupIngressRule(this, 'instance_http_from_alb', {
      securityGroupId: instanceSg.id,
      description: 'HTTP from the load balancer',
      ipProtocol: 'tcp',
      fromPort: PORTS.http,
      toPort: PORTS.http,
      referencedSecurityGroupId: albSg.id,
      tags: { Name: `${props.namePrefix}-instance-http-from-alb` },
    });
    if (props.adminCidrBlock !== undefined) {
      new VpcSecurityGroupIngressRule(this, 'instance_ssh_from_admin', {
        count: countWhenSet(props.adminCidrBlock),
        securityGroupId: instanceSg.id,
        description: 'SSH from the admin CIDR block',
        ipProtocol: 'tcp',
        fromPort: PORTS.ssh,
        toPort: PORTS.ssh,
        cidrIpv4: props.adminCidrBlock,
        tags: { Name: `${props.namePrefix}-instance-ssh-from-admin` },
      });
    }
    // One rule per distinct security group, keyed by its ID (known at plan time): several
    // ASGs may share a group, and a second identical rule fails at apply with
    // InvalidPermission.Duplicate.
    // for_each = toset(distinct([for ... in var.monitored_asgs : ....security_group_id]))
    const asgGroups = TerraformIterator.fromList(
      Fn.distinct(
        Token.asList(
          TerraformIterator.fromList(props.monitoredAsgs as IResolvable).pluckProperty(
            'security_group_id',
          ),
        ),
      ),
    );
    new VpcSecurityGroupIngressRule(this, 'instance_grpc_from_asg', {
      forEach: asgGroups,
      securityGroupId: instanceSg.id,
      description: `pmm-agent gRPC (HTTPS, bypasses the ALB) from monitored ASG security group ${asgGroups.value}`,
      ipProtocol: 'tcp',
      fromPort: PORTS.https,
      toPort: PORTS.https,
      referencedSecurityGroupId: Token.asString(asgGroups.value),
      tags: { Name: `${props.namePrefix}-instance-grpc-from-${asgGroups.value}` },
    });
    // Outbound: open by default, or an allow-list (instance-egress.ts; same addresses).
    new InstanceEgress(this, 'instance_egress', {
      namePrefix: props.namePrefix,
      securityGroupId: instanceSg.id,
      cidrBlocks: props.egressCidrBlocks,
      rdsSecurityGroupIds: props.rdsSecurityGroupIds,
      databasePorts: [
        { engine: 'PostgreSQL', port: PORTS.postgresql },
        { engine: 'MySQL', port: PORTS.mysql },
      ],
    });

    // ---- RDS: PostgreSQL and MySQL in from the instance, on each given RDS group.
    const rds = TerraformIterator.fromList(props.rdsSecurityGroupIds);
    for (const [ruleId, port, engine] of [
      ['rds_postgresql_from_instance', PORTS.postgresql, 'PostgreSQL'],
      ['rds_mysql_from_instance', PORTS.mysql, 'MySQL'],
    ] as const) {
      new VpcSecurityGroupIngressRule(this, ruleId, {
        forEach: rds,
        securityGroupId: Token.asString(rds.value),
        description: `${engine} from the PMM server instance (monitoring)`,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: instanceSg.id,
        tags: { Name: `${props.namePrefix}-pmm-${engine.toLowerCase()}` },
      });
    }
  }

  /**
   * allowed_cidr_blocks, or when it is null: 0.0.0.0/0 for an internet-facing ALB and every
   * IPv4 CIDR block of the VPC (primary and secondary) for an internal one, read at plan from
   * `data.aws_vpc` (only when the ALB is internal), so the rules' for_each keys stay known.
   */
  private albSources(props: NetworkProps): string[] {
    const internal = props.internalAlb ?? false;
    const explicit = props.allowedCidrBlocks;
    if (explicit !== undefined && !Token.isUnresolved(explicit)) return explicit;
    let fallback: string[] = ['0.0.0.0/0'];
    if (internal !== false) {
      const vpc = new DataAwsVpc(this, 'vpc', { count: countWhen(internal), id: this.vpcId });
      const vpcCidrs = Fn.flatten(
        Token.asList(propertyAccess(vpc, ['*', 'cidr_block_associations', '*', 'cidr_block'])),
      );
      fallback = Token.asList(Fn.conditional(internal, vpcCidrs, ['0.0.0.0/0']));
    }
    if (explicit === undefined) return fallback;
    return Token.asList(Fn.conditional(Op.neq(explicit, Token.nullValue()), explicit, fallback));
  }
}
