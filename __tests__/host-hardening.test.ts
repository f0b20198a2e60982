import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resource, synthModule } from './helpers/synth';
import { evaluateTemplate } from './helpers/hcl-template';
import { TEMPLATE_DIR } from '../constructs/host/user-data';

const tf = synthModule();

describe('PMM host hardening (issue 13)', () => {
  it('never gets a public IP address, even in a subnet that maps one on launch', () => {
    expect(resource(tf, 'aws_instance', 'host_instance').associate_public_ip_address).toBe(false);
  });

  it('marks Grafana cookies secure through the container environment', () => {
    const env = readFileSync(join(TEMPLATE_DIR, 'pmm-server.env'), 'utf8');
    // Exactly one setting, not commented out, value true (Grafana reads GF_<SECTION>_<KEY>).
    const settings = env.split('\n').filter((l) => /^\s*GF_SECURITY_COOKIE_SECURE\s*=/.test(l));
    expect(settings).toEqual(['GF_SECURITY_COOKIE_SECURE=true']);
    // The file is the container's --env-file, and it is written to the host by user data.
    expect(readFileSync(join(TEMPLATE_DIR, 'run-pmm-server.sh'), 'utf8')).toMatch(
      /--env-file "\$env_file"/,
    );
    const rendered = evaluateTemplate(tf.locals.pmm_host_user_data as string);
    expect(rendered).toMatch(/path: \/etc\/pmm\/pmm-server\.env/);
  });
});
