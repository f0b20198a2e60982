import { DataAwsDbInstance } from '@cdktf/provider-aws/lib/data-aws-db-instance';
import { DataAwsDbInstances } from '@cdktf/provider-aws/lib/data-aws-db-instances';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRdsCluster } from '@cdktf/provider-aws/lib/data-aws-rds-cluster';
import { DataAwsRdsClusters } from '@cdktf/provider-aws/lib/data-aws-rds-clusters';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn, IResolvable, propertyAccess, TerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';
import { MovedBlock } from './util/moved';
import { countWhenNotEmpty, oneAttribute } from './util/plan-time';

/** One RDS DB instance or Aurora cluster the reconciler registers in PMM. */
export interface MonitoredRds {
  /** DB instance identifier, or Aurora DB cluster identifier (then every instance of it). */
  readonly identifier: string;
  readonly engine: 'mysql' | 'postgresql';
  /** Database user PMM connects as. */
  readonly username: string;
  /** Secrets Manager secret holding that user's password (read by the Lambda only). */
  readonly passwordSecretArn: string;
  /** @default - the endpoint port RDS reports */
  readonly port?: number;
  /** @default 'perfschema' (MySQL) or 'pgstatements' (PostgreSQL); 'none' adds no QAN agent */
  readonly querySource?: 'perfschema' | 'pgstatements' | 'none';
  /** @default {} */
  readonly customLabels?: Record<string, string>;
}

export type MonitoredRdsList = readonly MonitoredRds[] | IResolvable;

/** The Terraform shape (snake_case, defaults filled) of `monitored_rds`. */
export function toTerraformRds(list: MonitoredRdsList): IResolvable | object[] {
  if (!Array.isArray(list)) return list as IResolvable;
  return (list as readonly MonitoredRds[]).map((r) => ({
    identifier: r.identifier,
    engine: r.engine,
    username: r.username,
    password_secret_arn: r.passwordSecretArn,
    port: r.port ?? null,
    query_source: r.querySource ?? (r.engine === 'mysql' ? 'perfschema' : 'pgstatements'),
    custom_labels: r.customLabels ?? {},
  }));
}

export interface RdsMonitoringProps {
  readonly namePrefix: string;
  /** Terraform-shaped `monitored_rds`; empty creates nothing. */
  readonly monitoredRds: IResolvable | object[];
  /** The PMM instance's role: gets what PMM's RDS exporter and discovery need. */
  readonly hostRoleName: string;
  /** The PMM instance's security group: the databases' groups let it in on their port. */
  readonly pmmInstanceSecurityGroupId: string;
}

/**
 * Monitoring of RDS and Aurora declared in Terraform (docs: README "Monitoring RDS and
 * Aurora"). Every resource exists only when `monitored_rds` is non-empty (plan-time count):
 * the PMM host role's RDS/CloudWatch/RDSOSMetrics read permissions, the RDS phase's state
 * parameter, and one ingress rule per (database security group, database port) from the PMM
 * instance. The groups are looked up at plan time: `aws_db_instances`/`aws_rds_clusters`
 * filtered on the listed identifiers (an identifier that does not exist yet matches nothing
 * rather than failing the plan), then `aws_db_instance`/`aws_rds_cluster` per match. The
 * reconciler side (Lambda IAM) is added by {@link RdsMonitoring.attachReconciler}; the
 * Lambda reaches PMM on 443 through the reconciler's own rules (constructs/reconciler.ts).
 */
export class RdsMonitoring extends Construct {
  /** SSM parameter of the RDS phase's missing-input clocks; null when not created. */
  public readonly stateParameterName: string;
  public readonly stateParameterArn: string;
  private readonly count: number;
  private readonly partition: string;
  private readonly props: RdsMonitoringProps;
  private readonly state: SsmParameter;

