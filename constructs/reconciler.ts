import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretPolicy } from '@cdktf/provider-aws/lib/secretsmanager-secret-policy';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { AssetType, Fn, IResolvable, Op, propertyAccess, TerraformAsset, Token } from 'cdktf';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { countWhen, countWhenNotEmpty, Flag, isNotEmpty, oneAttribute } from './util/plan-time';
import { PROJECT_ROOT } from './util/project-paths';
// The Lambda writes every later version of the enrolment secret's policy with this Sid.
import { DENY_SID as ENROLMENT_DENY_SID } from '../functions/asg-reconciler/src/enrolment-policy';
import { denyReadsExcept } from './secret-read-guard';
import { requireInRange } from './util/validate';

/** The zip `npm run build:lambda` writes (functions/asg-reconciler/build.ts). */
export const RECONCILER_ZIP = resolve(
  PROJECT_ROOT,
  'functions/asg-reconciler/dist/asg-reconciler.zip',
);

/** Throws a clear error when the Lambda zip has not been built. */
export function requireBundle(zipPath: string): void {
  if (!existsSync(zipPath)) {
    throw new Error(
      `AsgReconciler: the Lambda bundle ${zipPath} is missing. ` +
        'Run `npm run build:lambda` (npm run synth does it for you) and synthesize again.',
    );
  }
}

export interface AsgReconcilerProps {
  /** Prefix of every resource name. */
  readonly namePrefix: string;
  /** Terraform-shaped `monitored_asgs`; empty creates nothing. */
  readonly monitoredAsgs: IResolvable | object[];
  /** VPC of the PMM instance (the Lambda's security group lives there). */
  readonly vpcId: string;
  /** Private subnets (with a NAT route or VPC endpoints for the AWS APIs) for the Lambda. */
  readonly subnetIds: string[];
  /** Security group of the PMM instance; gets port 443 ingress from the Lambda. */
  readonly pmmInstanceSecurityGroupId: string;
  /** Private IP of the PMM instance (its HTTPS API and the agents' gRPC, both on 443). */
  readonly pmmPrivateIp: string;
  /**
   * The SSM parameter the PMM host publishes its CA certificate to (PmmConfig): the Lambda
   * reads it to verify PMM's certificate and hands it to the install script.
   */
  readonly pmmCaParameterArn: string;
  readonly pmmCaParameterName: string;
  /** Secrets Manager ARN of the PMM admin password. */
  readonly adminSecretArn: string;
  /**
   * `secret_readers`: roles that keep read access to the enrolment secret (besides the
   * reconciler and, while their install is in flight, the instances being enrolled).
   * @default []
   */
  readonly secretReaderArns?: string[];
  /** Retention of the Lambda's log group. */
  readonly logRetentionDays: number;
  /** @default - CloudWatch Logs' service-managed encryption */
  readonly logKmsKeyArn?: string;
  /**
   * Lambda timeout; polling of install commands stops 30 s before it.
   * @default 300
   */
  readonly timeoutSeconds?: number;
  /**
   * How often the reconciler runs (besides the monitored ASGs' launch/terminate events).
   * @default 'rate(5 minutes)'
   */
  readonly scheduleExpression?: string;
  /**
   * Hours a monitored ASG may be missing from DescribeAutoScalingGroups before the services
   * the reconciler registered for it are removed (it is reported every run meanwhile).
   * @default 6
   */
  readonly missingAsgGraceHours?: number;
  /**
   * Terraform-shaped `monitored_rds` (constructs/rds-monitoring.ts): the Lambda also exists
   * when only this is non-empty, and registers these databases in PMM.
   * @default []
   */
  readonly monitoredRds?: IResolvable | object[];
  /** SSM parameter of the RDS phase's state (RdsMonitoring.stateParameterName). @default none */
  readonly rdsStateParameterName?: string;
}

