import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbTargetGroupAttachment } from '@cdktf/provider-aws/lib/lb-target-group-attachment';
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { Flag } from './util/plan-time';

export interface FrontDoorProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly albSecurityGroupId: string;
  readonly zoneId: string;
  /** Host names relative to the zone; the first is the primary. */
  readonly dnsNames: string[];
  readonly sslPolicy: string;
  readonly certificateIssuers: string[];
  readonly additionalCertificateArns: string[];
  readonly enableDeletionProtection: Flag;
  readonly enableAccessLogs: Flag;
  readonly accessLogsRetentionDays: number;
  readonly accessLogsBucketForceDestroy: Flag;
}

/** ALB, certificate, DNS and access logs (issue #4 fills this in). */
export class FrontDoor extends Construct {
  public readonly primaryFqdn: string;
  public readonly pmmUrl: string;
  public readonly albDnsName: string;
  public readonly albArnSuffix: string;
  public readonly targetGroupArnSuffix: string;
  public readonly certificateArn: string;
  /** null when access logs are off. */
  public readonly accessLogsBucketName: string;
  private readonly targetGroup: LbTargetGroup;

  constructor(scope: Construct, id: string, props: FrontDoorProps) {
    super(scope, id);
    const zone = new DataAwsRoute53Zone(this, 'zone', { zoneId: props.zoneId });
    this.primaryFqdn = `${Token.asString(Fn.element(props.dnsNames, 0))}.${zone.name}`;
    this.pmmUrl = `https://${this.primaryFqdn}`;
    const alb = new Lb(this, 'alb', {
      namePrefix: 'pmm-',
      loadBalancerType: 'application',
      subnets: props.publicSubnetIds,
      securityGroups: [props.albSecurityGroupId],
    });
    this.targetGroup = new LbTargetGroup(this, 'target_group', {
      port: 80,
      protocol: 'HTTP',
      vpcId: props.vpcId,
      healthCheck: { path: '/v1/readyz' },
    });
    this.albDnsName = alb.dnsName;
    this.albArnSuffix = alb.arnSuffix;
    this.targetGroupArnSuffix = this.targetGroup.arnSuffix;
    this.certificateArn = '';
    this.accessLogsBucketName = '';
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