  constructor(scope: Construct, id: string, props: RdsMonitoringProps) {
    super(scope, id);
    this.props = props;
    const count = countWhenNotEmpty(props.monitoredRds);
    this.count = count;
    const partition = new DataAwsPartition(this, 'partition', { count });
    this.partition = oneAttribute(partition, 'partition');
    const ids = Token.asList(
      TerraformIterator.fromList(props.monitoredRds as IResolvable).pluckProperty('identifier'),
    );

    // ---- the PMM host: what PMM's RDS exporter and discovery call ----
    new IamRolePolicy(this, 'host_policy', {
      count,
      name: 'pmm-rds-monitoring',
      role: props.hostRoleName,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'RdsDiscoveryAndCloudWatchMetrics',
            Effect: 'Allow',
            // None of these supports resource-level permissions.
            Action: [
              'rds:DescribeDBInstances',
              'rds:DescribeDBClusters',
              'cloudwatch:GetMetricStatistics',
              'cloudwatch:ListMetrics',
            ],
            Resource: '*',
          },
          {
            Sid: 'EnhancedMonitoringLogs',
            Effect: 'Allow',
            Action: ['logs:DescribeLogStreams', 'logs:GetLogEvents', 'logs:FilterLogEvents'],
            Resource: `arn:${this.partition}:logs:*:*:log-group:RDSOSMetrics:*`,
          },
        ],
      }),
    });

    // ---- the RDS phase's state (its own parameter: the ASG phase rewrites its own) ----
    const state = new SsmParameter(this, 'state', {
      count,
      name: `/${props.namePrefix}/pmm-asg-reconciler/rds-state`,
      description: 'PMM reconciler RDS state (missing-input clocks), written by the Lambda',
      type: 'SecureString',
      value: JSON.stringify({ version: 1, missingSince: {} }),
      lifecycle: { ignoreChanges: ['value'] },
      tags: { Name: `${props.namePrefix}-pmm-asg-reconciler-rds-state` },
    });
    this.state = state;
    this.stateParameterName = oneAttribute(state, 'name');
    this.stateParameterArn = oneAttribute(state, 'arn');

    // ---- the databases' security groups: PMM in on each database's own port ----
    const instances = new DataAwsDbInstances(this, 'instances', {
      count,
      filter: [{ name: 'db-instance-id', values: ids }],
    });
    const clusters = new DataAwsRdsClusters(this, 'clusters', {
      count,
      filter: [{ name: 'db-cluster-id', values: ids }],
    });
    const foundInstances = TerraformIterator.fromList(
      Fn.toset(Fn.flatten(propertyAccess(instances, ['*', 'instance_identifiers']))),
    );
    const instance = new DataAwsDbInstance(this, 'instance', {
      forEach: foundInstances,
      dbInstanceIdentifier: Token.asString(foundInstances.value),
    });
    const foundClusters = TerraformIterator.fromList(
      Fn.toset(Fn.flatten(propertyAccess(clusters, ['*', 'cluster_identifiers']))),
    );
    const cluster = new DataAwsRdsCluster(this, 'cluster', {
      forEach: foundClusters,
      clusterIdentifier: Token.asString(foundClusters.value),
    });
    // Keyed "sg-xxx/port" (known at plan time: data sources are read during plan): one rule
    // per group and port, however many databases share the group (a duplicate rule fails
    // at apply with InvalidPermission.Duplicate).
    const pairs =
      `flatten(concat(` +
      `[for d in data.aws_db_instance.${instance.friendlyUniqueId} : [for sg in d.vpc_security_groups : { sg = sg, port = d.port }]], ` +
      `[for c in data.aws_rds_cluster.${cluster.friendlyUniqueId} : [for sg in c.vpc_security_group_ids : { sg = sg, port = c.port }]]))`;
    const rules = TerraformIterator.fromMap(
      Token.asAnyMap(`\${{ for p in distinct(${pairs}) : "\${p.sg}/\${p.port}" => p }}`),
    );
    new VpcSecurityGroupIngressRule(this, 'db_from_pmm', {
      forEach: rules,
      securityGroupId: Token.asString(propertyAccess(rules.value, ['sg'])),
      description: 'Database port from the PMM server instance (monitored_rds)',
      ipProtocol: 'tcp',
      fromPort: Token.asNumber(propertyAccess(rules.value, ['port'])),
      toPort: Token.asNumber(propertyAccess(rules.value, ['port'])),
      referencedSecurityGroupId: props.pmmInstanceSecurityGroupId,
      tags: { Name: `${props.namePrefix}-pmm-rds-${rules.key}` },
    });
  }

  /**
   * The reconciler Lambda's side: read the listed password secrets and describe RDS, read
   * and write the RDS state. (PMM's API on 443 is the reconciler's own rule for both phases.)
   */
  attachReconciler(r: {
    roleName: string;
    pmmRuleAddresses: { readonly egress: string; readonly ingress: string };
  }): void {
    const p = this.props;
    const secretArns = Token.asList(
      TerraformIterator.fromList(p.monitoredRds as IResolvable).pluckProperty(
        'password_secret_arn',
      ),
    );
    new IamRolePolicy(this, 'reconciler_policy', {
      count: this.count,
      name: 'rds-reconciler',
      role: r.roleName,
      policy: Fn.jsonencode({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DescribeRds',
            Effect: 'Allow',
            Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
            Resource: '*',
          },
          {
            Sid: 'ReadMonitoredDbPasswords',
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: Fn.distinct(secretArns),
          },
          {
            Sid: 'RdsState',
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'ssm:PutParameter'],
            Resource: this.stateParameterArn,
          },
        ],
      }),
    });
    // Earlier releases opened 443 Lambda -> PMM here, for this phase only; the reconciler
    // now opens it for both phases. Moving the rules (not destroying and re-creating them)
    // keeps an apply from creating a duplicate rule AWS rejects.
    const own = `${this.state.friendlyUniqueId.replace(/state$/, '')}`;
    new MovedBlock(
      this,
      'moved_egress_pmm_tls',
      `aws_vpc_security_group_egress_rule.${own}reconciler_egress_pmm_tls`,
      r.pmmRuleAddresses.egress,
    );
    new MovedBlock(
      this,
      'moved_pmm_tls_ingress',
      `aws_vpc_security_group_ingress_rule.${own}pmm_tls_from_reconciler`,
      r.pmmRuleAddresses.ingress,
    );
  }
}
