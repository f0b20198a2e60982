import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { resolve } from 'node:path';
import type {
  handler as sourceHandler,
  triggerOf as sourceTriggerOf,
} from '../../functions/asg-reconciler/src/index';
import { FakePmm } from '../../functions/asg-reconciler/testing/fake-pmm';

/**
 * RECONCILER_BUNDLE=<path> runs these tests against the built Lambda bundle (esbuild output,
 * what the zip ships) instead of the TypeScript source: `npm run test:lambda-runtime` does so
 * under the Lambda's Node major (RECONCILER_NODE_MAJOR=22, nodejs22.x).
 */
const bundle = process.env.RECONCILER_BUNDLE;
/* eslint-disable @typescript-eslint/no-require-imports -- the bundle is chosen at run time */
const { handler, triggerOf } = (
  bundle ? require(resolve(bundle)) : require('../../functions/asg-reconciler/src/index')
) as {
  handler: typeof sourceHandler;
  triggerOf: typeof sourceTriggerOf;
};

/* eslint-enable @typescript-eslint/no-require-imports */

describe('the code and runtime under test', () => {
  it('is the built bundle on the Lambda runtime major when asked', () => {
    const major = process.env.RECONCILER_NODE_MAJOR;
    if (major !== undefined) {
      expect(process.versions.node.split('.')[0]).toBe(major);
      expect(bundle).toBeDefined();
    }
    expect(typeof handler).toBe('function');
  });
});

const PASSWORD = 'entrypoint-Pa55-never-logged';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-admin-Q1w2E3';
const ENROLMENT_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-enrolment-token-U7i8O9';
const DB_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-pw-R4t5Y6';
/** A loopback address of its own, so the fake PMM can take port 443 like the real instance. */
const PMM_IP = '127.0.0.2';

/**
 * The Lambda entry point end to end: environment parsing (loadConfig/parseMonitoredAsgs, the
 * Terraform-shaped snake_case JSON), the PMM API URL https://<PMM_SERVER_ADDRESS>:443 verified
 * against the CA read from PMM_CA_PARAMETER,
 * the SDK clients the handler creates itself (stubbed at SDK level) and console logging.
 */
