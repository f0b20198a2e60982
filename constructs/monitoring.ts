import { Construct } from 'constructs';
import { AgentMetricDimensions } from './agent-metrics';
import { Flag } from './util/plan-time';

export interface MonitoringProps {
  readonly namePrefix: string;
  /** Every alarm notifies these. */
  readonly alarmActions: string[];
  readonly instanceId: string;
  readonly instanceType: string;
  readonly enableAutoRecovery: Flag;
  readonly agentDimensions: AgentMetricDimensions;
  readonly dataVolumeId: string;
  readonly dataVolumeType: string;
  readonly albArnSuffix: string;
  readonly targetGroupArnSuffix: string;
  readonly backupVaultName: string;
  readonly enableBackupAlarms: Flag;
  /** null when the reconciler is not created. */
  readonly reconcilerFunctionName: string;
  readonly reconcilerEnabled: Flag;
  readonly createDashboard: Flag;
}

/** Alarms and the optional dashboard (issue #5 fills this in). */
export class Monitoring extends Construct {
  constructor(scope: Construct, id: string, _props: MonitoringProps) {
    super(scope, id);
  }
}
