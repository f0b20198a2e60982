/**
 * Reach and placement (issue 16): internal_alb, validation_zone_id, the aws.dns provider of
 * every Route53 record and zone lookup, and what enable_auto_recovery switches on the instance.
 * `terraform test` covers the same switches on the module folder (tests/reach.tftest.hcl); here
 * the synthesized JSON and the expressions themselves, evaluated by real Terraform.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { PmmDeployment } from '../constructs/pmm-deployment';
import { ROUTE53_PROVIDER_ALIAS } from '../stacks/module-stack';
import { synthFrontDoor } from './helpers/front-door';
import { synthModule, synthRoot, TfJson } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const tf = synthModule();

/** Every resource and data source block with its provider (undefined = the default). */
function blocks(doc: TfJson): { kind: string; type: string; name: string; provider?: string }[] {
  const out: { kind: string; type: string; name: string; provider?: string }[] = [];
  for (const kind of ['resource', 'data'] as const)
    for (const [type, byName] of Object.entries((doc[kind] ?? {}) as Record<string, TfJson>))
      for (const [name, body] of Object.entries(byName as Record<string, TfJson>))
        out.push({ kind, type, name, provider: body.provider });
  return out;
}

describe('the aws.dns provider (Route53 in any account)', () => {
  it('is the alias name of the reference module', () => {
    expect(ROUTE53_PROVIDER_ALIAS).toBe('dns');
  });

  it.each([
    ['module stack', tf],
    ['root stack', synthRoot()],
  ])('%s: every Route53 record and zone lookup, and nothing else, uses aws.dns', (_, doc) => {
    const all = blocks(doc);
    const route53 = all.filter(
      (b) => b.type === 'aws_route53_record' || b.type === 'aws_route53_zone',
    );
    expect(route53.map((b) => `${b.kind}.${b.type}.${b.name}`).sort()).toEqual([
      'data.aws_route53_zone.pmm_front_door_validation_zone_zone',
      'data.aws_route53_zone.pmm_front_door_zone',
      'resource.aws_route53_record.pmm_front_door_alias_a',
      'resource.aws_route53_record.pmm_front_door_tls_caa',
      'resource.aws_route53_record.pmm_front_door_tls_validation_record',
    ]);
    for (const b of route53) expect(b.provider).toBe('aws.dns');
    // The certificate stays with the ALB's account and region.
    expect(all.filter((b) => b.provider !== undefined && !route53.includes(b))).toEqual([]);
  });

  it('module: declared in configuration_aliases, no provider block of its own', () => {
    expect(tf.terraform.required_providers.aws.configuration_aliases).toEqual(['aws.dns']);
    expect(tf.provider).toBeUndefined();
  });

  it('root stack: a second aws provider aliased dns, with the main one settings', () => {
    const root = synthRoot({ region: 'eu-west-1' });
    const providers = root.provider.aws as TfJson[];
    expect(providers).toHaveLength(2);
    const [main, dns] = [providers.find((p) => !p.alias), providers.find((p) => p.alias)];
    expect(dns).toEqual({ ...main, alias: 'dns' });
    expect(dns!.region).toBe('${var.region}');
  });

  it('a TypeScript user who passes no route53Provider gets the default provider', () => {
    const stack = new TerraformStack(Testing.app(), 'lit');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    new PmmDeployment(stack, 'pmm', {
      publicSubnetIds: ['subnet-a', 'subnet-b'],
      privateSubnetIds: ['subnet-c'],
      zoneId: 'Z123',
      environment: 'test',
      alarmEmails: ['ops@example.com'],
    });
    const doc = JSON.parse(Testing.synth(stack));
    expect(blocks(doc).filter((b) => b.provider !== undefined)).toEqual([]);
  });
});

describe('internal_alb (module)', () => {
  const alb = tf.resource.aws_lb.pmm_front_door_alb;

  it('switches the scheme and the subnets at plan time', () => {
    expect(alb.internal).toBe('${var.internal_alb}');
    expect(alb.subnets).toBe(
      '${var.internal_alb ? var.private_subnet_ids : var.public_subnet_ids}',
    );
  });

  it.each([
    [false, '["subnet-1"]', '["subnet-a", "subnet-b"]', true],
    [true, '["subnet-1", "subnet-2"]', '["subnet-a", "subnet-b"]', true],
    [true, '["subnet-1"]', '["subnet-a", "subnet-b"]', false],
  ])(
    'internal_alb = %p, private %s, public %s: the two-AZ precondition holds: %p',
    (internal, priv, pub, ok) => {
      const [pre] = alb.lifecycle.precondition as { condition: string; error_message: string }[];
      expect(pre.error_message).toContain('private_subnet_ids');
      const list = { type: 'list(string)' };
      expect(
        terraformEval(pre.condition, {
          variables: {
            internal_alb: { type: 'bool' },
            private_subnet_ids: list,
            public_subnet_ids: list,
          },
          values: {
            internal_alb: String(internal),
            private_subnet_ids: priv,
            public_subnet_ids: pub,
          },
        }),
      ).toBe(ok);
    },
  );

  it('reads the VPC only for an internal ALB', () => {
    expect(tf.data.aws_vpc.pmm_network_vpc.count).toBe('${var.internal_alb ? 1 : 0}');
    expect(tf.data.aws_vpc.pmm_network_vpc.id).toBe(
      '${data.aws_subnet.pmm_network_instance_subnet.vpc_id}',
    );
  });

  const rule = tf.resource.aws_vpc_security_group_ingress_rule.pmm_network_alb_https_in;
  const vpc = {
    cidr_block_associations: [{ cidr_block: '10.0.0.0/16' }, { cidr_block: '100.64.0.0/20' }],
  };
  it.each([
    ['null', false, ['0.0.0.0/0']],
    ['null', true, ['10.0.0.0/16', '100.64.0.0/20']],
    ['["192.168.0.0/16"]', true, ['192.168.0.0/16']],
    ['["192.168.0.0/16"]', false, ['192.168.0.0/16']],
  ])(
    'allowed_cidr_blocks = %s, internal_alb = %p: the ALB accepts %j (never 0.0.0.0/0 by default when internal)',
    (allowed, internal, expected) => {
      const expr = (rule.for_each as string).replace(
        /data\.aws_vpc\.pmm_network_vpc/g,
        'local.vpc',
      );
      expect(
        terraformEval(expr, {
          variables: {
            allowed_cidr_blocks: { type: 'list(string)', default: null, nullable: true },
            internal_alb: { type: 'bool' },
          },
          values: { allowed_cidr_blocks: allowed, internal_alb: String(internal) },
          locals: { vpc: internal ? [vpc] : [] },
        }),
      ).toEqual(expected);
    },
  );
});

