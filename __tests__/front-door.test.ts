import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { FrontDoor } from '../constructs/front-door';
import {
  ELB_LOG_DELIVERY_PRINCIPAL,
  LEGACY_ELB_ACCOUNT_REGIONS,
} from '../constructs/front-door/access-logs';
import { countWhenNotEmpty, oneAttribute } from '../constructs/util/plan-time';
import { synthFrontDoor } from './helpers/front-door';
import { resourcesOf, synthModule, TfJson } from './helpers/synth';

const tf = synthModule();
const res = (type: string, name: string): TfJson => {
  const r = tf.resource[type]?.[name];
  if (r === undefined) throw new Error(`missing ${type}.${name}`);
  return r;
};
const alb = res('aws_lb', 'pmm_front_door_alb');
const tg = res('aws_lb_target_group', 'pmm_front_door_target_group');
const https = res('aws_lb_listener', 'pmm_front_door_https');
const http = res('aws_lb_listener', 'pmm_front_door_http_redirect');
const cert = res('aws_acm_certificate', 'pmm_front_door_tls_certificate');
const validation = res('aws_acm_certificate_validation', 'pmm_front_door_tls_validation');
const records = resourcesOf(tf, 'aws_route53_record');
const ZONE_NAME = 'trimsuffix(data.aws_route53_zone.pmm_front_door_zone.name, ".")';
const LOGS_COUNT = '${var.enable_alb_access_logs ? 1 : 0}';

describe('load balancer', () => {
  it('is an internet-facing ALB in the public subnets, or internal in the private ones (internal_alb), behind the ALB group', () => {
    expect(alb).toMatchObject({
      internal: '${var.internal_alb}',
      load_balancer_type: 'application',
      subnets: '${var.internal_alb ? var.private_subnet_ids : var.public_subnet_ids}',
      security_groups: ['${aws_security_group.pmm_network_alb.id}'],
      drop_invalid_header_fields: true,
      enable_deletion_protection: '${var.enable_deletion_protection}',
      ip_address_type: 'ipv4',
    });
  });

  it('writes access logs to the bucket only when enable_alb_access_logs is true', () => {
    expect(alb.access_logs).toEqual({
      enabled: '${var.enable_alb_access_logs}',
      bucket:
        '${var.enable_alb_access_logs ? one(aws_s3_bucket.pmm_front_door_access_logs_bucket[*].id) : ""}',
    });
    expect(alb.depends_on).toEqual(['aws_s3_bucket_policy.pmm_front_door_access_logs_policy']);
  });

  it('has a name of at most 32 characters that is unique per service and environment', () => {
    const m =
      /^\$\{replace\(substr\(local\.(\w+), 0, (\d+)\), "\/\^internal-\/", "int-"\)\}-\$\{substr\(sha1\(local\.(\w+)\), 0, (\d+)\)\}$/.exec(
        alb.name,
      );
    expect(m).not.toBeNull();
    const [, prefixLocal, readable, hashedLocal, hash] = m!;
    expect(Number(readable) + 1 + Number(hash)).toBeLessThanOrEqual(32);
    expect(Number(hash)).toBeGreaterThanOrEqual(8);
    expect(hashedLocal).toBe(prefixLocal);
    expect(tf.locals[prefixLocal]).toBe('${var.service_name}-${var.environment}');
  });
});

describe('target group', () => {
  it('forwards HTTP to the instance on port 80 with a /v1/readyz health check', () => {
    expect(tg).toMatchObject({
      port: 80,
      protocol: 'HTTP',
      target_type: 'instance',
      vpc_id: '${data.aws_subnet.pmm_network_instance_subnet.vpc_id}',
      deregistration_delay: '30',
      health_check: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: '/v1/readyz',
        matcher: '200',
        interval: 15,
        timeout: 5,
        healthy_threshold: 2,
        unhealthy_threshold: 3,
      },
    });
    expect(tg.health_check.timeout).toBeLessThan(tg.health_check.interval);
  });

  it('uses a name_prefix of at most 6 characters and is replaced before destroyed', () => {
    expect(tg.name).toBeUndefined();
    expect(tg.name_prefix.length).toBeLessThanOrEqual(6);
    expect(tg.lifecycle.create_before_destroy).toBe(true);
  });

  it('has the PMM instance as its only target', () => {
    expect(resourcesOf(tf, 'aws_lb_target_group_attachment')).toEqual({
      pmm_front_door_target: {
        target_group_arn: '${aws_lb_target_group.pmm_front_door_target_group.arn}',
        target_id: '${aws_instance.pmm_host_instance.id}',
        port: 80,
      },
    });
  });
});

