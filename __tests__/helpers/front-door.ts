import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { FrontDoor, FrontDoorProps } from '../../constructs/front-door';
import { TfJson } from './synth';

/** A FrontDoor alone in a stack, with test props (two names, access logs on) and `overrides`. */
export function synthFrontDoor(overrides: Partial<FrontDoorProps> = {}): TfJson {
  const stack = new TerraformStack(Testing.app(), 'fd');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  new FrontDoor(stack, 'front_door', {
    namePrefix: 'pmm-server-test',
    vpcId: 'vpc-1',
    publicSubnetIds: ['subnet-a', 'subnet-b'],
    albSecurityGroupId: 'sg-alb',
    zoneId: 'Z123',
    dnsNames: ['pmm', 'metrics'],
    sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
    certificateIssuers: ['amazon.com'],
    additionalCertificateArns: [],
    enableDeletionProtection: false,
    enableAccessLogs: true,
    accessLogsRetentionDays: 30,
    accessLogsBucketForceDestroy: false,
    ...overrides,
  });
  return JSON.parse(Testing.synth(stack));
}