/** The Auto Scaling events that trigger a run besides the schedule. */
export const ASG_EVENT_DETAIL_TYPES = [
  'EC2 Instance Launch Successful',
  'EC2 Instance Terminate Successful',
];

/**
 * The optional ASG reconciler: a scheduled Lambda that enrols InService instances of the
 * monitored Auto Scaling Groups in PMM (through SSM) and retires the PMM nodes of instances
 * that left. Every resource exists only when `monitoredAsgs` is non-empty (plan-time count).
 */
export class AsgReconciler extends Construct {
  /** True when `monitoredAsgs` is non-empty (a plan-time expression). */
  public readonly enabled: Flag;
  /** null when not created. */
  public readonly functionName: string;
  /** null when not created. */
  public readonly functionArn: string;
  /** null when not created. */
  public readonly roleArn: string;
  /**
   * The enrolment secret (the Lambda writes the PMM enrolment credential to it while installs
   * are in flight; only the instances being enrolled may read it). null when not created.
   */
  public readonly enrolmentSecretArn: string;
  /** null when not created. */
  public readonly roleName: string;
  /** The Lambda's security group; null when not created. */
  public readonly securityGroupId: string;
  /** Addresses of the Lambda -> PMM 443 rules (for `moved` blocks). */
  public readonly pmmRuleAddresses: { readonly egress: string; readonly ingress: string };

