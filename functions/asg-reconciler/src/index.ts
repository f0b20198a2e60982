import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadConfig } from './config';
import { reconcile, Summary } from './reconcile';

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

/** EventBridge-scheduled entry point (`index.handler`). */
export async function handler(_event: unknown, context: LambdaContext): Promise<Summary> {
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
  });
}
