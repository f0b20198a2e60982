import { dashboardBody, MetricWidget } from '../constructs/monitoring/dashboard';
import { deploymentMetrics } from '../constructs/monitoring/metrics';
import { resource, synthModule } from './helpers/synth';

const metrics = deploymentMetrics({
  instanceId: 'i-0abc',
  dataVolumeId: 'vol-0def',
  albArnSuffix: 'app/pmm/1',
  targetGroupArnSuffix: 'targetgroup/pmm/2',
  backupVaultName: 'pmm-test-backup',
  reconcilerFunctionName: 'pmm-test-reconciler',
  agent: {
    memoryUsedPercent: {
      namespace: 'CWAgent',
      metricName: 'mem_used_percent',
      dimensions: { InstanceId: 'i-0abc' },
    },
    rootDiskUsedPercent: {
      namespace: 'CWAgent',
      metricName: 'disk_used_percent',
      dimensions: { InstanceId: 'i-0abc', path: '/' },
    },
    dataDiskUsedPercent: {
      namespace: 'CWAgent',
      metricName: 'disk_used_percent',
      dimensions: { InstanceId: 'i-0abc', path: '/srv' },
    },
  },
});
const body = dashboardBody('eu-west-1', 'pmm-test', metrics);
const graphs = body.widgets.filter((w): w is MetricWidget => w.type === 'metric');
const metricNames = (w: MetricWidget) => w.properties.metrics.map((l) => `${l[0]}/${l[1]}`);
const allMetrics = graphs.flatMap(metricNames);

describe('dashboard body (typed widgets)', () => {
  it.each([
    ['status checks', ['AWS/EC2/StatusCheckFailed_Instance', 'AWS/EC2/StatusCheckFailed_System']],
    ['CPU and memory', ['AWS/EC2/CPUUtilization', 'CWAgent/mem_used_percent']],
    ['disk use', ['CWAgent/disk_used_percent']],
    [
      'EBS volume performance',
      [
        'AWS/EBS/VolumeReadOps',
        'AWS/EBS/VolumeWriteOps',
        'AWS/EBS/VolumeReadBytes',
        'AWS/EBS/VolumeWriteBytes',
        'AWS/EBS/VolumeQueueLength',
      ],
    ],
    ['network I/O', ['AWS/EC2/NetworkIn', 'AWS/EC2/NetworkOut']],
    [
      'ALB requests, 5XX and target health',
      [
        'AWS/ApplicationELB/RequestCount',
        'AWS/ApplicationELB/HTTPCode_ELB_5XX_Count',
        'AWS/ApplicationELB/HTTPCode_Target_5XX_Count',
        'AWS/ApplicationELB/HealthyHostCount',
      ],
    ],
    [
      'backup job results',
      ['AWS/Backup/NumberOfBackupJobsCompleted', 'AWS/Backup/NumberOfBackupJobsFailed'],
    ],
  ])('shows %s', (_what, expected) => {
    for (const m of expected) expect(allMetrics).toContain(m);
  });

  it('shows root and data disk use with the agent dimensions', () => {
    const disk = graphs.find((g) => g.properties.title.startsWith('Disk use'))!;
    expect(disk.properties.metrics).toEqual([
      [
        'CWAgent',
        'disk_used_percent',
        'InstanceId',
        'i-0abc',
        'path',
        '/',
        { stat: 'Maximum', label: 'Root disk used %' },
      ],
      [
        'CWAgent',
        'disk_used_percent',
        'InstanceId',
        'i-0abc',
        'path',
        '/srv',
        { stat: 'Maximum', label: 'Data disk used %' },
      ],
    ]);
  });

  it('puts every graph in the region given and inside the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const g of graphs) {
      expect(g.properties.region).toBe('eu-west-1');
      expect(g.x + g.width).toBeLessThanOrEqual(24);
      const key = `${g.x},${g.y}`;
      expect(cells.has(key)).toBe(false);
      cells.add(key);
    }
  });
});

describe('dashboard resource (module stack)', () => {
  const tf = synthModule();
  const dash = resource(tf, 'aws_cloudwatch_dashboard', 'monitoring_dashboard');

  it('exists only when create_dashboard', () => {
    expect(dash.count).toBe('${var.create_dashboard ? 1 : 0}');
  });

  it('encodes the body with jsonencode so that ids and region are Terraform references', () => {
    const b: string = dash.dashboard_body;
    expect(b.startsWith('${jsonencode({"widgets" = [')).toBe(true);
    expect(b).toContain('"InstanceId", aws_instance.pmm_host_instance.id,');
    expect(b).toContain('"VolumeId", local.pmm_data_volume_current_id,');
    expect(b).toContain('"region" = data.aws_region.pmm_monitoring_region.name');
    expect(b).toContain('"BackupVaultName", aws_backup_vault.pmm_backup_vault.name,');
    expect(b).not.toContain('TfToken');
    expect(b).not.toContain('$${');
  });

  it('reads the region from data.aws_region (name exists in aws provider 5.x and 6.x)', () => {
    expect(tf.data.aws_region.pmm_monitoring_region).toEqual({});
  });
});