  constructor(scope: Construct, id: string, props: AsgReconcilerProps) {
    super(scope, id);
    const timeoutSeconds = props.timeoutSeconds ?? 300;
    requireInRange('AsgReconciler', 'timeoutSeconds', timeoutSeconds, 60, 900);
    const missingAsgGraceHours = props.missingAsgGraceHours ?? 6;
    requireInRange('AsgReconciler', 'missingAsgGraceHours', missingAsgGraceHours, 1, 720);
    requireBundle(RECONCILER_ZIP);

    // The Lambda exists when monitored_asgs or monitored_rds is non-empty (plan-time);
    // the ASG event rule only with monitored ASGs.
    const monitoredRds = props.monitoredRds ?? [];
    this.enabled = Op.or(isNotEmpty(props.monitoredAsgs), isNotEmpty(monitoredRds));
    const count = countWhen(this.enabled);
    const asgCount = countWhenNotEmpty(props.monitoredAsgs);
    const name = `${props.namePrefix}-asg-reconciler`;
    const asgNameList = propertyAccess(props.monitoredAsgs, ['*', 'asg_name']);
    // An IAM condition needs a value: with RDS only, a name no ASG can have ("(none)").
    const asgNames = Fn.conditional(isNotEmpty(props.monitoredAsgs), asgNameList, ['(none)']);

    const partition = new DataAwsPartition(this, 'partition', { count });
    const partitionName = oneAttribute(partition, 'partition');
    const region = oneAttribute(new DataAwsRegion(this, 'region', { count }), 'name');
    const accountId = oneAttribute(
      new DataAwsCallerIdentity(this, 'account', { count }),
      'account_id',
    );

    // ---- network: its own SG; 443 to the PMM instance (TLS, verified) and to the AWS APIs ----
    const sg = new SecurityGroup(this, 'security_group', {
      count,
      namePrefix: `${name}-`,
      description: 'PMM ASG reconciler Lambda',
      vpcId: props.vpcId,
      tags: { Name: name },
      lifecycle: { createBeforeDestroy: true },
    });
    const sgId = oneAttribute(sg, 'id');
    // New addresses (the port-80 rules of earlier releases are destroyed); the RDS phase's 443
    // rules of earlier releases move here (RdsMonitoring.attachReconciler), so no duplicate.
    const egressPmm = new VpcSecurityGroupEgressRule(this, 'egress_pmm_https', {
      count,
      securityGroupId: sgId,
      description: 'PMM HTTPS API on the PMM instance (certificate verified against its CA)',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      referencedSecurityGroupId: props.pmmInstanceSecurityGroupId,
    });
    new VpcSecurityGroupEgressRule(this, 'egress_aws_apis', {
      count,
      securityGroupId: sgId,
      description: 'AWS APIs (Auto Scaling, EC2, SSM, Secrets Manager) via NAT or endpoints',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });
    const ingressPmm = new VpcSecurityGroupIngressRule(this, 'pmm_https_from_lambda', {
      count,
      securityGroupId: props.pmmInstanceSecurityGroupId,
      description: 'PMM HTTPS API from the ASG reconciler Lambda',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      referencedSecurityGroupId: sgId,
    });
    this.pmmRuleAddresses = {
      egress: `${egressPmm.terraformResourceType}.${egressPmm.friendlyUniqueId}`,
      ingress: `${ingressPmm.terraformResourceType}.${ingressPmm.friendlyUniqueId}`,
    };

    // ---- the enrolment secret: the Lambda writes the enrolment credential ----
    // No secret version from Terraform: the Lambda creates every version (PutSecretValue works
    // on a secret without versions; until the first one, GetSecretValue answers
    // ResourceNotFoundException, which the Lambda reads as "nothing stored"), so Terraform
    // never fights it over the value. Recovery window 0: the value is a password revoked once
    // no install is in flight and issued again on demand, nothing worth recovering, and a
    // re-created module can reuse the fixed name at once.
    const enrolmentSecret = new SecretsmanagerSecret(this, 'enrolment_secret', {
      count,
      name: `${props.namePrefix}-pmm-enrolment-token`,
      description:
        'PMM enrolment credential the ASG reconciler writes while instance registrations are in flight',
      recoveryWindowInDays: 0,
      tags: { Name: `${props.namePrefix}-pmm-enrolment-token` },
    });
    const enrolmentSecretArn = oneAttribute(enrolmentSecret, 'arn');

    // ---- the reconciler's state: when each monitored ASG was first seen missing ----
    // The Lambda is stateless; this parameter keeps the "missing since" clock between runs
    // (docs/reconciler.md, "Missing is not empty"). Terraform creates it; the Lambda writes
    // every later value, so Terraform ignores the value (it would reset the clocks).
    // SecureString with the AWS-managed key (no secret in it; encrypted like everything else).
    const stateParameter = new SsmParameter(this, 'state', {
      count,
      name: `/${props.namePrefix}/pmm-asg-reconciler/state`,
      description: 'PMM ASG reconciler state (missing-ASG clocks), written by the Lambda',
      type: 'SecureString',
      value: JSON.stringify({ version: 1, missingSince: {} }),
      lifecycle: { ignoreChanges: ['value'] },
      tags: { Name: `${props.namePrefix}-pmm-asg-reconciler-state` },
    });
    const stateParameterArn = oneAttribute(stateParameter, 'arn');
    const stateParameterName = oneAttribute(stateParameter, 'name');

    // ---- IAM: exactly what the function calls ----
    const role = new IamRole(this, 'role', {
      count,
      namePrefix: `${props.namePrefix}-reconciler-`,
      description: 'PMM ASG reconciler Lambda',
      assumeRolePolicy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    });
    const roleName = oneAttribute(role, 'name');
    const readerArns = props.secretReaderArns ?? [];
    // Issue 13: Terraform creates the first, strictest version (the reconciler and
    // secret_readers only, no instance); the Lambda owns every later one: it allows exactly
    // the instances whose install is in flight and goes back to this when none is
    // (functions/asg-reconciler/src/enrolment-policy.ts). Hence ignore_changes: a re-apply
    // must not cut off an install in flight. secret_readers reach the policy through the
    // Lambda's environment (SECRET_READER_ARNS) at its next run.
    new SecretsmanagerSecretPolicy(this, 'enrolment_secret_policy', {
      count,
      secretArn: enrolmentSecretArn,
      blockPublicPolicy: true,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          denyReadsExcept({
            sid: ENROLMENT_DENY_SID,
            allowedPrincipalArns: Fn.concat([[oneAttribute(role, 'arn')], readerArns]),
          }),
        ],
      }),
      lifecycle: { ignoreChanges: ['policy'] },
    });
    const vpcAccess = new IamRolePolicyAttachment(this, 'vpc_access', {
      count,
      role: roleName,
      // ENI management only: the log permissions of AWSLambdaVPCAccessExecutionRole cover
      // every log group of the account; the function's own group is granted below.
      policyArn: `arn:${partitionName}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess`,
    });
    const logGroup = new CloudwatchLogGroup(this, 'log_group', {
      count,
      name: `/aws/lambda/${name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
      tags: { Name: name },
    });
    const policy = new IamRolePolicy(this, 'policy', {
      count,
      name: 'asg-reconciler',
      role: roleName,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DiscoverInstances',
            Effect: 'Allow',
            // Neither action supports resource-level permissions.
            Action: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
            Resource: '*',
          },
          {
            Sid: 'RunInstallDocument',
            Effect: 'Allow',
            Action: 'ssm:SendCommand',
            Resource: `arn:${partitionName}:ssm:${region}::document/AWS-RunShellScript`,
          },
          {
            Sid: 'OnMonitoredAsgInstancesOnly',
            Effect: 'Allow',
            Action: 'ssm:SendCommand',
            Resource: `arn:${partitionName}:ec2:${region}:${accountId}:instance/*`,
            Condition: {
              StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': asgNames },
            },
          },
          {
            Sid: 'WriteOwnLogGroup',
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: `${oneAttribute(logGroup, 'arn')}:*`,
          },
          {
            // GetCommandInvocation: install results. ListCommands: installs an earlier run
            // still has in flight (followed, not sent twice). DescribeInstanceInformation:
            // whether a new instance's SSM agent is online yet. None supports resource-level
            // permissions.
            Sid: 'ReadInstallResults',
            Effect: 'Allow',
            Action: [
              'ssm:GetCommandInvocation',
              'ssm:ListCommands',
              'ssm:DescribeInstanceInformation',
            ],
            Resource: '*',
          },
          {
            // The CA the PMM host published (public): verifies PMM's certificate.
            Sid: 'ReadPmmCaCertificate',
            Effect: 'Allow',
            Action: 'ssm:GetParameter',
            Resource: props.pmmCaParameterArn,
          },
          {
            Sid: 'ReconcilerState',
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'ssm:PutParameter'],
            Resource: stateParameterArn,
          },
          {
            Sid: 'ReadPmmAdminPassword',
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: props.adminSecretArn,
          },
          {
            // Get: to reuse the stored credential while installs are in flight. Put: issue it,
            // clear it. Resource policy: allow exactly the instances whose install is in
            // flight (docs/reconciler.md, "The enrolment credential").
            Sid: 'WriteEnrolmentCredential',
            Effect: 'Allow',
            Action: [
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:GetResourcePolicy',
              'secretsmanager:PutResourcePolicy',
            ],
            Resource: enrolmentSecretArn,
          },
        ],
      }),
    });

    // ---- function, schedule ----

    const bundle = new TerraformAsset(this, 'bundle', {
      path: RECONCILER_ZIP,
      type: AssetType.FILE,
    });
    // Module-relative so the module works wherever it is copied (path.module is "." in a root).
    const zipPath = `\${path.module}/${bundle.path}`;
    const fn = new LambdaFunction(this, 'function', {
      count,
      functionName: name,
      description: 'Enrols monitored ASG instances in PMM and retires the ones that left',
      role: oneAttribute(role, 'arn'),
      runtime: 'nodejs22.x',
      handler: 'index.handler',
      filename: zipPath,
      sourceCodeHash: `\${filebase64sha256("${zipPath}")}`,
      timeout: timeoutSeconds,
      memorySize: 256,
      reservedConcurrentExecutions: 1,
      vpcConfig: { subnetIds: props.subnetIds, securityGroupIds: [sgId] },
      environment: {
        variables: {
          MONITORED_ASGS: Fn.jsonencode(props.monitoredAsgs),
          PMM_SERVER_ADDRESS: props.pmmPrivateIp,
          PMM_CA_PARAMETER: props.pmmCaParameterName,
          PMM_ADMIN_SECRET_ARN: props.adminSecretArn,
          PMM_ENROLMENT_SECRET_ARN: enrolmentSecretArn,
          // The enrolment secret's policy never locks these out (the Lambda writes it).
          RECONCILER_ROLE_ARN: oneAttribute(role, 'arn'),
          SECRET_READER_ARNS: Fn.jsonencode(Fn.compact(readerArns)),
          RECONCILER_STATE_PARAMETER: stateParameterName,
          MONITORED_RDS: Fn.jsonencode(monitoredRds),
          RDS_STATE_PARAMETER: props.rdsStateParameterName ?? '',
          MISSING_ASG_GRACE_HOURS: Token.isUnresolved(missingAsgGraceHours)
            ? Token.asString(missingAsgGraceHours)
            : String(missingAsgGraceHours),
          // No NODE_OPTIONS=--enable-source-maps: the bundle ships no source map (it would
          // only slow cold starts and stack traces would still be minified).
        },
      },
      tags: { Name: name },
      dependsOn: [logGroup, vpcAccess, policy],
    });
    const fnArn = oneAttribute(fn, 'arn');

    const rule = new CloudwatchEventRule(this, 'schedule', {
      count,
      name,
      description: 'Runs the PMM ASG reconciler',
      scheduleExpression: props.scheduleExpression ?? 'rate(5 minutes)',
      tags: { Name: name },
    });
    new CloudwatchEventTarget(this, 'schedule_target', {
      count,
      rule: oneAttribute(rule, 'name'),
      targetId: 'asg-reconciler',
      arn: fnArn,
    });
    new LambdaPermission(this, 'schedule_permission', {
      count,
      statementId: 'AllowEventBridgeSchedule',
      action: 'lambda:InvokeFunction',
      functionName: oneAttribute(fn, 'function_name'),
      principal: 'events.amazonaws.com',
      sourceArn: oneAttribute(rule, 'arn'),
    });

    // ---- the monitored ASGs' launch/terminate events: enrol within a minute ----
    // Same function, same reserved concurrency 1: an event run never overlaps another run.
    const events = new CloudwatchEventRule(this, 'asg_events', {
      count: asgCount,
      name: `${name}-asg-events`,
      description: 'Runs the PMM ASG reconciler when a monitored ASG launches or terminates',
      eventPattern: Fn.jsonencode({
        source: ['aws.autoscaling'],
        'detail-type': ASG_EVENT_DETAIL_TYPES,
        detail: { AutoScalingGroupName: asgNameList },
      }),
      tags: { Name: `${name}-asg-events` },
    });
    new CloudwatchEventTarget(this, 'asg_events_target', {
      count: asgCount,
      rule: oneAttribute(events, 'name'),
      targetId: 'asg-reconciler',
      arn: fnArn,
    });
    new LambdaPermission(this, 'asg_events_permission', {
      count: asgCount,
      statementId: 'AllowEventBridgeAsgEvents',
      action: 'lambda:InvokeFunction',
      functionName: oneAttribute(fn, 'function_name'),
      principal: 'events.amazonaws.com',
      sourceArn: oneAttribute(events, 'arn'),
    });

    this.functionName = oneAttribute(fn, 'function_name');
    this.functionArn = fnArn;
    this.roleArn = oneAttribute(role, 'arn');
    this.enrolmentSecretArn = enrolmentSecretArn;
    this.roleName = roleName;
    this.securityGroupId = sgId;
  }
}
