import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  PutParameterCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { ReconcileError, Summary } from '../../functions/asg-reconciler/src/reconcile';
import {
  ADMIN_ARN,
  Bed,
  host,
  MANAGER,
  named,
  STATE_PARAMETER,
} from '../../functions/asg-reconciler/testing/harness';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('reconciler promises (issue 11) against a real PMM HTTP server', () => {
  const bed = new Bed('promises-Pa55-never-logged');
  beforeEach(() => bed.start());
  afterEach(() => bed.stop());

  const deletes = () => bed.pmm.requests.filter((r) => r.startsWith('DELETE'));
  const sends = () => bed.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
  const summaryOf = (r: { summary?: Summary; error?: unknown }) =>
    r.summary ?? (r.error as ReconcileError).summary;
  const emf = () => bed.logs.find((l) => l._aws !== undefined)!;

  describe('ownership by marker', () => {
    it('never removes services under a monitored prefix it did not create; removes only its own service from a shared node', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.pmm.services = [
        bed.ours('i-1'),
        // i-9 is gone. Its node also runs an operator's ProxySQL service (unmarked).
        { ...bed.ours('i-9'), node_id: 'shared' },
        {
          service_id: 'proxysql',
          service_name: `db/${host('i-9')}-proxysql`,
          service_type: 'proxysql',
          node_id: 'shared',
        },
        // An operator's PostgreSQL under the prefix, its agent disconnected.
        {
          service_id: 'pg',
          service_name: `db/${host('i-50')}`,
          service_type: 'postgresql',
          node_id: 'n-pg',
          agents: [{ agent_type: 'pmm-agent', is_connected: false }],
        },
        // Registered by some other tool, with an instance ID label.
        {
          service_id: 'other-tool',
          service_name: `db/${host('i-77')}`,
          service_type: 'mysql',
          node_id: 'n-77',
          custom_labels: { aws_instance_id: 'i-77', managed_by: 'someone-else' },
        },
      ];

      const { summary, error } = await bed.run();

      expect(error).toBeUndefined();
      expect(deletes()).toEqual(['DELETE /v1/inventory/services/svc-i-9?force=true']);
      expect(bed.pmm.services.map((s) => s.service_id).sort()).toEqual(
        ['svc-i-1', 'proxysql', 'pg', 'other-tool'].sort(),
      );
      expect(summary!.foreignInMonitored).toBe(3);
      expect(emf().ForeignServicesInMonitoredPrefixes).toBe(3);
    });

    it('"already exists" from a service it did not create: nothing removed, reported', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.installResult = () => {
        // Someone registered the name between our listing and the install.
        if (!bed.pmm.services.some((s) => s.service_id === 'manual')) {
          bed.pmm.services.push({
            service_id: 'manual',
            service_name: `db/${host('i-1')}`,
            service_type: 'mysql',
            node_id: 'n-manual',
          });
        }
        return { Status: 'Failed', ResponseCode: 17, StandardOutputContent: 'already exists' };
      };

      const { error } = await bed.run();

      expect(deletes()).toEqual([]);
      expect(bed.pmm.services.map((s) => s.service_id)).toEqual(['manual']);
      expect((error as ReconcileError).summary.failed).toEqual([
        expect.objectContaining({
          instanceId: 'i-1',
          reason: `service name db/${host('i-1')} is held by a service the reconciler did not create`,
        }),
      ]);
      expect(sends()).toHaveLength(1);
    });

    it('migration: pre-marker registrations (aws_instance_id of EC2 form, no managed_by) are its own', async () => {
      bed.groups = { db: [['i-0abc', 'InService']] };
      const legacy = (id: string) => ({
        service_id: `legacy-${id}`,
        service_name: `db/${host(id)}`,
        service_type: 'mysql',
        node_id: `n-${id}`,
        custom_labels: { aws_instance_id: id },
      });
      bed.pmm.services = [legacy('i-0abc'), legacy('i-0dead')];

      const { summary } = await bed.run();

      expect(summary!.healthy).toBe(1);
      expect(sends()).toEqual([]);
      expect(deletes()).toEqual(['DELETE /v1/management/nodes/n-i-0dead?force=true']);
    });
  });

  describe('missing is not empty', () => {
    const services = () => [
      bed.ours('i-9', 'db'),
      {
        service_id: 'operator',
        service_name: `db/${host('i-8')}`,
        service_type: 'mysql',
        node_id: 'n-op',
      },
    ];

    it('a monitored ASG DescribeAutoScalingGroups does not return removes nothing, is reported every run, and loses its marked services only after the grace period', async () => {
      bed.groups = {}; // "db" is configured but not returned (typo, deleted, eventual consistency)
      bed.pmm.services = services();
      const at = (ms: number) => bed.run({ asgNames: ['db'], now: () => T0 + ms });

      for (const offset of [0, 5 * 60_000, 6 * HOUR - 1]) {
        const r = await at(offset);
        const s = summaryOf(r);
        // A counted failure (the Errors alarm fires), a warn line and a metric, every run.
        expect(r.error).toBeInstanceOf(ReconcileError);
        expect(s.failed).toEqual([
          expect.objectContaining({
            asgName: 'db',
            reason: expect.stringMatching(
              /^Auto Scaling Group not found since 2026-12-01T00:00:00.000Z; nothing of it is removed before 2026-12-01T06:00:00.000Z/,
            ),
          }),
        ]);
        expect(bed.logs).toContainEqual(
          expect.objectContaining({
            level: 'warn',
            message: 'monitored Auto Scaling Group missing',
            asgName: 'db',
          }),
        );
        expect(emf().AsgsMissing).toBe(1);
        expect(deletes()).toEqual([]);
      }
      expect(JSON.parse(bed.state!)).toEqual({
        version: 1,
        missingSince: { db: '2026-12-01T00:00:00.000Z' },
      });
      // The clock was written once, not every run.
      expect(bed.ssm.commandCalls(PutParameterCommand)).toHaveLength(1);

      const r = await at(6 * HOUR);
      expect(summaryOf(r).removed).toEqual([`db/${host('i-9')}`]);
      expect(bed.pmm.services.map((s) => s.service_id)).toEqual(['operator']);
      // Still reported (and alarming) while it stays in the configuration.
      expect(r.error).toBeInstanceOf(ReconcileError);
    });

    it('an ASG that comes back resets its clock', async () => {
      bed.pmm.services = services();
      bed.groups = {};
      await bed.run({ asgNames: ['db'], now: () => T0 });
      bed.groups = { db: [] };
      await bed.run({ asgNames: ['db'], now: () => T0 + HOUR });
      expect(JSON.parse(bed.state!).missingSince).toEqual({});
      bed.groups = {};
      bed.pmm.services = services();
      const r = await bed.run({ asgNames: ['db'], now: () => T0 + 7 * HOUR });
      expect(summaryOf(r).removed).toEqual([]);
      expect(JSON.parse(bed.state!).missingSince).toEqual({
        db: new Date(T0 + 7 * HOUR).toISOString(),
      });
    });

    it('a state it cannot read is unknown: nothing removed however long ago the clock started, nothing written', async () => {
      bed.groups = {};
      bed.pmm.services = services();
      bed.state = JSON.stringify({ version: 1, missingSince: { db: new Date(T0).toISOString() } });
      // The state parameter only: PMM's CA still reads (it is read before anything else).
      bed.ssm
        .on(GetParameterCommand, { Name: STATE_PARAMETER })
        .rejects(named('InternalServerError', 'SSM had a bad moment'));

      const r = await bed.run({ asgNames: ['db'], now: () => T0 + 48 * HOUR });

      expect(deletes()).toEqual([]);
      expect(bed.ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
      expect(summaryOf(r).failed.map((f) => f.reason)).toEqual(
        expect.arrayContaining([
          'reading the reconciler state: InternalServerError: SSM had a bad moment',
          expect.stringMatching(/nothing of it is removed before the state can be read/),
        ]),
      );
    });

    it('a failed DescribeAutoScalingGroups is unknown: nothing removed, the clock neither starts nor resets', async () => {
      bed.pmm.services = services();
      bed.state = JSON.stringify({ version: 1, missingSince: { db: new Date(T0).toISOString() } });
      bed.asg.on(DescribeAutoScalingGroupsCommand).rejects(named('InternalFailure', 'boom'));

      const r = await bed.run({ asgNames: ['db'], now: () => T0 + 48 * HOUR });

      expect(deletes()).toEqual([]);
      expect(r.error).toBeInstanceOf(ReconcileError);
      expect(JSON.parse(bed.state!).missingSince).toEqual({ db: new Date(T0).toISOString() });
    });

    it('a failed admin-secret read is unknown: no PMM call, nothing removed', async () => {
      bed.groups = { db: [] };
      bed.pmm.services = services();
      bed.sm
        .on(GetSecretValueCommand, { SecretId: ADMIN_ARN })
        .rejects(named('InternalServiceError'));
      const r = await bed.run();
      expect(r.error).toBeInstanceOf(ReconcileError);
      expect(bed.pmm.requests).toEqual([]);
    });
  });

  describe('every phase under the deadline', () => {
    it('the re-list after "already exists" cannot outlive the Lambda: deferred, summary logged', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.installResult = () => {
        // From now on PMM hangs on the listing (longer than the time left).
        bed.pmm.faults.push({
          match: 'GET /v1/management/services',
          status: 200,
          times: 10,
          delayMs: 10_000,
        });
        return { Status: 'Failed', ResponseCode: 17, StandardOutputContent: 'already exists' };
      };
      const started = Date.now();
      // A 5 s Lambda with a 3 s margin: requests are cut off about 2 s in, which leaves 3 s
      // of slack for a loaded machine; without the deadline the listing alone takes 12 s.
      const lambdaMs = 5000;

      const r = await bed.run({
        remainingMs: () => lambdaMs - (Date.now() - started),
        options: { pmmTimeoutMs: 4000, pmmRetries: 3, deadlineMarginMs: 3000 },
      });

      const took = Date.now() - started;
      const s = summaryOf(r);
      expect(took).toBeLessThan(lambdaMs);
      expect(s.skipped).toEqual([
        expect.objectContaining({
          instanceId: 'i-1',
          reason: 'confirming the registration in PMM: deferred, Lambda deadline near',
        }),
      ]);
      expect(bed.logs.find((l) => l.message === 'reconcile summary')).toBeDefined();
    }, 20_000);

    it('the first listing hanging cannot outlive the Lambda either', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.pmm.faults.push({
        match: 'GET /v1/management/services',
        status: 200,
        times: 10,
        delayMs: 10_000,
      });
      const started = Date.now();
      const r = await bed.run({
        remainingMs: () => 4000 - (Date.now() - started),
        options: { pmmTimeoutMs: 4000, deadlineMarginMs: 3000 },
      });
      expect(Date.now() - started).toBeLessThan(4000);
      expect(r.error).toBeInstanceOf(ReconcileError);
      expect(bed.logs.find((l) => l.message === 'reconcile summary')).toBeDefined();
      expect(sends()).toEqual([]);
    }, 20_000);
  });

  describe('every phase under the deadline: AWS', () => {
    it('a hanging AWS API cannot outlive the Lambda: the run ends in time, removes nothing, logs its summary', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.pmm.services = [bed.ours('i-9', 'db')];
      bed.asg.on(DescribeAutoScalingGroupsCommand).callsFake(() => new Promise(() => undefined));
      const started = Date.now();
      const r = await bed.run({
        remainingMs: () => 4000 - (Date.now() - started),
        options: { deadlineMarginMs: 3000 },
      });
      expect(Date.now() - started).toBeLessThan(4000);
      expect(r.error).toBeInstanceOf(ReconcileError);
      expect(summaryOf(r).failed.map((f) => f.reason)).toContain(
        'could not list the Auto Scaling Group',
      );
      expect(deletes()).toEqual([]);
      expect(bed.logs.find((l) => l.message === 'reconcile summary')).toBeDefined();
    });
  });

  describe('credential hygiene', () => {
    it('a failed enrolment-secret read (not "not found") issues nothing and writes nothing, run after run', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.sm.on(GetSecretValueCommand).callsFake(async (input) => {
        if (input.SecretId === ADMIN_ARN) return { SecretString: bed.password };
        throw named('InternalServiceError', 'Secrets Manager had a bad moment');
      });

      for (let i = 0; i < 3; i++) {
        const r = await bed.run();
        expect(summaryOf(r).failed).toEqual([
          expect.objectContaining({
            instanceId: 'i-1',
            reason: expect.stringMatching(
              /reading the enrolment secret failed \(InternalServiceError.*no new credential issued/,
            ),
          }),
        ]);
      }
      expect(bed.pmm.users).toEqual([]);
      expect(bed.pmm.passwordsSet).toEqual([]);
      expect(bed.sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(sends()).toEqual([]);
    });

    it('one credential per run at most, however many batches and re-tries', async () => {
      bed.groups = {
        db: Array.from({ length: 120 }, (_, i) => [`i-${i + 1}`, 'InService'] as [string, string]),
      };
      let first = true;
      bed.installResult = (id) => {
        if (id === 'i-1' && first) {
          first = false;
          return { Status: 'Failed', ResponseCode: 17, StandardOutputContent: 'already exists' };
        }
        bed.registerInstall(id);
        return { Status: 'Success', ResponseCode: 0 };
      };
      const { summary } = await bed.run();
      expect(summary!.added).toHaveLength(120);
      expect(sends().length).toBeGreaterThanOrEqual(4);
      // One password issued (plus the user's creation and the revocation, never stored).
      const stored = bed.sm
        .commandCalls(PutSecretValueCommand)
        .map((c) => JSON.parse(c.args[0].input.SecretString!));
      expect(stored.filter((v) => v.password !== undefined)).toHaveLength(1);
      expect(bed.pmm.passwordsSet).toHaveLength(3);
    });
  });

  describe('honest counts', () => {
    it('an install that exited 0 is not "added" until PMM lists its marked service', async () => {
      bed.groups = {
        db: [
          ['i-1', 'InService'],
          ['i-2', 'InService'],
        ],
      };
      bed.installResult = (id) => {
        if (id === 'i-2') bed.registerInstall(id);
        return { Status: 'Success', ResponseCode: 0 };
      };
      const r = await bed.run();
      const s = summaryOf(r);
      expect(s.added).toEqual([`db/${host('i-2')}`]);
      expect(s.failed).toEqual([
        expect.objectContaining({
          instanceId: 'i-1',
          reason: `install exited 0 but PMM lists no service db/${host('i-1')} for it`,
        }),
      ]);
      expect(emf().InstancesAdded).toBe(1);
    });
  });

  describe('time to monitored: the event path', () => {
    it('waits within the run for a new instance to come online in SSM, then sends', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.launchTime = new Date(Date.now() - 20_000);
      bed.online = new Set();
      let checks = 0;
      bed.ssm.on(DescribeInstanceInformationCommand).callsFake(async () => {
        if (++checks >= 3) bed.online!.add('i-1');
        return {
          InstanceInformationList: [...bed.online!].map((id) => ({
            InstanceId: id,
            PingStatus: 'Online',
          })),
        };
      });
      const { summary } = await bed.run({ trigger: 'event' });
      expect(checks).toBe(3);
      expect(sends().map((s) => s.InstanceIds)).toEqual([['i-1']]);
      expect(summary!.added).toEqual([`db/${host('i-1')}`]);
      expect(summary!.trigger).toBe('event');
    });

    it('the wait is bounded: an instance that never comes online is skipped, nothing sent', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.launchTime = new Date(Date.now() - 20_000);
      bed.online = new Set();
      const started = Date.now();
      const r = await bed.run({ trigger: 'event', options: { ssmWaitMs: 200, ssmPollMs: 20 } });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(r.error).toBeUndefined();
      expect(sends()).toEqual([]);
      expect(summaryOf(r).skipped).toEqual([
        expect.objectContaining({ instanceId: 'i-1', reason: 'SSM agent not registered yet' }),
      ]);
    });

    it('follows an install an earlier run still has in flight: never a second install to the same instance', async () => {
      bed.groups = {
        db: [
          ['i-1', 'InService'],
          ['i-2', 'InService'],
        ],
      };
      let done = false;
      bed.installResult = (id) => {
        if (!done) return { Status: 'InProgress' };
        bed.registerInstall(id);
        return { Status: 'Success', ResponseCode: 0 };
      };
      // An event run sends, polls briefly and leaves the install to the next run.
      const first = await bed.run({ trigger: 'event', options: { installWaitMs: 30 } });
      expect(first.error).toBeUndefined();
      expect(summaryOf(first).skipped.map((p) => p.reason)).toEqual([
        'install still running (command cmd-1)',
        'install still running (command cmd-1)',
      ]);
      expect(sends()).toHaveLength(1);
      bed.ssm.on(ListCommandsCommand).resolves({
        Commands: [
          {
            CommandId: 'cmd-1',
            Comment: 'pmm-reconciler: enrol 2 instance(s)',
            Status: 'InProgress',
            InstanceIds: ['i-1', 'i-2'],
          },
          // Someone else's command on i-2: not ours, does not count.
          { CommandId: 'x', Comment: 'patching', Status: 'InProgress', InstanceIds: ['i-2'] },
        ],
      });
      done = true;
      const second = await bed.run();
      const filters = bed.ssm.commandCalls(ListCommandsCommand)[0].args[0].input.Filters;
      expect(filters).toEqual([
        { key: 'InvokedAfter', value: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
        { key: 'DocumentName', value: 'AWS-RunShellScript' },
      ]);
      expect(sends()).toHaveLength(1);
      expect(summaryOf(second).added.sort()).toEqual(
        [`db/${host('i-1')}`, `db/${host('i-2')}`].sort(),
      );
      expect(
        bed.ssm
          .commandCalls(GetCommandInvocationCommand)
          .every((c) => c.args[0].input.CommandId === 'cmd-1'),
      ).toBe(true);
    });

    it('a command that is not ours, or a failed ListCommands, does not stop enrolment', async () => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.ssm.on(ListCommandsCommand).rejects(named('ThrottlingException'));
      const { summary } = await bed.run({ options: { backoffBaseMs: 1 } });
      expect(sends()).toHaveLength(1);
      expect(summary!.added).toEqual([`db/${host('i-1')}`]);
    });
  });
});

// MANAGER is the marker value the install script puts on what it adds.
void MANAGER;
