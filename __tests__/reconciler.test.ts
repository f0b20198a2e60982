import { resource, resourcesOf, synthModule } from './helpers/synth';
import { App, TerraformStack } from 'cdktf';
import { AsgReconciler, RECONCILER_ZIP, requireBundle } from '../constructs/reconciler';

const TYPES = [
  'aws_lambda_function',
  'aws_iam_role',
  'aws_iam_role_policy',
  'aws_iam_role_policy_attachment',
  'aws_security_group',
  'aws_vpc_security_group_egress_rule',
  'aws_vpc_security_group_ingress_rule',
  'aws_cloudwatch_log_group',
  'aws_cloudwatch_event_rule',
  'aws_cloudwatch_event_target',
  'aws_lambda_permission',
  'aws_secretsmanager_secret',
  'aws_ssm_parameter',
];
const COUNT = '${((length(var.monitored_asgs) >= 1) || (length(var.monitored_rds) >= 1)) ? 1 : 0}';
/** The ASG event rule exists with monitored ASGs only (rds-monitoring.test.ts). */
const ASG_COUNT = '${(length(var.monitored_asgs) >= 1) ? 1 : 0}';

describe('ASG reconciler infrastructure', () => {
  const tf = synthModule();
  const ofReconciler = (type: string) =>
    Object.entries(resourcesOf(tf, type)).filter(([k]) => k.startsWith('pmm_reconciler_'));

  it('exists only when monitored_asgs or monitored_rds is non-empty (plan-time count on every resource; the ASG event rule with ASGs only)', () => {
    const all = TYPES.flatMap(ofReconciler);
    expect(all.length).toBe(17);
    for (const [k, body] of all) {
      expect(body.count).toBe(k.includes('_asg_events') ? ASG_COUNT : COUNT);
    }
  });

  it('references the zip as a module-relative asset', () => {
    const fn = resource(tf, 'aws_lambda_function', 'pmm_reconciler_function');
    expect(fn.filename).toMatch(
      /^\$\{path\.module\}\/assets\/pmm_reconciler_bundle\/[0-9A-F]+\/asg-reconciler\.zip$/,
    );
    expect(fn.source_code_hash).toBe(`\${filebase64sha256("${fn.filename}")}`);
    expect(fn.runtime).toBe('nodejs22.x');
    expect(fn.reserved_concurrent_executions).toBe(1);
    expect(fn.vpc_config.subnet_ids).toBe('${var.private_subnet_ids}');
    expect(fn.environment.variables).toEqual({
      MONITORED_ASGS: '${jsonencode(var.monitored_asgs)}',
      PMM_SERVER_ADDRESS: '${aws_network_interface.pmm_host_network_interface.private_ip}',
      PMM_ADMIN_SECRET_ARN: '${aws_secretsmanager_secret.pmm_admin_secret_secret.arn}',
      PMM_CA_PARAMETER: '${aws_ssm_parameter.pmm_config_ca_certificate.name}',
      PMM_ENROLMENT_SECRET_ARN:
        '${one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)}',
      RECONCILER_STATE_PARAMETER: '${one(aws_ssm_parameter.pmm_reconciler_state[*].name)}',
      MISSING_ASG_GRACE_HOURS: '6',
      MONITORED_RDS: '${jsonencode(var.monitored_rds)}',
      RDS_STATE_PARAMETER: '${one(aws_ssm_parameter.pmm_rds_monitoring_state[*].name)}',
      // The enrolment secret's policy (the Lambda's) never locks these out.
      RECONCILER_ROLE_ARN: '${one(aws_iam_role.pmm_reconciler_role[*].arn)}',
      SECRET_READER_ARNS: '${jsonencode(compact(var.secret_readers))}',
    });
    // No --enable-source-maps: the bundle has no source map to enable.
    expect(fn.environment.variables.NODE_OPTIONS).toBeUndefined();
  });

  it('scopes the role: SendCommand to AWS-RunShellScript on monitored ASG instances, the admin secret only', () => {
    const policy: string = resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy;
    expect(policy).toContain(
      '"Action" = "ssm:SendCommand", "Resource" = "arn:${one(data.aws_partition.pmm_reconciler_partition[*].partition)}:ssm:${one(data.aws_region.pmm_reconciler_region[*].name)}::document/AWS-RunShellScript"',
    );
    expect(policy).toContain(
      '"ssm:resourceTag/aws:autoscaling:groupName" = (length(var.monitored_asgs) >= 1) ? var.monitored_asgs[*].asg_name : ["(none)"]',
    );
    expect(policy).toContain(
      '"Action" = "secretsmanager:GetSecretValue", "Resource" = aws_secretsmanager_secret.pmm_admin_secret_secret.arn',
    );
    expect(policy).toContain('"ssm:GetCommandInvocation"');
    expect(policy).not.toMatch(/"Action" = "([a-z]+:)?\*"/);
    const attach = resource(tf, 'aws_iam_role_policy_attachment', 'pmm_reconciler_vpc_access');
    // ENI management only; logs: the function's own group (reconciler-least-privilege.test.ts).
    expect(attach.policy_arn).toContain('AWSLambdaENIManagementAccess');
  });

  it('creates the enrolment secret without a Terraform-managed value, writable by the Lambda only on that secret', () => {
    const secret = resource(tf, 'aws_secretsmanager_secret', 'pmm_reconciler_enrolment_secret');
    expect(secret.count).toBe(COUNT);
    expect(secret.name).toBe('${var.service_name}-${var.environment}-pmm-enrolment-token');
    expect(secret.recovery_window_in_days).toBe(0);
    // The Lambda writes every version: Terraform manages none (it would fight over the value).
    expect(Object.keys(resourcesOf(tf, 'aws_secretsmanager_secret_version'))).toEqual([
      'pmm_admin_secret_version',
    ]);
    const policy: string = resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy;
    expect(policy).toContain(
      '"Action" = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy"], "Resource" = one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)',
    );
    // PutSecretValue and PutResourcePolicy appear in that statement only.
    expect(policy.match(/PutSecretValue/g)).toHaveLength(1);
    expect(policy.match(/PutResourcePolicy/g)).toHaveLength(1);
    expect(tf.output.reconciler_enrolment_secret_arn.value).toBe(
      '${one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)}',
    );
    expect(tf.output.reconciler_enrolment_secret_arn.description).toMatch(
      /null when monitored_asgs and monitored_rds are empty/,
    );
  });

  it('opens only 443 Lambda -> PMM instance (TLS) and 443 out, with descriptions', () => {
    const pmmApi = resource(
      tf,
      'aws_vpc_security_group_egress_rule',
      'pmm_reconciler_egress_pmm_https',
    );
    expect(pmmApi).toMatchObject({
      from_port: 443,
      to_port: 443,
      referenced_security_group_id: '${aws_security_group.pmm_network_instance.id}',
    });
    const apis = resource(
      tf,
      'aws_vpc_security_group_egress_rule',
      'pmm_reconciler_egress_aws_apis',
    );
    expect(apis).toMatchObject({ from_port: 443, to_port: 443, cidr_ipv4: '0.0.0.0/0' });
    const ingress = resource(
      tf,
      'aws_vpc_security_group_ingress_rule',
      'pmm_reconciler_pmm_https_from_lambda',
    );
    expect(ingress).toMatchObject({
      from_port: 443,
      to_port: 443,
      referenced_security_group_id:
        '${one(aws_security_group.pmm_reconciler_security_group[*].id)}',
      security_group_id: '${aws_security_group.pmm_network_instance.id}',
    });
    for (const r of [pmmApi, apis, ingress]) expect(r.description).toBeTruthy();
    // Nothing between the Lambda and PMM on port 80 any more.
    const rules = [
      ...Object.values(tf.resource.aws_vpc_security_group_egress_rule ?? {}),
      ...Object.values(tf.resource.aws_vpc_security_group_ingress_rule ?? {}),
    ] as Record<string, unknown>[];
    const lambdaPmm = rules.filter((r) =>
      [r.security_group_id, r.referenced_security_group_id].some((v) =>
        String(v).includes('pmm_reconciler_security_group'),
      ),
    );
    expect(lambdaPmm.filter((r) => r.from_port !== 443 || r.to_port !== 443)).toEqual([]);
  });

  it('reads exactly the CA parameter the host publishes, and passes its name to the Lambda', () => {
    const policy = JSON.stringify(
      resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy,
    );
    expect(policy).toContain('ReadPmmCaCertificate');
    expect(policy).toContain('aws_ssm_parameter.pmm_config_ca_certificate.arn');
    const env = resource(tf, 'aws_lambda_function', 'pmm_reconciler_function').environment as {
      variables: Record<string, string>;
    };
    expect(env.variables.PMM_CA_PARAMETER).toBe(
      '${aws_ssm_parameter.pmm_config_ca_certificate.name}',
    );
  });

  it('runs every 5 minutes and may be invoked by that rule only', () => {
    expect(
      resource(tf, 'aws_cloudwatch_event_rule', 'pmm_reconciler_schedule').schedule_expression,
    ).toBe('rate(5 minutes)');
    const perm = resource(tf, 'aws_lambda_permission', 'pmm_reconciler_schedule_permission');
    expect(perm.principal).toBe('events.amazonaws.com');
    expect(perm.source_arn).toBe(
      '${one(aws_cloudwatch_event_rule.pmm_reconciler_schedule[*].arn)}',
    );
    const logGroup = resource(tf, 'aws_cloudwatch_log_group', 'pmm_reconciler_log_group');
    expect(logGroup.name).toBe('/aws/lambda/${var.service_name}-${var.environment}-asg-reconciler');
    expect(logGroup.retention_in_days).toBe('${var.log_retention_days}');
  });

  it('outputs null-safe ARNs', () => {
    expect(tf.output.reconciler_lambda_function_arn.value).toBe(
      '${one(aws_lambda_function.pmm_reconciler_function[*].arn)}',
    );
    expect(tf.output.reconciler_lambda_role_arn.value).toBe(
      '${one(aws_iam_role.pmm_reconciler_role[*].arn)}',
    );
  });

  it('asks for `npm run build:lambda` when the bundle is missing', () => {
    expect(() => requireBundle('/nonexistent/asg-reconciler.zip')).toThrow(/npm run build:lambda/);
    expect(() => requireBundle(RECONCILER_ZIP)).not.toThrow();
  });

  it('runs on the monitored ASGs launch/terminate events too, invoked by that rule only', () => {
    const rule = resource(tf, 'aws_cloudwatch_event_rule', 'pmm_reconciler_asg_events');
    expect(rule.count).toBe(ASG_COUNT);
    expect(rule.event_pattern).toBe(
      '${jsonencode({"source" = ["aws.autoscaling"], "detail-type" = ["EC2 Instance Launch Successful", "EC2 Instance Terminate Successful"], "detail" = {"AutoScalingGroupName" = var.monitored_asgs[*].asg_name}})}',
    );
    const target = resource(tf, 'aws_cloudwatch_event_target', 'pmm_reconciler_asg_events_target');
    expect(target.arn).toBe('${one(aws_lambda_function.pmm_reconciler_function[*].arn)}');
    const perm = resource(tf, 'aws_lambda_permission', 'pmm_reconciler_asg_events_permission');
    expect(perm.principal).toBe('events.amazonaws.com');
    expect(perm.source_arn).toBe(
      '${one(aws_cloudwatch_event_rule.pmm_reconciler_asg_events[*].arn)}',
    );
    // Still one run at a time, whatever triggered it.
    expect(
      resource(tf, 'aws_lambda_function', 'pmm_reconciler_function').reserved_concurrent_executions,
    ).toBe(1);
  });

  it('keeps its state in one SSM parameter the Lambda alone reads and writes; Terraform ignores the value', () => {
    const param = resource(tf, 'aws_ssm_parameter', 'pmm_reconciler_state');
    expect(param.name).toBe('/${var.service_name}-${var.environment}/pmm-asg-reconciler/state');
    expect(param.type).toBe('SecureString');
    expect(JSON.parse(param.value)).toEqual({ version: 1, missingSince: {} });
    expect(param.lifecycle.ignore_changes).toEqual(['value']);
    const policy: string = resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy;
    expect(policy).toContain(
      '"Action" = ["ssm:GetParameter", "ssm:PutParameter"], "Resource" = one(aws_ssm_parameter.pmm_reconciler_state[*].arn)',
    );
    expect(policy.match(/ssm:PutParameter/g)).toHaveLength(1);
    expect(policy).toContain(
      '"Action" = ["ssm:GetCommandInvocation", "ssm:ListCommands", "ssm:DescribeInstanceInformation"]',
    );
  });

  it('rejects a missing-ASG grace period out of range at synth, naming it', () => {
    const stack = new TerraformStack(new App(), 's');
    const props = {
      namePrefix: 'p',
      monitoredAsgs: [],
      vpcId: 'vpc',
      subnetIds: ['s'],
      pmmInstanceSecurityGroupId: 'sg',
      pmmPrivateIp: '10.0.0.1',
      pmmCaParameterArn: 'arn:ca',
      pmmCaParameterName: '/p/ca-certificate',
      adminSecretArn: 'arn',
      logRetentionDays: 7,
    };
    expect(() => new AsgReconciler(stack, 'r', { ...props, missingAsgGraceHours: 0 })).toThrow(
      /missingAsgGraceHours/,
    );
    expect(
      () => new AsgReconciler(stack, 'r2', { ...props, missingAsgGraceHours: 24 }),
    ).not.toThrow();
  });
});
