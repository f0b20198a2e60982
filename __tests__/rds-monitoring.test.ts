import { resource, resourcesOf, synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

/**
 * monitored_rds switches at plan time: the host's RDS permissions, the Lambda's RDS policy,
 * the 443 path to PMM and the state parameter exist only when it is non-empty; the Lambda
 * exists when monitored_asgs OR monitored_rds is non-empty; one ingress rule per
 * (database security group, port), from the groups looked up at plan time.
 */
const tf = synthModule();
const RDS_COUNT = '${(length(var.monitored_rds) >= 1) ? 1 : 0}';
const ROW = (
  id: string,
  engine = 'mysql',
  arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC',
) =>
  `{ identifier = "${id}", engine = "${engine}", username = "pmm", password_secret_arn = "${arn}" }`;

function evalWith(expr: string, asgs: string, rds: string): unknown {
  return terraformEval(expr, {
    variables: {
      monitored_asgs: { type: tf.variable.monitored_asgs.type, default: [] },
      monitored_rds: { type: tf.variable.monitored_rds.type, default: [] },
    },
    values: { monitored_asgs: asgs, monitored_rds: rds },
  });
}
const ASG = '[{ asg_name = "db", username = "pmm", security_group_id = "sg-0123456789abcdef0" }]';

describe('monitored_rds plan-time switches', () => {
  const rdsOnly: [string, string][] = [
    ['aws_iam_role_policy', 'pmm_rds_monitoring_host_policy'],
    ['aws_iam_role_policy', 'pmm_rds_monitoring_reconciler_policy'],
    ['aws_ssm_parameter', 'pmm_rds_monitoring_state'],
  ];

  it('the Lambda -> PMM 443 rules of earlier releases move to the reconciler (both phases use them): no duplicate rule', () => {
    for (const [type, name] of [
      ['aws_vpc_security_group_egress_rule', 'pmm_rds_monitoring_reconciler_egress_pmm_tls'],
      ['aws_vpc_security_group_ingress_rule', 'pmm_rds_monitoring_pmm_tls_from_reconciler'],
    ]) {
      expect(resourcesOf(tf, type)[name]).toBeUndefined();
    }
    expect(tf.moved).toEqual(
      expect.arrayContaining([
        {
          from: 'aws_vpc_security_group_egress_rule.pmm_rds_monitoring_reconciler_egress_pmm_tls',
          to: 'aws_vpc_security_group_egress_rule.pmm_reconciler_egress_pmm_https',
        },
        {
          from: 'aws_vpc_security_group_ingress_rule.pmm_rds_monitoring_pmm_tls_from_reconciler',
          to: 'aws_vpc_security_group_ingress_rule.pmm_reconciler_pmm_https_from_lambda',
        },
      ]),
    );
  });

  it.each(rdsOnly)('%s.%s exists only when monitored_rds is non-empty', (type, name) => {
    const count = resource(tf, type, name).count;
    expect(count).toBe(RDS_COUNT);
    expect(evalWith(count, ASG, '[]')).toBe(0);
    expect(evalWith(count, '[]', `[${ROW('orders')}]`)).toBe(1);
  });

  it('the Lambda (and its role, group, secret, state, schedule) exists when monitored_asgs OR monitored_rds is non-empty', () => {
    const count = resource(tf, 'aws_lambda_function', 'pmm_reconciler_function').count;
    expect(evalWith(count, '[]', '[]')).toBe(0);
    expect(evalWith(count, ASG, '[]')).toBe(1);
    expect(evalWith(count, '[]', `[${ROW('orders')}]`)).toBe(1);
    expect(evalWith(count, ASG, `[${ROW('orders')}]`)).toBe(1);
    for (const t of ['aws_iam_role', 'aws_security_group', 'aws_cloudwatch_log_group']) {
      for (const [k, body] of Object.entries(resourcesOf(tf, t))) {
        if (k.startsWith('pmm_reconciler_')) expect(body.count).toBe(count);
      }
    }
  });

  it('the ASG event rule stays ASG-only (an empty AutoScalingGroupName list is no valid pattern)', () => {
    const count = resource(tf, 'aws_cloudwatch_event_rule', 'pmm_reconciler_asg_events').count;
    expect(evalWith(count, '[]', `[${ROW('orders')}]`)).toBe(0);
    expect(evalWith(count, ASG, '[]')).toBe(1);
  });

  it('the SendCommand condition never gets an empty list (RDS only: a name no ASG can have)', () => {
    const policy: string = resource(tf, 'aws_iam_role_policy', 'pmm_reconciler_policy').policy;
    const m = policy.match(/"ssm:resourceTag\/aws:autoscaling:groupName" = (.+?)\}/);
    expect(m).not.toBeNull();
    expect(evalWith(m![1], '[]', `[${ROW('orders')}]`)).toEqual(['(none)']);
    expect(evalWith(m![1], ASG, '[]')).toEqual(['db']);
  });

  it('the Lambda gets MONITORED_RDS and the RDS state parameter', () => {
    const env = resource(tf, 'aws_lambda_function', 'pmm_reconciler_function').environment
      .variables;
    expect(env.MONITORED_RDS).toBe('${jsonencode(var.monitored_rds)}');
    expect(env.RDS_STATE_PARAMETER).toBe(
      '${one(aws_ssm_parameter.pmm_rds_monitoring_state[*].name)}',
    );
  });

  it('host role: RDS/CloudWatch reads and the RDSOSMetrics log group only', () => {
    const policy: string = resource(
      tf,
      'aws_iam_role_policy',
      'pmm_rds_monitoring_host_policy',
    ).policy;
    expect(resource(tf, 'aws_iam_role_policy', 'pmm_rds_monitoring_host_policy').role).toBe(
      '${aws_iam_role.pmm_host_iam_role.name}',
    );
    for (const a of [
      'rds:DescribeDBInstances',
      'rds:DescribeDBClusters',
      'cloudwatch:GetMetricStatistics',
      'cloudwatch:ListMetrics',
    ]) {
      expect(policy).toContain(`"${a}"`);
    }
    expect(policy).toContain(':logs:*:*:log-group:RDSOSMetrics:*');
    expect(policy).not.toMatch(/"Action" = "([a-z]+:)?\*"/);
  });

  it('Lambda role: only the listed password secrets (distinct), RDS describe, its state', () => {
    const policy: string = resource(
      tf,
      'aws_iam_role_policy',
      'pmm_rds_monitoring_reconciler_policy',
    ).policy;
    const m = policy.match(/"secretsmanager:GetSecretValue", "Resource" = (distinct\(.+?\]\))/);
    expect(m).not.toBeNull();
    const a = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:a-1';
    const b = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:b-2';
    expect(
      evalWith(
        m![1],
        '[]',
        `[${ROW('x', 'mysql', a)}, ${ROW('y', 'mysql', b)}, ${ROW('z', 'mysql', a)}]`,
      ),
    ).toEqual([a, b]);
    expect(policy).toContain('"Resource" = one(aws_ssm_parameter.pmm_rds_monitoring_state[*].arn)');
  });

  it('one ingress rule per (security group, port), the databases own port, shared groups deduplicated', () => {
    const rule = resource(
      tf,
      'aws_vpc_security_group_ingress_rule',
      'pmm_rds_monitoring_db_from_pmm',
    );
    expect(rule.referenced_security_group_id).toBe('${aws_security_group.pmm_network_instance.id}');
    expect(rule.from_port).toBe('${each.value.port}');
    expect(rule.security_group_id).toBe('${each.value.sg}');
    // The for_each with the data sources replaced by what they would return.
    const expr = (rule.for_each as string)
      .replace(
        'data.aws_db_instance.pmm_rds_monitoring_instance',
        '{ orders = { vpc_security_groups = ["sg-a", "sg-shared"], port = 3306 }, billing = { vpc_security_groups = ["sg-shared"], port = 3306 } }',
      )
      .replace(
        'data.aws_rds_cluster.pmm_rds_monitoring_cluster',
        '{ aurora = { vpc_security_group_ids = ["sg-shared", "sg-pg"], port = 5432 } }',
      );
    const rules = evalWith(expr, '[]', '[]') as Record<string, { sg: string; port: number }>;
    expect(Object.keys(rules).sort()).toEqual([
      'sg-a/3306',
      'sg-pg/5432',
      'sg-shared/3306',
      'sg-shared/5432',
    ]);
    expect(rules['sg-pg/5432']).toEqual({ sg: 'sg-pg', port: 5432 });
    // Not both 3306 and 5432 everywhere: sg-a only gets MySQL.
    expect(Object.keys(rules).filter((k) => k.startsWith('sg-a/'))).toEqual(['sg-a/3306']);
  });

  it('looks the groups up only for identifiers that exist (filters, so a missing one fails no plan)', () => {
    const data = tf.data as Record<string, Record<string, Record<string, unknown>>>;
    expect(data.aws_db_instances.pmm_rds_monitoring_instances).toMatchObject({
      count: RDS_COUNT,
      filter: [
        {
          name: 'db-instance-id',
          values: '${[ for key, val in toset(var.monitored_rds): val.identifier]}',
        },
      ],
    });
    expect(data.aws_rds_clusters.pmm_rds_monitoring_clusters).toMatchObject({ count: RDS_COUNT });
    expect(data.aws_db_instance.pmm_rds_monitoring_instance.for_each).toBe(
      '${toset(toset(flatten(data.aws_db_instances.pmm_rds_monitoring_instances[*].instance_identifiers)))}',
    );
  });
});
