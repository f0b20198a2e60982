import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { Network, NetworkProps } from '../constructs/network';
import { resourcesOf, synthModule, TfJson } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const INGRESS = 'aws_vpc_security_group_ingress_rule';
const EGRESS = 'aws_vpc_security_group_egress_rule';
const ALB_SG = '${aws_security_group.pmm_network_alb.id}';
const INSTANCE_SG = '${aws_security_group.pmm_network_instance.id}';

const tf = synthModule();
const ingress = resourcesOf(tf, INGRESS);
const egress = resourcesOf(tf, EGRESS);
const allRules = { ...ingress, ...egress };

/** Ingress rules of a group, by address (the reconciler's Lambda rule is not ours). */
function ingressOf(sg: string): Record<string, TfJson> {
  return Object.fromEntries(
    Object.entries(ingress).filter(([k, r]) => r.security_group_id === sg && !/reconciler/.test(k)),
  );
}

/**
 * `expr` evaluated by `terraform console` (no providers, no network) with
 * `monitored_asgs` (HCL) declared exactly as the module declares it.
 */
function evaluateWithAsgs(expr: string, monitoredAsgs: string): unknown {
  return terraformEval(expr, {
    variables: { monitored_asgs: { type: tf.variable.monitored_asgs.type, default: [] } },
    values: { monitored_asgs: monitoredAsgs },
  });
}

/** A Network in a plain stack with literal props. */
function synthNetwork(overrides: Partial<NetworkProps> = {}): TfJson {
  const stack = new TerraformStack(Testing.app(), 'net');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  new Network(stack, 'network', {
    namePrefix: 'pmm-server-test',
    publicSubnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60003', 'subnet-0a1b2c3d4e5f60004'],
    allowedCidrBlocks: ['10.0.0.0/8', '192.168.0.0/16'],
    rdsSecurityGroupIds: [],
    monitoredAsgs: [],
    ...overrides,
  });
  return JSON.parse(Testing.synth(stack));
}

describe('VPC and security groups', () => {
  it('looks the VPC up from the first private subnet instead of taking a variable', () => {
    expect(tf.data.aws_subnet.pmm_network_instance_subnet).toEqual({
      id: '${element(var.private_subnet_ids, 0)}',
    });
    expect(tf.variable.vpc_id).toBeUndefined();
    for (const name of ['pmm_network_alb', 'pmm_network_instance']) {
      expect(tf.resource.aws_security_group[name].vpc_id).toBe(
        '${data.aws_subnet.pmm_network_instance_subnet.vpc_id}',
      );
    }
  });

  it('creates both groups without inline rules, replaced before destroyed', () => {
    for (const sg of Object.values(resourcesOf(tf, 'aws_security_group'))) {
      expect(sg.ingress).toBeUndefined();
      expect(sg.egress).toBeUndefined();
      expect(sg.description).toMatch(/\S/);
      expect(sg.name_prefix).toMatch(/^\$\{var\.service_name\}-\$\{var\.environment\}-/);
      expect(sg.lifecycle.create_before_destroy).toBe(true);
    }
  });

  it('gives every rule a description', () => {
    expect(Object.keys(allRules).length).toBeGreaterThanOrEqual(9);
    for (const [address, rule] of Object.entries(allRules)) {
      expect([address, typeof rule.description]).toEqual([address, 'string']);
      expect(rule.description.length).toBeGreaterThan(5);
    }
  });
});

describe('ALB security group', () => {
  it('lets only HTTPS and HTTP in from allowed_cidr_blocks, one rule per block', () => {
    const facing = Object.values(allRules).filter((r) =>
      JSON.stringify(r).includes('var.allowed_cidr_blocks'),
    );
    expect(facing.map((r) => [r.from_port, r.to_port, r.ip_protocol]).sort()).toEqual([
      [443, 443, 'tcp'],
      [80, 80, 'tcp'],
    ]);
    for (const rule of facing) {
      // null: 0.0.0.0/0 for an internet-facing ALB, the VPC's CIDR blocks for an internal one.
      expect(rule.for_each).toBe(
        '${toset((var.allowed_cidr_blocks != null) ? var.allowed_cidr_blocks : var.internal_alb ? flatten(data.aws_vpc.pmm_network_vpc[*].cidr_block_associations[*].cidr_block) : ["0.0.0.0/0"])}',
      );
      expect(rule.cidr_ipv4).toBe('${each.value}');
      expect(rule.security_group_id).toBe(ALB_SG);
    }
  });

  it('has no other ingress than the allowed-CIDR rules', () => {
    const albIngress = ingressOf(ALB_SG);
    expect(Object.keys(albIngress).sort()).toEqual([
      'pmm_network_alb_http_in',
      'pmm_network_alb_https_in',
    ]);
  });

  it('sends traffic only to the instance group on port 80', () => {
    const albEgress = Object.values(egress).filter((r) => r.security_group_id === ALB_SG);
    expect(albEgress).toHaveLength(1);
    expect(albEgress[0]).toMatchObject({
      ip_protocol: 'tcp',
      from_port: 80,
      to_port: 80,
      referenced_security_group_id: INSTANCE_SG,
    });
    expect(albEgress[0].cidr_ipv4).toBeUndefined();
  });

  it('never opens any port to the whole internet except through allowed_cidr_blocks', () => {
    for (const rule of Object.values(ingress)) {
      expect(rule.cidr_ipv4).not.toBe('0.0.0.0/0');
      expect(rule.cidr_ipv6).toBeUndefined();
    }
  });
});

