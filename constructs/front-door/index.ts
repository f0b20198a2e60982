import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbListenerCertificate } from '@cdktf/provider-aws/lib/lb-listener-certificate';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbTargetGroupAttachment } from '@cdktf/provider-aws/lib/lb-target-group-attachment';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { Fn, Op, TerraformIterator, TerraformLocal, TerraformProvider, Token } from 'cdktf';
import { Construct } from 'constructs';
import { Flag } from '../util/plan-time';
import { PropValidationError, requireNonEmpty } from '../util/validate';
import { AccessLogsBucket } from './access-logs';
import { DnsCertificate } from './certificate';
import { ValidationZone } from './validation-zone';
import { albName, TARGET_GROUP_NAME_PREFIX } from './names';

/** Target group health check on PMM's unauthenticated readiness endpoint. */
export const HEALTH_CHECK = {
  path: '/v1/readyz',
  matcher: '200',
  intervalSeconds: 15,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
} as const;
/** One target that is never drained for a scale-in: a short delay suffices. */
export const DEREGISTRATION_DELAY_SECONDS = 30;

/**
 * Strict-Transport-Security on every HTTPS response: browsers use only HTTPS for the PMM host
 * names (and names under them) for a year. No `preload`: that is the domain owner's decision.
 */
export const HSTS_HEADER_VALUE = 'max-age=31536000; includeSubDomains';

export interface FrontDoorProps {
  /** `<service_name>-<environment>`: names the ALB (see `albName`), bucket and tags. */
  readonly namePrefix: string;
  /** VPC of the target group (the instance's VPC). */
  readonly vpcId: string;
  /** Public subnets of the internet-facing ALB, two or more AZs. */
  readonly publicSubnetIds: string[];
  /**
   * An internal ALB (private IPs only, in `privateSubnetIds`) instead of an internet-facing one.
   * ELB cannot change the scheme of a load balancer: flipping it replaces the ALB.
   * @default false
   */
  readonly internal?: Flag;
  /**
   * Subnets of the internal ALB (two or more AZs); required when `internal` may be true.
   * @default - none (internal must then be false)
   */
  readonly privateSubnetIds?: string[];
  /** Security group of the ALB (from `Network`). */
  readonly albSecurityGroupId: string;
  /** Route53 hosted zone of the alias records (public, or private for an internal ALB). */
  readonly zoneId: string;
  /**
   * Public Route53 zone of the certificate validation and CAA records: the zone of `zoneId`'s
   * domain or of a parent domain. ACM checks validation records in public DNS, so a private
   * `zoneId` needs one. A Terraform expression that may be null.
   * @default - zoneId
   */
  readonly validationZoneId?: string;
  /**
   * AWS provider of every Route53 record and zone lookup (a zone in another account).
   * @default - the stack's default AWS provider
   */
  readonly route53Provider?: TerraformProvider;
  /** Host names relative to the zone; the first is the primary (`pmm_url`). */
  readonly dnsNames: string[];
  /** TLS policy of the HTTPS listener. */
  readonly sslPolicy: string;
  /** CA domains for CAA records; empty creates no CAA records. */
  readonly certificateIssuers: string[];
  /** More ACM certificate ARNs attached to the HTTPS listener (SNI). */
  readonly additionalCertificateArns: string[];
  /** ALB deletion protection. */
  readonly enableDeletionProtection: Flag;
  /** ALB access logs and their bucket (plan-time switch). */
  readonly enableAccessLogs: Flag;
  /** Days the access logs are kept. */
  readonly accessLogsRetentionDays: number;
  /** Lets `terraform destroy` delete the access-logs bucket with its logs. */
  readonly accessLogsBucketForceDestroy: Flag;
}

/**
 * The HTTPS front door: an internet-facing ALB in the public subnets, or an internal one in
 * the private subnets (`internal`) (HTTPS 443 with the
 * validated ACM certificate, HTTP 80 redirecting to HTTPS), one HTTP:80 target group with
 * the PMM instance as its only target, Route53 alias records for every name, and the
 * optional access-logs bucket.
 */
export class FrontDoor extends Construct {
  /** `<first name>.<zone>`: PMM's public address. */
  public readonly primaryFqdn: string;
  /** `https://<first name>.<zone>`. */
  public readonly pmmUrl: string;
  public readonly albDnsName: string;
  public readonly albArnSuffix: string;
  public readonly targetGroupArnSuffix: string;
  /** The listener's certificate, validated. */
  public readonly certificateArn: string;
  /** null when access logs are off. */
  public readonly accessLogsBucketName: string;
  private readonly targetGroup: LbTargetGroup;

