import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadConfig } from './config';
import { reconcile, Summary, Trigger } from './reconcile';

/** The subset of the Lambda context the handler uses. */
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

let clients:
  | {
      autoScaling: AutoScalingClient;
      ec2: EC2Client;
      ssm: SSMClient;
      secrets: SecretsManagerClient;
    }
  | undefined;

/** The Auto Scaling lifecycle events the event rule forwards (EventBridge envelope). */
export const ASG_EVENT_TYPES = [
  'EC2 Instance Launch Successful',
  'EC2 Instance Terminate Successful',
] as const;

/** 'event' for an Auto Scaling launch/terminate event, 'schedule' for anything else. */
export function triggerOf(event: unknown): Trigger {
  const e = event as { source?: unknown; 'detail-type'?: unknown } | null;
  return e?.source === 'aws.autoscaling' &&
    (ASG_EVENT_TYPES as readonly unknown[]).includes(e['detail-type'])
    ? 'event'
    : 'schedule';
}

/**
 * Entry point (`index.handler`) of both the 5-minute schedule and the monitored ASGs'
 * launch/terminate events. Either way it runs one full reconcile (reserved concurrency 1:
 * runs never overlap; events that arrive during a run are queued by Lambda and find little
 * or nothing left to do).
 */
export async function handler(event: unknown, context: LambdaContext): Promise<Summary> {
  clients ??= {
    autoScaling: new AutoScalingClient({}),
    ec2: new EC2Client({}),
    ssm: new SSMClient({}),
    secrets: new SecretsManagerClient({}),
  };
  return reconcile({
    config: loadConfig(process.env),
    clients,
    remainingMs: () => context.getRemainingTimeInMillis(),
    trigger: triggerOf(event),
  });
}