describe('listeners', () => {
  it('terminates HTTPS on 443 with ssl_policy and the validated certificate', () => {
    expect(https).toMatchObject({
      load_balancer_arn: '${aws_lb.pmm_front_door_alb.arn}',
      port: 443,
      protocol: 'HTTPS',
      ssl_policy: '${var.ssl_policy}',
      certificate_arn:
        '${aws_acm_certificate_validation.pmm_front_door_tls_validation.certificate_arn}',
      default_action: [
        {
          type: 'forward',
          target_group_arn: '${aws_lb_target_group.pmm_front_door_target_group.arn}',
        },
      ],
    });
  });

  it('redirects HTTP on 80 to HTTPS with a 301', () => {
    expect(http).toMatchObject({
      port: 80,
      protocol: 'HTTP',
      default_action: [
        { type: 'redirect', redirect: { port: '443', protocol: 'HTTPS', status_code: 'HTTP_301' } },
      ],
    });
  });

  it('are the only two listeners', () => {
    expect(Object.keys(resourcesOf(tf, 'aws_lb_listener')).sort()).toEqual([
      'pmm_front_door_http_redirect',
      'pmm_front_door_https',
    ]);
  });

  it('attaches each additional certificate to the HTTPS listener', () => {
    expect(res('aws_lb_listener_certificate', 'pmm_front_door_additional_certificate')).toEqual({
      for_each: '${toset(var.additional_certificate_arns)}',
      listener_arn: '${aws_lb_listener.pmm_front_door_https.arn}',
      certificate_arn: '${each.value}',
    });
  });
});

describe('certificate', () => {
  it('covers <name>.<zone> of every dns_names entry, DNS-validated, replaced before destroyed', () => {
    const fqdns = `formatlist("%s.%s", var.dns_names, ${ZONE_NAME})`;
    expect(cert).toMatchObject({
      domain_name: `\${element(${fqdns}, 0)}`,
      subject_alternative_names: `\${slice(${fqdns}, 1, length(${fqdns}))}`,
      validation_method: 'DNS',
      lifecycle: { create_before_destroy: true },
      depends_on: ['aws_route53_record.pmm_front_door_tls_caa'],
    });
  });

  it('keys the validation records by the known dns_names, never by domain_validation_options', () => {
    const v = records.pmm_front_door_tls_validation_record;
    expect(v.for_each).toBe('${toset(var.dns_names)}');
    expect(v.for_each).not.toContain('domain_validation_options');
    // The public validation zone (validation_zone_id, else zone_id), through aws.dns.
    expect(v.zone_id).toBe('${coalesce(var.validation_zone_id, var.zone_id)}');
    expect(v.provider).toBe('aws.dns');
    expect(v.allow_overwrite).toBe(true);
    const lookup = (attr: string) =>
      `\${{ for key, val in tolist(aws_acm_certificate.pmm_front_door_tls_certificate.domain_validation_options): val.domain_name => val }["\${each.value}.\${${ZONE_NAME}}"].${attr}}`;
    expect(v.name).toBe(lookup('resource_record_name'));
    expect(v.type).toBe(lookup('resource_record_type'));
    expect(v.records).toEqual([lookup('resource_record_value')]);
  });

  it('waits for validation through every validation record', () => {
    expect(validation).toEqual({
      certificate_arn: '${aws_acm_certificate.pmm_front_door_tls_certificate.arn}',
      validation_record_fqdns:
        '${[ for key, val in aws_route53_record.pmm_front_door_tls_validation_record: val.fqdn]}',
    });
  });

  it('publishes CAA records for each name from certificate_issuers, none when the list is empty', () => {
    expect(records.pmm_front_door_tls_caa).toMatchObject({
      for_each: '${toset((length(var.certificate_issuers) >= 1) ? var.dns_names : [])}',
      name: `\${each.value}.\${${ZONE_NAME}}`,
      type: 'CAA',
      records: '${formatlist("0 issue \\"%s\\"", var.certificate_issuers)}',
    });
  });
});

