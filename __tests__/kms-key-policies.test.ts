import { resourcesOf, synthModule, TfJson } from './helpers/synth';

const tf = synthModule();

/** Every KMS key of the module with its policy document (an aws_iam_policy_document). */
function keyPolicies(): [string, TfJson][] {
  return Object.entries(resourcesOf(tf, 'aws_kms_key')).map(([name, key]) => {
    const m = /^\$\{data\.aws_iam_policy_document\.([a-z0-9_]+)\.json\}$/.exec(key.policy);
    if (!m) throw new Error(`aws_kms_key.${name}: policy is not an aws_iam_policy_document`);
    return [name, tf.data.aws_iam_policy_document[m[1]]];
  });
}

describe('KMS key policies (issue 13)', () => {
  it('the module has at least one customer-managed key to check', () => {
    expect(keyPolicies().length).toBeGreaterThanOrEqual(1);
  });

  it('every grant to an AWS service is limited to this account with aws:SourceAccount', () => {
    for (const [name, doc] of keyPolicies()) {
      const serviceStatements = (doc.statement as TfJson[]).filter((s) =>
        (s.principals ?? []).some((p: TfJson) => p.type === 'Service'),
      );
      expect(serviceStatements.length).toBeGreaterThanOrEqual(1);
      for (const s of serviceStatements) {
        expect({ key: name, sid: s.sid, condition: s.condition }).toEqual({
          key: name,
          sid: s.sid,
          condition: expect.arrayContaining([
            {
              test: 'StringEquals',
              variable: 'aws:SourceAccount',
              values: [
                expect.stringMatching(/^\$\{data\.aws_caller_identity\.[a-z0-9_]+\.account_id\}$/),
              ],
            },
          ]),
        });
      }
    }
  });

  it('grants services only encrypt/decrypt data-key actions, never key administration', () => {
    for (const [, doc] of keyPolicies()) {
      for (const s of (doc.statement as TfJson[]).filter((x) =>
        (x.principals ?? []).some((p: TfJson) => p.type === 'Service'),
      )) {
        for (const a of s.actions as string[])
          expect(a).toMatch(/^kms:(Decrypt|GenerateDataKey\*?)$/);
      }
    }
  });
});
