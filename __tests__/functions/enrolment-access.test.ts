import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { inspect } from 'node:util';
import {
  allowedInstanceIds,
  buildEnrolmentPolicy,
} from '../../functions/asg-reconciler/src/enrolment-policy';
import {
  Bed,
  named,
  READER_ROLE,
  RECONCILER_ROLE,
} from '../../functions/asg-reconciler/testing/harness';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';

/**
 * The enrolment credential's lifecycle across runs (docs/reconciler.md, "The enrolment
 * credential"): issued when a run sends installs, valid while any install is in flight (this
 * run's or an earlier one's), then revoked; the secret's policy allows exactly the instances
 * in flight. Runs never overlap (reserved concurrency 1), so each test runs them in sequence.
 */
const LOGIN = 'pmm-asg-reconciler-enrolment';
const running = { Status: 'InProgress' };

describe('enrolment credential lifecycle', () => {
  const bed = new Bed('admin-Pa55-lifecycle');
  beforeEach(() => bed.start());
  afterEach(() => bed.stop());

  const allowed = () => allowedInstanceIds(bed.policy);
  const stored = () => JSON.parse(bed.enrolmentSecret ?? '{}') as Record<string, string>;
  const user = () => bed.pmm.users.find((u) => u.login === LOGIN)!;
  /** Installs of these instances keep running once sent (SSM and ListCommands say so). */
  const stillRunning = (ids: string[]) => {
    bed.installResult = (id) => {
      if (ids.includes(id)) return running;
      bed.registerInstall(id);
      return { Status: 'Success', ResponseCode: 0 };
    };
    for (const id of [...bed.inFlight.keys()]) if (!ids.includes(id)) bed.inFlight.delete(id);
    let n = 0;
    bed.ssm.on(SendCommandCommand).callsFake(async (input) => {
      const commandId = `cmd-${++n}`;
      for (const id of input.InstanceIds ?? [])
        if (ids.includes(id)) bed.inFlight.set(id, commandId);
      return { Command: { CommandId: commandId } };
    });
  };
  /** Every password Grafana was given, searched in everything a run printed, threw or returned. */
  const noPasswordIn = (result: { summary?: unknown; error?: unknown }) => {
    const text = [
      JSON.stringify(bed.logs),
      JSON.stringify(result.summary ?? null),
      inspect(result.error, { depth: Infinity }),
      JSON.stringify(bed.ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input)),
    ].join('\n');
    expect(bed.pmm.passwordsSet.length).toBeGreaterThan(0);
    for (const p of bed.pmm.passwordsSet) expect(text).not.toContain(p);
  };

  it('two overlapping batches: one credential, valid until the last install finished; the policy follows the installs in flight', async () => {
    // Run 1 sends i-1, whose install outlives the run.
    bed.groups = { db: [['i-1', 'InService']] };
    stillRunning(['i-1']);
    const r1 = await bed.run({ options: { installWaitMs: 0 } });
    expect(r1.summary?.enrolmentCredential).toBe('issued');
    expect(r1.summary?.enrolmentAccess).toBe('kept');
    const password = stored().password;
    expect(user().password).toBe(password);
    expect(allowed()).toEqual(['i-1']);

    // Run 2: i-2 launched while i-1 still installs. Same credential (a new password would cut
    // i-1 off if it has not registered yet); both may read; i-2 finishes, i-1 does not.
    bed.groups = {
      db: [
        ['i-1', 'InService'],
        ['i-2', 'InService'],
      ],
    };
    const policiesBefore = bed.policyWrites.length;
    const r2 = await bed.run({ options: { installWaitMs: 0 } });
    expect(r2.summary?.enrolmentCredential).toBe('reused');
    expect(r2.summary?.enrolmentAccess).toBe('kept');
    expect(stored().password).toBe(password);
    expect(user().password).toBe(password);
    // While sending: i-1 and i-2; after: narrowed to i-1, the one still in flight.
    expect(allowedInstanceIds(bed.policyWrites[policiesBefore])).toEqual(['i-1', 'i-2']);
    expect(allowed()).toEqual(['i-1']);

    // Run 3: i-1 finished. Nothing in flight: revoked.
    stillRunning([]);
    const r3 = await bed.run();
    expect(r3.summary?.enrolmentAccess).toBe('revoked');
    expect(stored()).toEqual({ revoked_at: expect.any(String) });
    expect(user().password).not.toBe(password);
    expect(user().logouts).toBe(1);
    expect(allowed()).toEqual([]);
    for (const r of [r1, r2, r3]) noPasswordIn(r);

    // Run 4: steady state, nothing more to do.
    const writes = bed.policyWrites.length;
    const r4 = await bed.run();
    expect(r4.summary?.enrolmentAccess).toBeUndefined();
    expect(bed.policyWrites.length).toBe(writes);
  });

  it('a run that died after sending (policy and credential left live) is cleaned up by the next run, once the install is done', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    stillRunning(['i-1']);
    // The run ends at its deadline right after sending: no time to look at the credential.
    let left = 300_000;
    const r1 = await bed.run({
      remainingMs: () => left,
      onSent: () => {
        left = 500; // below the 1000 ms margin from now on
      },
    });
    expect(r1.summary?.enrolmentAccess).toBe('deferred');
    expect(allowed()).toEqual(['i-1']);
    const password = stored().password;

    // Next run, nothing to enrol (i-1 registered meanwhile), install still in flight: kept.
    bed.registerInstall('i-1');
    const r2 = await bed.run();
    expect(r2.summary?.enrolmentAccess).toBe('kept');
    expect(user().password).toBe(password);

    // The install finished: revoked.
    bed.inFlight = new Map();
    const r3 = await bed.run();
    expect(r3.summary?.enrolmentAccess).toBe('revoked');
    expect(user().password).not.toBe(password);
    expect(allowed()).toEqual([]);
  });

  it('a revocation Grafana refuses fails the run (alarm) and keeps the policy; the next run revokes', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    // The PUT that sets the issued password goes through; the revocation's is refused.
    let sent = 0;
    let password = '';
    const r0 = await bed.run({
      onSent: () => {
        sent++;
        password = stored().password;
        bed.pmm.faults.push({ match: 'PUT /graph/api/admin/users/', status: 500, times: 10 });
      },
    });
    expect(sent).toBe(1);
    expect(r0.error).toBeDefined();
    expect(r0.summary ?? (r0.error as { summary: unknown }).summary).toMatchObject({
      failed: [
        expect.objectContaining({
          reason: expect.stringMatching(/^revoking the enrolment credential: .*HTTP 500/),
        }),
      ],
    });
    // The stored value was cleared first, but the password still works and i-1 may still read:
    // the next run tries again.
    expect(user().password).toBe(password);
    expect(allowed()).toEqual(['i-1']);

    bed.pmm.faults.length = 0;
    const r1 = await bed.run();
    expect(r1.error).toBeUndefined();
    expect(r1.summary?.enrolmentAccess).toBe('revoked');
    expect(user().password).not.toBe(password);
    expect(allowed()).toEqual([]);
  });

  it('a later run that revokes never prints the stored password, even when clearing it fails with an error that echoes it', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    stillRunning(['i-1']);
    expect((await bed.run({ options: { installWaitMs: 0 } })).summary?.enrolmentAccess).toBe(
      'kept',
    );
    const password = stored().password;
    // A new run (a new redactor): it learns the password only by reading the secret.
    bed.registerInstall('i-1');
    bed.inFlight = new Map();
    bed.sm
      .on(PutSecretValueCommand)
      .rejects(named('InternalServiceError', `could not store ${password}`));
    const r = await bed.run();
    expect(r.summary?.enrolmentAccess).toBe('revoked');
    expect(bed.logs.map((l) => l.message)).toContainEqual(
      expect.stringMatching(/^clearing the enrolment secret: InternalServiceError/),
    );
    expect(user().password).not.toBe(password);
    // Every password Grafana was given, the one read back from the secret included.
    noPasswordIn(r);
  });

  it('keeps the credential when ListCommands fails (an install may still need it)', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    stillRunning(['i-1']);
    await bed.run({ options: { installWaitMs: 0 } });
    const password = stored().password;
    bed.ssm.on(ListCommandsCommand).rejects(named('InternalServerError'));
    const r = await bed.run({ options: { backoffBaseMs: 1, installWaitMs: 0 } });
    expect(r.summary?.enrolmentAccess).toBe('unknown');
    expect(user().password).toBe(password);
    expect(allowed()).toEqual(['i-1']);
  });

  it('touches only the enrolment user: other users, similar logins included, keep their passwords', async () => {
    bed.pmm.users.push(
      { id: 900, login: `${LOGIN}-old`, password: 'keep-1', role: 'Admin', logouts: 0 },
      { id: 901, login: 'alice', password: 'keep-2', role: 'Admin', logouts: 0 },
      { id: 902, login: 'x', password: 'keep-3', role: 'Viewer', logouts: 0 },
    );
    bed.groups = { db: [['i-1', 'InService']] };
    const r = await bed.run();
    expect(r.summary?.enrolmentAccess).toBe('revoked');
    expect(bed.pmm.users.slice(0, 3)).toEqual([
      { id: 900, login: `${LOGIN}-old`, password: 'keep-1', role: 'Admin', logouts: 0 },
      { id: 901, login: 'alice', password: 'keep-2', role: 'Admin', logouts: 0 },
      { id: 902, login: 'x', password: 'keep-3', role: 'Viewer', logouts: 0 },
    ]);
    // Service-account tokens (the nodes' own credentials) are never touched.
    expect(bed.pmm.requests.filter((q) => q.includes('/serviceaccounts'))).toEqual([]);
  });

  it('an unusable stored credential is replaced; a cleared one is never reused', async () => {
    bed.groups = { db: [['i-1', 'InService']] };
    bed.enrolmentSecret = JSON.stringify({ username: LOGIN, password: 'stale-password' });
    const r = await bed.run();
    expect(r.summary?.enrolmentCredential).toBe('issued');
    const issued = bed.sm
      .commandCalls(PutSecretValueCommand)
      .map((c) => JSON.parse(c.args[0].input.SecretString!));
    expect(issued[0].password).not.toBe('stale-password');
    expect(bed.pmm.requests).toContain('GET /graph/api/user');
  });

  it('caps the instances allowed at once (20 KB policy): the rest wait for the next run', async () => {
    const ids = Array.from({ length: 500 }, (_, n) => `i-${String(n + 1).padStart(17, '0')}`);
    bed.groups = { db: ids.map((id) => [id, 'InService']) };
    stillRunning(ids);
    const r = await bed.run({ options: { installWaitMs: 0 } });
    const sent = bed.ssm
      .commandCalls(SendCommandCommand)
      .flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect(sent.length).toBeGreaterThan(250);
    expect(sent.length).toBeLessThan(500);
    for (const p of bed.policyWrites) expect(p.length).toBeLessThanOrEqual(20_480);
    // Everything sent could read; nothing else could.
    expect(allowedInstanceIds(bed.policyWrites[0])).toEqual([...sent].sort());
    const summary = r.summary ?? (r.error as { summary: NonNullable<typeof r.summary> }).summary;
    expect(summary.failed).toEqual([]);
    const waiting = summary.skipped.filter((s) => /enrolment secret policy is full/.test(s.reason));
    expect(waiting).toHaveLength(500 - sent.length);
  });

  describe('a policy that says something else is replaced in a steady state (no Grafana call)', () => {
    const strict = (readers: string[]) =>
      buildEnrolmentPolicy(
        { reconcilerRoleArn: RECONCILER_ROLE, readerArns: readers, accountId: '123456789012' },
        [],
      );
    beforeEach(() => {
      bed.groups = { db: [['i-1', 'InService']] };
      bed.pmm.services = [
        {
          ...bed.ours('i-1'),
          agents: [{ agent_id: 'pa-1', agent_type: 'pmm-agent', is_connected: true }],
        },
      ];
    });

    it('secret_readers changed in Terraform: the next run writes them, once', async () => {
      bed.policy = strict(['arn:aws:iam::123456789012:role/former-reader']);
      await bed.run();
      expect(bed.policyWrites).toEqual([strict([READER_ROLE])]);
      await bed.run();
      expect(bed.policyWrites).toHaveLength(1);
      expect(bed.pmm.requests.filter((q) => q.includes('/graph/'))).toEqual([]);
    });

    it("Terraform's layout of the same policy is left alone", async () => {
      // jsonencode sorts keys; the meaning is the same.
      const doc = JSON.parse(strict([READER_ROLE]));
      const sortKeys = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.map(sortKeys)
          : v && typeof v === 'object'
            ? Object.fromEntries(
                Object.keys(v)
                  .sort()
                  .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
              )
            : v;
      bed.policy = JSON.stringify(sortKeys(doc), null, 2);
      await bed.run();
      expect(bed.policyWrites).toEqual([]);
    });

    it("an earlier version's policy (any instance credentials) is replaced by the strict one", async () => {
      bed.policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyReconcilerReadersAndInstancesRead',
            Effect: 'Deny',
            Principal: '*',
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: {
              ArnNotEquals: { 'aws:PrincipalArn': [RECONCILER_ROLE, READER_ROLE] },
              Null: { 'ec2:SourceInstanceARN': 'true' },
            },
          },
        ],
      });
      await bed.run();
      expect(bed.policyWrites).toEqual([strict([READER_ROLE])]);
    });

    it('no policy at all: the strict one is written', async () => {
      bed.policy = undefined;
      await bed.run();
      expect(bed.policyWrites).toEqual([strict([READER_ROLE])]);
    });
  });
});