describe('instance security group', () => {
  it('accepts HTTP from the ALB group', () => {
    expect(ingress.pmm_network_instance_http_from_alb).toMatchObject({
      security_group_id: INSTANCE_SG,
      referenced_security_group_id: ALB_SG,
      ip_protocol: 'tcp',
      from_port: 80,
      to_port: 80,
    });
  });

  it('opens SSH only from admin_cidr_block, switched by the variable at plan time', () => {
    const ssh = Object.values(ingress).filter((r) => r.from_port === 22);
    expect(ssh).toHaveLength(1);
    expect(ssh[0]).toMatchObject({
      security_group_id: INSTANCE_SG,
      cidr_ipv4: '${var.admin_cidr_block}',
      to_port: 22,
      count: '${(var.admin_cidr_block == null) ? 0 : 1}',
    });
  });

  it('accepts pmm-agent gRPC on 443 from each distinct monitored ASG group, keyed by group ID', () => {
    const grpc = ingress.pmm_network_instance_grpc_from_asg;
    expect(grpc).toMatchObject({
      security_group_id: INSTANCE_SG,
      ip_protocol: 'tcp',
      from_port: 443,
      to_port: 443,
      referenced_security_group_id: '${each.value}',
      for_each:
        '${toset(distinct([ for key, val in toset(var.monitored_asgs): val.security_group_id]))}',
    });
    expect(grpc.cidr_ipv4).toBeUndefined();
  });

  it('creates one gRPC rule per security group when two ASGs share one (terraform evaluates for_each)', () => {
    const grpc = ingress.pmm_network_instance_grpc_from_asg;
    const asg = (name: string, sg: string) =>
      `{asg_name = "${name}", username = "pmm", security_group_id = "${sg}"}`;
    const keys = evaluateWithAsgs(
      grpc.for_each.slice(2, -1),
      `[${asg('db-a', 'sg-0a1b2c3d4e5f60001')}, ${asg('db-b', 'sg-0a1b2c3d4e5f60001')}, ${asg('db-c', 'sg-0a1b2c3d4e5f60002')}]`,
    );
    expect(keys).toEqual(['sg-0a1b2c3d4e5f60001', 'sg-0a1b2c3d4e5f60002']);
    expect(evaluateWithAsgs(grpc.for_each.slice(2, -1), '[]')).toEqual([]);
  });

  it('exposes only 80 (ALB), 22 (admin) and 443 (ASGs) on the instance', () => {
    const ports = Object.values(ingressOf(INSTANCE_SG)).map((r) => r.from_port);
    expect(ports.sort()).toEqual([22, 443, 80]);
  });

  it('allows all egress (by default: instance-egress.test.ts covers the allow-list)', () => {
    const out = Object.values(egress).filter(
      (r) => r.security_group_id === INSTANCE_SG && r.count !== undefined,
    );
    expect(out.map((r) => [r.ip_protocol, r.cidr_ipv4 ?? r.cidr_ipv6]).sort()).toEqual([
      ['-1', '0.0.0.0/0'],
      ['-1', '::/0'],
    ]);
  });
});

describe('RDS access', () => {
  it.each([
    ['pmm_network_rds_postgresql_from_instance', 5432],
    ['pmm_network_rds_mysql_from_instance', 3306],
  ])('%s opens %d on each RDS group from the instance group', (address, port) => {
    expect(ingress[address]).toMatchObject({
      for_each: '${toset(var.rds_security_group_ids)}',
      security_group_id: '${each.value}',
      referenced_security_group_id: INSTANCE_SG,
      ip_protocol: 'tcp',
      from_port: port,
      to_port: port,
    });
  });
});

describe('Network with literal props', () => {
  const sshRules = (t: TfJson) =>
    Object.values(resourcesOf(t, INGRESS)).filter((r) => r.from_port === 22);

  it('creates no SSH rule at all without adminCidrBlock', () => {
    expect(sshRules(synthNetwork())).toHaveLength(0);
  });

  it('creates the SSH rule from the given CIDR block with adminCidrBlock', () => {
    const rules = sshRules(synthNetwork({ adminCidrBlock: '10.1.0.0/16' }));
    expect(rules).toHaveLength(1);
    expect(rules[0].cidr_ipv4).toBe('10.1.0.0/16');
  });

  it('keys the ASG rules by distinct security group over the literal list', () => {
    const t = synthNetwork({
      monitoredAsgs: [
        { asg_name: 'db-a', security_group_id: 'sg-0a' },
        { asg_name: 'db-b', security_group_id: 'sg-0a' },
        { asg_name: 'db-c', security_group_id: 'sg-0b' },
      ],
    });
    const grpc = Object.values(resourcesOf(t, INGRESS)).filter(
      (r) => r.referenced_security_group_id === '${each.value}',
    );
    expect(grpc).toHaveLength(1);
    expect(grpc[0].from_port).toBe(443);
    expect(grpc[0].for_each).toMatch(
      /^\$\{toset\(distinct\(\[ for key, val in toset\(\[.*\]\): val\.security_group_id\]\)\)\}$/,
    );
    expect(evaluateWithAsgs(grpc[0].for_each.slice(2, -1), '[]')).toEqual(['sg-0a', 'sg-0b']);
  });

  it('writes the literal CIDR blocks into the for_each of the ALB rules', () => {
    const albIn = Object.values(resourcesOf(synthNetwork(), INGRESS)).filter(
      (r) => r.cidr_ipv4 === '${each.value}',
    );
    expect(albIn).toHaveLength(2);
    for (const r of albIn) {
      expect(r.for_each).toBe('${toset(["10.0.0.0/8", "192.168.0.0/16"])}');
    }
  });

  it('rejects an empty allowedCidrBlocks list', () => {
    expect(() => synthNetwork({ allowedCidrBlocks: [] })).toThrow(/allowedCidrBlocks/);
  });
});