describe('DNS', () => {
  it('points an alias A record of every name at the ALB (IPv4 only, no AAAA)', () => {
    expect(records.pmm_front_door_alias_a).toEqual({
      provider: 'aws.dns',
      for_each: '${toset(var.dns_names)}',
      zone_id: '${var.zone_id}',
      name: `\${each.value}.\${${ZONE_NAME}}`,
      type: 'A',
      alias: {
        name: '${aws_lb.pmm_front_door_alb.dns_name}',
        zone_id: '${aws_lb.pmm_front_door_alb.zone_id}',
        evaluate_target_health: true,
      },
    });
    expect(Object.values(records).filter((r) => r.type === 'AAAA')).toHaveLength(0);
  });

  it('outputs pmm_url as https://<first name>.<zone>', () => {
    expect(tf.output.pmm_url.value).toBe(`https://\${element(var.dns_names, 0)}.\${${ZONE_NAME}}`);
  });

  it('outputs the validated certificate ARN', () => {
    expect(tf.output.certificate_arn.value).toBe(https.certificate_arn);
  });
});

describe('access-logs bucket', () => {
  const logs = (type: string, suffix: string) => res(type, `pmm_front_door_access_logs_${suffix}`);
  const bucketId = '${one(aws_s3_bucket.pmm_front_door_access_logs_bucket[*].id)}';
  const bucketArn = '${one(aws_s3_bucket.pmm_front_door_access_logs_bucket[*].arn)}';

  it('exists only when enable_alb_access_logs is true (every resource counted)', () => {
    const s3Types = Object.keys(tf.resource).filter((t) => t.startsWith('aws_s3_bucket'));
    expect(s3Types.length).toBe(6);
    for (const type of s3Types) {
      for (const [address, r] of Object.entries(resourcesOf(tf, type))) {
        if (!address.startsWith('pmm_front_door_access_logs')) continue;
        expect([address, r.count]).toEqual([address, LOGS_COUNT]);
      }
    }
    expect(tf.output.alb_logs_bucket_name.value).toBe(bucketId);
  });

  it('takes force_destroy from the variable and a prefix that fits the 37-character limit', () => {
    const bucket = logs('aws_s3_bucket', 'bucket');
    expect(bucket.force_destroy).toBe('${var.alb_logs_bucket_force_destroy}');
    expect(bucket.bucket_prefix).toBe(
      '${substr("${local.pmm_front_door_name_prefix}-alb-logs-", 0, 37)}',
    );
  });

  it('blocks all public access and enforces bucket ownership', () => {
    expect(logs('aws_s3_bucket_public_access_block', 'public_access_block')).toMatchObject({
      bucket: bucketId,
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(logs('aws_s3_bucket_ownership_controls', 'ownership').rule).toEqual({
      object_ownership: 'BucketOwnerEnforced',
    });
  });

  it('encrypts with SSE-S3, the only server-side encryption ALB log delivery supports', () => {
    expect(logs('aws_s3_bucket_server_side_encryption_configuration', 'encryption').rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } },
    ]);
  });

  it('expires logs after alb_logs_retention_days', () => {
    const [rule] = logs('aws_s3_bucket_lifecycle_configuration', 'lifecycle').rule;
    expect(rule).toMatchObject({
      status: 'Enabled',
      filter: [{ prefix: '' }],
      expiration: [{ days: '${var.alb_logs_retention_days}' }],
    });
  });

  it('denies non-TLS access and lets ELB log delivery write under AWSLogs/<account>/', () => {
    const policy = logs('aws_s3_bucket_policy', 'policy');
    expect(policy.policy).toBe(
      '${one(data.aws_iam_policy_document.pmm_front_door_access_logs_policy_document[*].json)}',
    );
    const doc = tf.data.aws_iam_policy_document.pmm_front_door_access_logs_policy_document;
    expect(doc.count).toBe(LOGS_COUNT);
    const [deny, allow] = doc.statement;
    expect(deny).toMatchObject({
      effect: 'Deny',
      actions: ['s3:*'],
      resources: [bucketArn, `${bucketArn}/*`],
      condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
    });
    expect(allow).toMatchObject({
      effect: 'Allow',
      principals: [{ type: 'Service', identifiers: [ELB_LOG_DELIVERY_PRINCIPAL] }],
      actions: ['s3:PutObject'],
      resources: [
        `${bucketArn}/AWSLogs/\${data.aws_caller_identity.pmm_front_door_access_logs_account.account_id}/*`,
      ],
    });
  });

  it('adds the regional ELB account only in regions that have one (no Unknown region error)', () => {
    const elb = tf.data.aws_elb_service_account.pmm_front_door_access_logs_elb_account;
    const regions = LEGACY_ELB_ACCOUNT_REGIONS.map((r) => `"${r}"`).join(', ');
    expect(elb.count).toBe(
      `\${(var.enable_alb_access_logs && contains([${regions}], data.aws_region.pmm_front_door_access_logs_region.name)) ? 1 : 0}`,
    );
    expect(LEGACY_ELB_ACCOUNT_REGIONS).not.toContain('eu-central-2');
    const legacy =
      tf.data.aws_iam_policy_document.pmm_front_door_access_logs_legacy_elb_account_policy;
    expect(legacy.count).toBe(elb.count);
    expect(legacy.statement[0].principals).toEqual([
      {
        type: 'AWS',
        identifiers: [
          '${one(data.aws_elb_service_account.pmm_front_door_access_logs_elb_account[*].arn)}',
        ],
      },
    ]);
    expect(
      tf.data.aws_iam_policy_document.pmm_front_door_access_logs_policy_document
        .source_policy_documents,
    ).toBe(
      '${data.aws_iam_policy_document.pmm_front_door_access_logs_legacy_elb_account_policy[*].json}',
    );
  });
});

