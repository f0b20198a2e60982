import { MetricSpec, DeploymentMetrics } from './metrics';

/** Options of one line in a metric widget (CloudWatch dashboard body format). */
interface MetricLineOptions {
  readonly stat: string;
  readonly label: string;
  readonly yAxis?: 'left' | 'right';
}

/** `[namespace, metricName, dim1, value1, ..., {options}]` as the dashboard body wants it. */
export type MetricLine = (string | MetricLineOptions)[];

interface HorizontalAnnotation {
  readonly label: string;
  readonly value: number;
}

export interface MetricWidgetProperties {
  readonly title: string;
  readonly region: string;
  readonly view: 'timeSeries';
  readonly stacked: false;
  readonly period: number;
  readonly metrics: MetricLine[];
  readonly yAxis?: { readonly left: { readonly min: number; readonly max?: number } };
  readonly annotations?: { readonly horizontal: HorizontalAnnotation[] };
}

export interface MetricWidget {
  readonly type: 'metric';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: MetricWidgetProperties;
}

export interface TextWidget {
  readonly type: 'text';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: { readonly markdown: string };
}

export type Widget = MetricWidget | TextWidget;

export interface DashboardBody {
  readonly widgets: Widget[];
}

/** One line of a widget from a metric spec; dimension values may be Terraform tokens. */
export function metricLine(m: MetricSpec, yAxis?: 'left' | 'right'): MetricLine {
  const dims = Object.entries(m.dimensions).flatMap(([k, v]) => [k, v]);
  const options: MetricLineOptions = { stat: m.statistic, label: m.label, ...(yAxis && { yAxis }) };
  return [m.namespace, m.metricName, ...dims, options];
}

interface GraphSpec {
  readonly title: string;
  readonly metrics: MetricSpec[];
  /** Metrics on the right axis. @default - none */
  readonly right?: MetricSpec[];
  /** Percent graphs get a 0-100 axis. @default false */
  readonly percent?: boolean;
  readonly thresholds?: HorizontalAnnotation[];
  /** @default 300 */
  readonly periodSeconds?: number;
}

const WIDTH = 12;
const HEIGHT = 6;
const COLUMNS = 24 / WIDTH;

/** Lays graphs out two per row, in order. */
export function graphWidgets(region: string, graphs: GraphSpec[], firstRow = 0): MetricWidget[] {
  return graphs.map((g, i) => ({
    type: 'metric',
    x: (i % COLUMNS) * WIDTH,
    y: firstRow + Math.floor(i / COLUMNS) * HEIGHT,
    width: WIDTH,
    height: HEIGHT,
    properties: {
      title: g.title,
      region,
      view: 'timeSeries',
      stacked: false,
      period: g.periodSeconds ?? 300,
      metrics: [
        ...g.metrics.map((m) => metricLine(m)),
        ...(g.right ?? []).map((m) => metricLine(m, 'right')),
      ],
      ...(g.percent && { yAxis: { left: { min: 0, max: 100 } } }),
      ...(g.thresholds && { annotations: { horizontal: g.thresholds } }),
    },
  }));
}

/** The deployment dashboard: instance, storage, application and backup health. */
export function dashboardBody(region: string, title: string, m: DeploymentMetrics): DashboardBody {
  const header: TextWidget = {
    type: 'text',
    x: 0,
    y: 0,
    width: 24,
    height: 1,
    properties: { markdown: `# ${title}` },
  };
  const graphs: GraphSpec[] = [
    {
      title: 'Status checks (1 = failed)',
      metrics: [m.instanceStatusCheck, m.systemStatusCheck],
      periodSeconds: 60,
    },
    {
      title: 'CPU and memory',
      metrics: [m.cpu, m.memory],
      percent: true,
      thresholds: [{ label: 'memory alarm', value: 90 }],
    },
    {
      title: 'Disk use (root and data)',
      metrics: [m.rootDisk, m.dataDisk],
      percent: true,
      thresholds: [{ label: 'disk alarm', value: 85 }],
    },
    {
      title: 'Data volume IOPS',
      metrics: [m.volumeReadOps, m.volumeWriteOps],
      right: [m.volumeQueueLength],
    },
    { title: 'Data volume throughput (bytes)', metrics: [m.volumeReadBytes, m.volumeWriteBytes] },
    { title: 'Network I/O (bytes)', metrics: [m.networkIn, m.networkOut] },
    {
      title: 'Load balancer requests and 5XX',
      metrics: [m.requests],
      right: [m.elb5xx, m.target5xx],
    },
    { title: 'Target health', metrics: [m.healthyHosts, m.unhealthyHosts], periodSeconds: 60 },
    {
      title: 'Backup jobs',
      metrics: [
        m.backupJobsCompleted,
        m.backupJobsFailed,
        m.backupJobsAborted,
        m.backupJobsExpired,
      ],
      periodSeconds: 3600,
    },
  ];
  return { widgets: [header, ...graphWidgets(region, graphs, header.height)] };
}
