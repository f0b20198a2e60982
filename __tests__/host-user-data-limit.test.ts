/**
 * The 16 KB user data precondition counts the bytes EC2 receives exactly: evaluated by real
 * Terraform on base64 strings of 16,383 to 16,387 bytes (a base64 length check admits 16,385
 * and 16,386).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { USER_DATA_LIMIT_BYTES } from '../constructs/host/user-data';
import { resource, synthModule } from './helpers/synth';
import { terraformTestEnv } from './helpers/terraform';

const instance = resource(synthModule(), 'aws_instance', 'host_instance');
const condition: string = instance.lifecycle.precondition[0].condition;

/** The condition's value when the gzipped user data is `bytes` long. */
function conditionFor(bytes: number): string {
  const base64 = randomBytes(bytes).toString('base64');
  const expression = condition
    .replace(/^\$\{/, '')
    .replace(/\}$/, '')
    .split('base64gzip(local.pmm_host_user_data)')
    .join(`"${base64}"`);
  const dir = mkdtempSync(join(tmpdir(), 'pmm-tf-limit-'));
  try {
    return execFileSync('terraform', ['console'], {
      cwd: dir,
      input: `${expression}\n`,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env: terraformTestEnv(),
    }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('user data size precondition', () => {
  it('checks the gzipped user data itself', () => {
    expect(condition).toContain('base64gzip(local.pmm_host_user_data)');
    expect(USER_DATA_LIMIT_BYTES).toBe(16384);
  });

  it.each([
    [16383, 'true'],
    [16384, 'true'],
    [16385, 'false'],
    [16386, 'false'],
    [16387, 'false'],
  ])('%i bytes: %s', (bytes, expected) => {
    expect(conditionFor(bytes)).toBe(expected);
  });
});