  constructor(scope: Construct, id: string, props: FrontDoorProps) {
    super(scope, id);
    requireNonEmpty('FrontDoor', 'publicSubnetIds', props.publicSubnetIds);
    requireNonEmpty('FrontDoor', 'dnsNames', props.dnsNames);
    const internal = props.internal ?? false;
    if (internal !== false && props.privateSubnetIds === undefined) {
      throw new PropValidationError(
        'FrontDoor',
        'privateSubnetIds',
        'required when internal may be true',
      );
    }
    const dns = props.route53Provider;

    // A local, so functions over the prefix take a reference, not a template string.
    const namePrefix = new TerraformLocal(this, 'name_prefix', props.namePrefix).asString;

    const zone = new DataAwsRoute53Zone(this, 'zone', { provider: dns, zoneId: props.zoneId });
    const zoneName = Token.asString(Fn.trimsuffix(zone.name, '.'));
    this.primaryFqdn = `${Token.asString(Fn.element(props.dnsNames, 0))}.${zoneName}`;
    this.pmmUrl = `https://${this.primaryFqdn}`;

    const validationZone = new ValidationZone(this, 'validation_zone', {
      zoneId: props.zoneId,
      zoneName,
      validationZoneId: props.validationZoneId,
      provider: dns,
    });
    const tls = new DnsCertificate(this, 'tls', {
      namePrefix: props.namePrefix,
      zoneId: validationZone.zoneId,
      zoneName,
      dnsNames: props.dnsNames,
      certificateIssuers: props.certificateIssuers,
      route53Provider: dns,
      preconditions: validationZone.preconditions,
    });
    this.certificateArn = tls.validatedCertificateArn;

    const logs = new AccessLogsBucket(this, 'access_logs', {
      namePrefix,
      enabled: props.enableAccessLogs,
      retentionDays: props.accessLogsRetentionDays,
      forceDestroy: props.accessLogsBucketForceDestroy,
    });
    this.accessLogsBucketName = logs.bucketName;

    // internal is ForceNew: switching it replaces the ALB (and its listeners).
    let subnets: string[];
    if (internal === false) subnets = props.publicSubnetIds;
    else if (internal === true) subnets = props.privateSubnetIds!;
    else
      subnets = Token.asList(
        Fn.conditional(internal, props.privateSubnetIds, props.publicSubnetIds),
      );
    const alb = new Lb(this, 'alb', {
      name: albName(namePrefix),
      internal,
      loadBalancerType: 'application',
      ipAddressType: 'ipv4',
      subnets,
      securityGroups: [props.albSecurityGroupId],
      dropInvalidHeaderFields: true,
      enableDeletionProtection: props.enableDeletionProtection,
      accessLogs: {
        // The block stays (enabled = false) when off, so turning logs off really disables them.
        bucket: Token.asString(Fn.conditional(props.enableAccessLogs, logs.bucketName, '')),
        enabled: props.enableAccessLogs,
      },
      tags: { Name: `${props.namePrefix}-alb` },
      dependsOn: [logs.policy],
      lifecycle: {
        precondition: [
          {
            // An ALB needs subnets in two Availability Zones; AWS would refuse it at apply.
            condition: Op.gte(Fn.lengthOf(subnets), 2),
            errorMessage:
              'internal_alb = true puts the load balancer in private_subnet_ids, which must then list at least two subnets in different Availability Zones.',
          },
        ],
      },
    });
    this.albDnsName = alb.dnsName;
    this.albArnSuffix = alb.arnSuffix;

    this.targetGroup = new LbTargetGroup(this, 'target_group', {
      // name_prefix (at most 6 characters) + create_before_destroy: a replacement never
      // collides with the old group's name, whatever service_name and environment are.
      namePrefix: TARGET_GROUP_NAME_PREFIX,
      port: 80,
      protocol: 'HTTP',
      targetType: 'instance',
      vpcId: props.vpcId,
      deregistrationDelay: String(DEREGISTRATION_DELAY_SECONDS),
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: HEALTH_CHECK.path,
        matcher: HEALTH_CHECK.matcher,
        interval: HEALTH_CHECK.intervalSeconds,
        timeout: HEALTH_CHECK.timeoutSeconds,
        healthyThreshold: HEALTH_CHECK.healthyThreshold,
        unhealthyThreshold: HEALTH_CHECK.unhealthyThreshold,
      },
      tags: { Name: `${props.namePrefix}-pmm` },
      lifecycle: { createBeforeDestroy: true },
    });
    this.targetGroupArnSuffix = this.targetGroup.arnSuffix;

    const https = new LbListener(this, 'https', {
      loadBalancerArn: alb.arn,
      port: 443,
      protocol: 'HTTPS',
      sslPolicy: props.sslPolicy,
      certificateArn: tls.validatedCertificateArn,
      defaultAction: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
      // The load balancer adds HSTS to every HTTPS response (ALB listener attribute).
      routingHttpResponseStrictTransportSecurityHeaderValue: HSTS_HEADER_VALUE,
      tags: { Name: `${props.namePrefix}-https` },
    });
    new LbListener(this, 'http_redirect', {
      loadBalancerArn: alb.arn,
      port: 80,
      protocol: 'HTTP',
      defaultAction: [
        {
          type: 'redirect',
          redirect: { port: '443', protocol: 'HTTPS', statusCode: 'HTTP_301' },
        },
      ],
      tags: { Name: `${props.namePrefix}-http-redirect` },
    });
    const extraCertificates = TerraformIterator.fromList(props.additionalCertificateArns);
    new LbListenerCertificate(this, 'additional_certificate', {
      forEach: extraCertificates,
      listenerArn: https.arn,
      certificateArn: Token.asString(extraCertificates.value),
    });

    // IPv4 only: the ALB is not dualstack, so there are no AAAA records.
    const names = TerraformIterator.fromList(props.dnsNames);
    new Route53Record(this, 'alias_a', {
      provider: dns,
      forEach: names,
      zoneId: props.zoneId,
      name: `${Token.asString(names.value)}.${zoneName}`,
      type: 'A',
      alias: { name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true },
    });
  }

  /** Registers the PMM instance as the target group's only target. */
  public registerTarget(instanceId: string): void {
    new LbTargetGroupAttachment(this, 'target', {
      targetGroupArn: this.targetGroup.arn,
      targetId: instanceId,
      port: 80,
    });
  }
}
