import { resource, resourcesOf, synthModule } from './helpers/synth';
import { RECONCILER_ZIP, requireBundle } from '../constructs/reconciler';

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
];
const COUNT = '${(length(var.monitored_asgs) >= 1) ? 1 : 0}';

describe('ASG reconciler infrastructure', () => {
  const tf = synthModule();
  const ofReconciler = (type: string) =>
    Object.entries(resourcesOf(tf, type)).filter(([k]) => k.startsWith('pmm_reconciler_'));

  it('exists only when monitored_asgs is non-empty (plan-time count on every resource)', () => {
    const all = TYPES.flatMap(ofReconciler);
    expect(all.length).toBe(13);
    for (const [, body] of all) expect(body.count).toBe(COUNT);
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
      PMM_ENROLMENT_SECRET_ARN:
        '${one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)}',
    });
    // No --enable-source-maps: the bundle has no source map to enable.
    expect(fn.environment.variables.NODE_OPTIONS).toBeUndefined();
  });

  it('scopes the role: SendCommand to AWS-RunShellScript on monitored ASG instances, the admin secret only', () => {
    const policy: string = resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy;
    expect(policy).toContain(
      '"Action" = "ssm:SendCommand", "Resource" = "arn:${one(data.aws_partition.pmm_reconciler_partition[*].partition)}:ssm:*::document/AWS-RunShellScript"',
    );
    expect(policy).toContain(
      '"ssm:resourceTag/aws:autoscaling:groupName" = var.monitored_asgs[*].asg_name',
    );
    expect(policy).toContain(
      '"Action" = "secretsmanager:GetSecretValue", "Resource" = aws_secretsmanager_secret.pmm_admin_secret_secret.arn',
    );
    expect(policy).toContain('"ssm:GetCommandInvocation"');
    expect(policy).not.toMatch(/"Action" = "([a-z]+:)?\*"/);
    const attach = resource(tf, 'aws_iam_role_policy_attachment', 'pmm_reconciler_vpc_access');
    expect(attach.policy_arn).toContain('AWSLambdaVPCAccessExecutionRole');
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
      '"Action" = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"], "Resource" = one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)',
    );
    // PutSecretValue appears in that statement only.
    expect(policy.match(/PutSecretValue/g)).toHaveLength(1);
    expect(tf.output.reconciler_enrolment_secret_arn.value).toBe(
      '${one(aws_secretsmanager_secret.pmm_reconciler_enrolment_secret[*].arn)}',
    );
    expect(tf.output.reconciler_enrolment_secret_arn.description).toMatch(
      /null when monitored_asgs is empty/,
    );
  });

  it('opens 80 Lambda -> PMM instance and 443 out, with descriptions', () => {
    const pmmApi = resource(
      tf,
      'aws_vpc_security_group_egress_rule',
      'pmm_reconciler_egress_pmm_api',
    );
    expect(pmmApi).toMatchObject({
      from_port: 80,
      to_port: 80,
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
      'pmm_reconciler_pmm_ingress_from_lambda',
    );
    expect(ingress).toMatchObject({
      from_port: 80,
      security_group_id: '${aws_security_group.pmm_network_instance.id}',
    });
    for (const r of [pmmApi, apis, ingress]) expect(r.description).toBeTruthy();
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
});