describe('reconciler handler() entry point', () => {
  const pmm = new FakePmm(PASSWORD);
  const saved = { ...process.env };
  const logged: string[] = [];
  let logSpy: jest.SpyInstance;

  beforeAll(async () => {
    // Port 443 like the PMM instance's nginx, with a certificate for PMM_IP from a test CA:
    // the URL and the verification are what is under test.
    await pmm.start(PMM_IP, 443);
  });
  afterAll(() => pmm.stop());
  beforeEach(() => {
    logSpy = jest.spyOn(console, 'log').mockImplementation((line: string) => {
      logged.push(line);
    });
  });
  afterEach(() => {
    logSpy.mockRestore();
    process.env = { ...saved };
  });

  it('parses the environment, talks to PMM on https://<ip>:443 verifying its CA, enrols and retires, logs one summary', async () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.MONITORED_ASGS = JSON.stringify([
      { asg_name: 'db', username: 'pmm', password_secret_arn: DB_SECRET_ARN },
      { asg_name: 'db2', service_type: 'mysql', port: 3307, username: 'mon' },
    ]);
    process.env.PMM_SERVER_ADDRESS = PMM_IP;
    process.env.PMM_ADMIN_SECRET_ARN = SECRET_ARN;
    process.env.PMM_ENROLMENT_SECRET_ARN = ENROLMENT_ARN;
    process.env.RECONCILER_ROLE_ARN = 'arn:aws:iam::123456789012:role/pmm-reconciler-x';
    process.env.SECRET_READER_ARNS = '["arn:aws:iam::123456789012:role/dba"]';
    process.env.RECONCILER_STATE_PARAMETER = '/pmm/pmm-asg-reconciler/state';
    process.env.PMM_CA_PARAMETER = '/pmm/test/ca-certificate';

    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: PASSWORD });
    // A new enrolment secret has no version yet.
    const notFound = Object.assign(new Error('no current version'), {
      name: 'ResourceNotFoundException',
    });
    let enrolmentValue: string | undefined;
    sm.on(GetSecretValueCommand, { SecretId: ENROLMENT_ARN }).callsFake(async () => {
      if (enrolmentValue === undefined) throw notFound;
      return { SecretString: enrolmentValue };
    });
    sm.on(PutSecretValueCommand).callsFake(async (input) => {
      enrolmentValue = input.SecretString;
      return {};
    });
    // Terraform's first policy: no instance.
    sm.on(GetResourcePolicyCommand).resolves({ ResourcePolicy: undefined });
    sm.on(PutResourcePolicyCommand).resolves({});
    mockClient(AutoScalingClient)
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'db',
            Instances: [{ InstanceId: 'i-a', LifecycleState: 'InService' }],
          },
          {
            AutoScalingGroupName: 'db2',
            Instances: [{ InstanceId: 'i-b', LifecycleState: 'InService' }],
          },
        ],
      } as never);
    mockClient(EC2Client)
      .on(DescribeInstancesCommand)
      .callsFake(async (input) => ({
        Reservations: [
          {
            Instances: (input.Filters?.[0]?.Values ?? []).map((id: string) => ({
              InstanceId: id,
              PrivateIpAddress: id === 'i-a' ? '10.0.1.10' : '10.0.2.20',
              PrivateDnsName:
                id === 'i-a' ? 'ip-10-0-1-10.ec2.internal' : 'ip-10-0-2-20.ec2.internal',
            })),
          },
        ],
      }));
    const ssm = mockClient(SSMClient);
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm.on(GetCommandInvocationCommand).callsFake(async () => {
      // What the install does in PMM: a service marked as the reconciler's.
      pmm.services.push({
        service_id: 'svc-a',
        service_name: 'db/ip-10-0-1-10',
        service_type: 'mysql',
        node_id: 'node-a',
        custom_labels: { aws_instance_id: 'i-a', managed_by: 'pmm-asg-reconciler' },
      });
      return { Status: 'Success', ResponseCode: 0 };
    });
    ssm
      .on(GetParameterCommand, { Name: '/pmm/pmm-asg-reconciler/state' })
      .resolves({ Parameter: { Value: '{}' } })
      .on(GetParameterCommand, { Name: '/pmm/test/ca-certificate' })
      .resolves({ Parameter: { Value: pmm.ca } });
    ssm.on(ListCommandsCommand).resolves({ Commands: [] });
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    pmm.services = [
      // i-b is registered and connected; a terminated instance of db left a service.
      {
        service_id: 'svc-b',
        service_name: 'db2/ip-10-0-2-20',
        service_type: 'mysql',
        node_id: 'node-b',
        custom_labels: { aws_instance_id: 'i-b' },
        agents: [{ agent_type: 'pmm-agent', is_connected: true }],
      },
      {
        service_id: 'svc-gone',
        service_name: 'db/ip-10-0-1-99',
        service_type: 'mysql',
        node_id: 'node-gone',
        custom_labels: { aws_instance_id: 'i-0900d' }, // a pre-marker registration (migration rule)
      },
    ];

    const summary = await handler({}, { getRemainingTimeInMillis: () => 300_000 });

    expect(summary.added).toEqual(['db/ip-10-0-1-10']);
    expect(summary.removed).toEqual(['db/ip-10-0-1-99']);
    expect(summary.healthy).toBe(1);
    // The API URL: https://<PMM_SERVER_ADDRESS>:443 (the fake listens only there).
    expect(pmm.requests.filter((r) => !r.includes('/graph/'))).toEqual([
      'GET /v1/management/services',
      'DELETE /v1/management/nodes/node-gone?force=true',
      'GET /v1/management/services',
    ]);
    expect(summary.trigger).toBe('schedule');
    // One enrolment password issued and written to the enrolment secret, never logged; the
    // install done, the password is replaced and the secret cleared.
    const puts = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.SecretId)).toEqual([ENROLMENT_ARN, ENROLMENT_ARN]);
    const issued = JSON.parse(puts[0].SecretString!).password as string;
    expect(issued).toMatch(/^[0-9a-f]{48}-Aa1$/);
    expect(pmm.passwordsSet).toContain(issued);
    expect(pmm.users[0].password).not.toBe(issued);
    for (const p of pmm.passwordsSet) expect(logged.join('\n')).not.toContain(p);
    // The policy let i-a read while its install ran, and the readers from the environment
    // were never locked out.
    const policies = sm.commandCalls(PutResourcePolicyCommand).map((c) => c.args[0].input);
    expect(policies.map((p) => p.BlockPublicPolicy)).toEqual([true, true]);
    expect(policies[0].ResourcePolicy).toContain('instance/i-a');
    expect(policies[1].ResourcePolicy).not.toContain('instance/');
    for (const p of policies) {
      expect(p.ResourcePolicy).toContain('arn:aws:iam::123456789012:role/dba');
      expect(p.ResourcePolicy).toContain('arn:aws:iam::123456789012:role/pmm-reconciler-x');
    }
    // The command: the PMM private IP and secret ARNs from the environment, no secret value.
    const send = ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(send.InstanceIds).toEqual(['i-a']);
    const script = send.Parameters!.commands![0];
    expect(script).toContain(`PMM_SERVER_ADDRESS='${PMM_IP}'`);
    // The CA the host published, for the script to trust (public).
    expect(script).toContain(`PMM_CA_CERTIFICATE='${pmm.ca.trimEnd()}'`);
    expect(script).toContain(`PMM_ENROLMENT_SECRET_ARN='${ENROLMENT_ARN}'`);
    expect(script).not.toContain(SECRET_ARN);
    expect(script).not.toContain(issued);
    expect(script).toContain(`i-a db/ip-10-0-1-10 10.0.1.10 3306 pmm ${DB_SECRET_ARN}`);
    expect(script).not.toContain(PASSWORD);
    // One JSON summary line and one EMF line on stdout, no secret.
    const entries = logged.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.filter((e) => e.message === 'reconcile summary')).toHaveLength(1);
    expect(entries.filter((e) => e._aws !== undefined)).toHaveLength(1);
    expect(logged.join('\n')).not.toContain(PASSWORD);
  }, 15_000); // the handler runs with the real defaults: first poll after 3 s

  it('fails on a malformed MONITORED_ASGS before touching anything', async () => {
    process.env.MONITORED_ASGS = JSON.stringify([{ asg_name: 'db' }]);
    process.env.PMM_SERVER_ADDRESS = PMM_IP;
    process.env.PMM_ADMIN_SECRET_ARN = SECRET_ARN;
    process.env.PMM_ENROLMENT_SECRET_ARN = ENROLMENT_ARN;
    process.env.RECONCILER_ROLE_ARN = 'arn:aws:iam::123456789012:role/pmm-reconciler-x';
    process.env.SECRET_READER_ARNS = '["arn:aws:iam::123456789012:role/dba"]';
    pmm.requests.length = 0;

    await expect(handler({}, { getRemainingTimeInMillis: () => 300_000 })).rejects.toThrow(
      'MONITORED_ASGS[0].username must be a non-empty string',
    );
    expect(pmm.requests).toEqual([]);
  });

  it('tells Auto Scaling launch/terminate events from the schedule', () => {
    const event = (detailType: string, source = 'aws.autoscaling') => ({
      source,
      'detail-type': detailType,
      detail: { AutoScalingGroupName: 'db', EC2InstanceId: 'i-1' },
    });
    expect(triggerOf(event('EC2 Instance Launch Successful'))).toBe('event');
    expect(triggerOf(event('EC2 Instance Terminate Successful'))).toBe('event');
    expect(triggerOf(event('EC2 Instance Launch Unsuccessful'))).toBe('schedule');
    expect(triggerOf(event('EC2 Instance Launch Successful', 'custom'))).toBe('schedule');
    expect(triggerOf({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).toBe('schedule');
    expect(triggerOf(null)).toBe('schedule');
  });

  it('rejects a malformed MISSING_ASG_GRACE_HOURS, naming it', async () => {
    process.env.MONITORED_ASGS = JSON.stringify([{ asg_name: 'db', username: 'pmm' }]);
    process.env.PMM_SERVER_ADDRESS = PMM_IP;
    process.env.PMM_ADMIN_SECRET_ARN = SECRET_ARN;
    process.env.PMM_ENROLMENT_SECRET_ARN = ENROLMENT_ARN;
    process.env.RECONCILER_ROLE_ARN = 'arn:aws:iam::123456789012:role/pmm-reconciler-x';
    process.env.SECRET_READER_ARNS = '["arn:aws:iam::123456789012:role/dba"]';
    process.env.RECONCILER_STATE_PARAMETER = '/p';
    process.env.PMM_CA_PARAMETER = '/ca';
    process.env.MISSING_ASG_GRACE_HOURS = '6h';
    await expect(handler({}, { getRemainingTimeInMillis: () => 300_000 })).rejects.toThrow(
      'MISSING_ASG_GRACE_HOURS must be a whole number of hours >= 1, got 6h',
    );
  });
});
