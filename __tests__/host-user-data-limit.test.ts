/**
 * The 16 KB user data precondition counts the bytes EC2 receives exactly: evaluated by real
 * Terraform on base64 strings of 16,383 to 16,387 bytes (a base64 length check admits 16,385
 * and 16,386).
 */
import { randomBytes } from 'node:crypto';
import { USER_DATA_LIMIT_BYTES } from '../constructs/host/user-data';
import { resource, synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const instance = resource(synthModule(), 'aws_instance', 'host_instance');
const condition: string = instance.lifecycle.precondition[0].condition;

/** The condition's value when the gzipped user data is `bytes` long. */
function conditionFor(bytes: number): unknown {
  const base64 = randomBytes(bytes).toString('base64');
  return terraformEval(condition.split('base64gzip(local.pmm_host_user_data)').join(`"${base64}"`));
}

describe('user data size precondition', () => {
  it('checks the gzipped user data itself', () => {
    expect(condition).toContain('base64gzip(local.pmm_host_user_data)');
    expect(USER_DATA_LIMIT_BYTES).toBe(16384);
  });

  it.each([
    [16383, true],
    [16384, true],
    [16385, false],
    [16386, false],
    [16387, false],
  ])('%i bytes: %s', (bytes, expected) => {
    expect(conditionFor(bytes)).toBe(expected);
  });
});
