import { gzipSync } from 'node:zlib';
import {
  CUSTOM_QUERY_RESOLUTIONS,
  USER_DATA_LIMIT_BYTES,
  customQueriesPath,
  escapeTerraformTemplate,
  gzipFileEntryPrefix,
  renderTemplate,
  renderUserData,
} from '../constructs/host/user-data';
import { evaluateTemplate } from './helpers/hcl-template';

const values = {
  PMM_VERSION: '3.4.1',
  DATA_VOLUME_ID: 'vol-0123456789abcdef0',
  ADMIN_SECRET_ARN:
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-server-production-admin-20250101000000000000000001-AbCdEf',
  REGION: 'eu-west-1',
  LOG_GROUP_NAME: '/aws/ec2/pmm-server',
  ENABLE_TELEMETRY: 'false',
  PUBLIC_ADDRESS: 'pmm.monitoring.example.com',
};

/** A realistic custom-queries file of about 3 KB. */
const QUERIES = Array.from(
  { length: 12 },
  (_, i) =>
    `pg_custom_${i}:\n  query: "SELECT datname, count(*) AS sessions_${i} FROM pg_stat_activity GROUP BY datname"\n  metrics:\n    - datname:\n        usage: "LABEL"\n        description: "Database"\n    - sessions_${i}:\n        usage: "GAUGE"\n        description: "Sessions ${i}"\n`,
).join('');

/** What EC2 receives: Terraform's template result, gzipped. */
function userDataBytes(extra: string[] = []): number {
  return gzipSync(evaluateTemplate(renderUserData(values, extra), () => 'X')).length;
}

describe('user data rendering', () => {
  it('stays well under the 16 KB EC2 limit (room left for custom query files)', () => {
    expect(userDataBytes()).toBeLessThan(USER_DATA_LIMIT_BYTES * 0.625);
  });

  it('stays under the limit with three custom query files of 3 KB each', () => {
    const files = CUSTOM_QUERY_RESOLUTIONS.map(
      (r) =>
        gzipFileEntryPrefix(customQueriesPath(r)) + gzipSync(QUERIES).toString('base64') + '\n',
    );
    expect(userDataBytes(files)).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  it('contains the secret ARN, never a password', () => {
    const text = evaluateTemplate(renderUserData(values));
    expect(text).toContain(`PMM_ADMIN_SECRET_ARN=${values.ADMIN_SECRET_ARN}`);
    expect(text).not.toMatch(/SERVER_PASSWORD|ADMIN_PASSWORD=[^\\]/);
    // The only mention: a reference to the password file mounted into the container.
    expect(text.match(/GF_SECURITY_ADMIN_PASSWORD=.*/g)).toEqual([
      'GF_SECURITY_ADMIN_PASSWORD=\\$__file{$container_password_file}"',
    ]);
  });

  it('escapes Terraform template syntax in literal text only', () => {
    expect(escapeTerraformTemplate('a ${B} %{ if } c')).toBe('a $${B} %%{ if } c');
    expect(evaluateTemplate(renderTemplate('t', 'x=${X} y=@@Y@@', { Y: '${var.y}' }))).toBe(
      'x=${X} y=<<var.y>>',
    );
  });

  it('refuses a template placeholder without a value', () => {
    expect(() => renderTemplate('host.env', 'A=@@MISSING@@', {})).toThrow(
      'template host.env: no value for @@MISSING@@',
    );
  });
});
