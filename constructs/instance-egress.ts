import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { Fn, Op, TerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';

export interface InstanceEgressProps {
  readonly namePrefix: string;
  /** The PMM instance's security group. */
  readonly securityGroupId: string;
  /**
   * Allow-list of IPv4 CIDR blocks (all protocols). A literal list, a Terraform expression
   * that may be null (the module variable: null = open, decided at plan time), or undefined.
   * @default - all outbound IPv4 and IPv6 traffic (the design document's default)
   */
  readonly cidrBlocks?: string[];
  /** RDS security groups PMM monitors: PostgreSQL and MySQL out to them when restricted. */
  readonly rdsSecurityGroupIds: string[];
  /** Ports of the monitored engines. */
  readonly databasePorts: readonly { readonly engine: string; readonly port: number }[];
}

/**
 * The PMM instance's outbound rules: everything (IPv4 and IPv6) by default, or only the
 * allow-listed CIDR blocks plus the monitored RDS security groups. Which set exists is decided
 * by count/for_each at plan time.
 */
export class InstanceEgress extends Construct {
  constructor(scope: Construct, id: string, props: InstanceEgressProps) {
    super(scope, id);
    const list = props.cidrBlocks;
    // true when there is no allow-list (undefined in TypeScript, null in the module).
    const open = list === undefined ? true : Op.eq(list, Token.nullValue());
    const openCount = Token.asNumber(Fn.conditional(open, 1, 0));
    const sg = props.securityGroupId;

    // Addresses kept from before the allow-list existed (network.ts), so an upgrade changes
    // nothing for callers who keep the default.
    new VpcSecurityGroupEgressRule(scope, 'instance_all_out_ipv4', {
      count: openCount,
      securityGroupId: sg,
      description: 'All IPv4 traffic out (image pulls, AWS APIs, monitored databases)',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
      tags: { Name: `${props.namePrefix}-instance-all-out-ipv4` },
    });
    new VpcSecurityGroupEgressRule(scope, 'instance_all_out_ipv6', {
      count: openCount,
      securityGroupId: sg,
      description: 'All IPv6 traffic out (dual-stack subnets)',
      ipProtocol: '-1',
      cidrIpv6: '::/0',
      tags: { Name: `${props.namePrefix}-instance-all-out-ipv6` },
    });
    if (list === undefined) return;

    const allowed = TerraformIterator.fromList(
      Fn.toset(Fn.conditional(open, [], list as unknown as string[])),
    );
    new VpcSecurityGroupEgressRule(scope, 'instance_out_allowed', {
      forEach: allowed,
      securityGroupId: sg,
      description: `All traffic out to allow-listed CIDR block ${allowed.value}`,
      ipProtocol: '-1',
      cidrIpv4: Token.asString(allowed.value),
      tags: { Name: `${props.namePrefix}-instance-out-${allowed.value}` },
    });
    for (const { engine, port } of props.databasePorts) {
      const rds = TerraformIterator.fromList(
        Fn.toset(Fn.conditional(open, [], props.rdsSecurityGroupIds)),
      );
      new VpcSecurityGroupEgressRule(scope, `instance_${engine.toLowerCase()}_to_rds`, {
        forEach: rds,
        securityGroupId: sg,
        description: `${engine} to monitored RDS security group ${rds.value}`,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: Token.asString(rds.value),
        tags: { Name: `${props.namePrefix}-instance-${engine.toLowerCase()}-to-${rds.value}` },
      });
    }
  }
}
