import { gzipSync } from 'node:zlib';
import {
  USER_DATA_LIMIT_BYTES,
  escapeTerraformTemplate,
  renderTemplate,
  renderUserData,
} from '../constructs/host/user-data';
import { evaluateTemplate } from './helpers/hcl-template';

const values = {
  REGION: 'eu-west-1',
  LOG_GROUP_NAME: '/aws/ec2/pmm-server',
  CONFIG_PATH: '/pmm/pmm-server-production',
};

/** What EC2 receives: Terraform's template result, gzipped. */
function userDataBytes(): number {
  return gzipSync(evaluateTemplate(renderUserData(values), () => 'X')).length;
}

describe('user data rendering', () => {
  // The hard limit is the plan-time precondition (host-user-data-limit.test.ts); this is the
  // headroom guard. 14,276 B (87 %) after the TLS, swap and tuning scripts: the next host
  // script must move something out of the user data (docs/operations.md, "User data budget").
  it('stays under 90 % of the 16 KB EC2 limit', () => {
    expect(userDataBytes()).toBeLessThan(USER_DATA_LIMIT_BYTES * 0.9);
  });

  it('names the SSM configuration path, never a secret, its ARN or a password', () => {
    const text = evaluateTemplate(renderUserData(values));
    expect(text).toContain(`PMM_CONFIG_PATH=${values.CONFIG_PATH}`);
    expect(text).not.toMatch(/^\s*(PMM_ADMIN_SECRET_ARN|PMM_DATA_VOLUME_ID|PMM_IMAGE)=/m);
    expect(text).not.toMatch(/arn:aws:secretsmanager:/);
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