describe('FrontDoor with literal props', () => {
  it('switches the access-logs resources off with a count of 0, not by leaving them out', () => {
    const t = synthFrontDoor({ enableAccessLogs: false });
    const bucket = Object.values(resourcesOf(t, 'aws_s3_bucket'));
    expect(bucket).toHaveLength(1);
    expect(bucket[0].count).toBe('${false ? 1 : 0}');
  });

  it('rejects an empty dnsNames list', () => {
    expect(() => synthFrontDoor({ dnsNames: [] })).toThrow(/dnsNames/);
  });

  it('rejects a retention of 0 days', () => {
    expect(() => synthFrontDoor({ accessLogsRetentionDays: 0 })).toThrow(/retentionDays/);
  });

  it('exposes the contract attributes', () => {
    const stack = new TerraformStack(Testing.app(), 'fd2');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const fd = new FrontDoor(stack, 'front_door', {
      namePrefix: 'p',
      vpcId: 'vpc-1',
      publicSubnetIds: ['a', 'b'],
      albSecurityGroupId: 'sg',
      zoneId: 'Z',
      dnsNames: ['pmm'],
      sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
      certificateIssuers: [],
      additionalCertificateArns: [],
      enableDeletionProtection: true,
      enableAccessLogs: false,
      accessLogsRetentionDays: 7,
      accessLogsBucketForceDestroy: true,
    });
    for (const attr of [
      fd.primaryFqdn,
      fd.pmmUrl,
      fd.albDnsName,
      fd.albArnSuffix,
      fd.targetGroupArnSuffix,
      fd.certificateArn,
      fd.accessLogsBucketName,
    ]) {
      expect(typeof attr).toBe('string');
      expect(attr.length).toBeGreaterThan(0);
    }
    expect(typeof fd.registerTarget).toBe('function');
  });
});

describe('plan-time helpers used here', () => {
  it('oneAttribute renders a splat, not a template string', () => {
    const stack = new TerraformStack(Testing.app(), 'h');
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const bucket = new S3Bucket(stack, 'b', { count: 1 });
    new TerraformOutput(stack, 'via_arn', { value: oneAttribute(bucket, 'arn') });
    new TerraformOutput(stack, 'via_attribute', { value: oneAttribute(bucket, 'id') });
    new TerraformOutput(stack, 'count', { value: countWhenNotEmpty(['a']) });
    const out = JSON.parse(Testing.synth(stack)).output;
    expect(out.via_arn.value).toBe('${one(aws_s3_bucket.b[*].arn)}');
    expect(out.via_attribute.value).toBe('${one(aws_s3_bucket.b[*].id)}');
    expect(out.count.value).toBe('${(length(["a"]) >= 1) ? 1 : 0}');
  });
});