describe('validation_zone_id (module)', () => {
  const cert = tf.resource.aws_acm_certificate.pmm_front_door_tls_certificate;
  const pre = cert.lifecycle.precondition as { condition: string; error_message: string }[];

  it('puts validation and CAA records into the validation zone, alias records into zone_id', () => {
    const r = tf.resource.aws_route53_record;
    expect(r.pmm_front_door_tls_validation_record.zone_id).toBe(
      '${coalesce(var.validation_zone_id, var.zone_id)}',
    );
    expect(r.pmm_front_door_tls_caa.zone_id).toBe(
      '${coalesce(var.validation_zone_id, var.zone_id)}',
    );
    expect(r.pmm_front_door_alias_a.zone_id).toBe('${var.zone_id}');
    expect(tf.data.aws_route53_zone.pmm_front_door_validation_zone_zone.zone_id).toBe(
      '${coalesce(var.validation_zone_id, var.zone_id)}',
    );
  });

  /** The certificate's preconditions with the two zones as locals. */
  function holds(
    zone: { name: string },
    validation: { name: string; private_zone: boolean | null },
  ) {
    const exprs = pre.map((p) =>
      p.condition
        .slice(2, -1)
        .replace(/data\.aws_route53_zone\.pmm_front_door_validation_zone_zone/g, 'local.vz')
        .replace(/data\.aws_route53_zone\.pmm_front_door_zone/g, 'local.z'),
    );
    return terraformEval(`[${exprs.join(', ')}]`, { locals: { z: zone, vz: validation } });
  }

  it.each([
    // zone_id's name, validation zone's name and privacy -> [public, same or parent domain]
    ['example.com', 'example.com', false, [true, true]],
    ['internal.example.com', 'example.com', false, [true, true]],
    ['example.com.', 'example.com.', false, [true, true]], // trailing dots as the API may give
    ['example.com', 'example.com', true, [false, true]], // a private zone_id, no validation zone
    ['internal.example.com', 'other.org', false, [true, false]],
    ['myexample.com', 'example.com', false, [true, false]], // a suffix, not a parent domain
    ['example.com', 'internal.example.com', false, [true, false]], // a child cannot hold the names
  ])('zone %s, validation zone %s (private %p): %j', (zone, vz, priv, expected) => {
    expect(holds({ name: zone }, { name: vz, private_zone: priv })).toEqual(expected);
  });

  it('names the variables and the way out in its messages', () => {
    expect(pre[0].error_message).toMatch(
      /private hosted zone.*Set validation_zone_id to a public hosted zone/,
    );
    expect(pre[1].error_message).toMatch(
      /validation_zone_id must be a public zone of zone_id's domain or of a parent domain/,
    );
  });
});

describe('FrontDoor props (TypeScript)', () => {
  // The internal/subnet rules of the ALB do not depend on the names or the access logs.
  const synth = synthFrontDoor;

  const albOf = (doc: TfJson): TfJson => Object.values(doc.resource.aws_lb as TfJson)[0];

  it('internal: true puts a literal internal ALB in the private subnets', () => {
    const alb = albOf(synth({ internal: true, privateSubnetIds: ['subnet-c', 'subnet-d'] }));
    expect(alb.internal).toBe(true);
    expect(alb.subnets).toEqual(['subnet-c', 'subnet-d']);
  });

  it('by default a literal internet-facing ALB in the public subnets', () => {
    const alb = albOf(synth({}));
    expect(alb.internal).toBe(false);
    expect(alb.subnets).toEqual(['subnet-a', 'subnet-b']);
  });

  it('refuses internal without private subnets at synth', () => {
    expect(() => synth({ internal: true })).toThrow(/privateSubnetIds/);
  });
});

describe('enable_auto_recovery on the instance (EC2 simplified automatic recovery)', () => {
  const instance = tf.resource.aws_instance.pmm_host_instance;

  it('writes no static maintenance_options: AWS default while true, no diff on existing instances', () => {
    expect(instance.maintenance_options).toBeUndefined();
  });

  it.each([
    [true, []],
    [false, ['disabled']],
  ])('enable_auto_recovery = %p: maintenance_options blocks %j', (on, expected) => {
    const dyn = instance.dynamic.maintenance_options;
    expect(dyn.content).toEqual({ auto_recovery: '${maintenance_options.value}' });
    expect(
      terraformEval(dyn.for_each, {
        variables: { enable_auto_recovery: { type: 'bool' } },
        values: { enable_auto_recovery: String(on) },
      }),
    ).toEqual(expected);
  });
});
