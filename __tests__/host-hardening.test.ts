import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resource, synthModule } from './helpers/synth';
import { TEMPLATE_DIR } from '../constructs/host/user-data';

const tf = synthModule();

describe('PMM host hardening (issue 13)', () => {
  it('never gets a public IP address, even in a subnet that maps one on launch', () => {
    const instance = resource(tf, 'aws_instance', 'host_instance');
    // EC2 assigns a public IPv4 on launch only to an interface it creates itself; the instance's
    // one interface is the persistent network interface, created beforehand without one.
    expect(instance.network_interface).toEqual([
      {
        device_index: 0,
        network_interface_id: '${aws_network_interface.pmm_host_network_interface.id}',
      },
    ]);
    expect(instance.subnet_id).toBeUndefined();
    expect(instance.associate_public_ip_address).toBeUndefined();
    const eni = resource(tf, 'aws_network_interface', 'host_network_interface');
    expect(JSON.stringify(eni)).not.toMatch(/public/i);
  });

  it('marks Grafana cookies secure through the container environment', () => {
    // apply-config.sh writes the container's env file (its content is asserted by
    // __tests__/apply-config.test.ts) and the run script passes exactly that file.
    const apply = readFileSync(join(TEMPLATE_DIR, 'apply-config.sh'), 'utf8');
    expect(apply).toMatch(/^server_env=\$etc\/pmm-server\.env$/m);
    expect(apply.match(/GF_SECURITY_COOKIE_SECURE=true/g)).toHaveLength(1);
    const run = readFileSync(join(TEMPLATE_DIR, 'run-pmm-server.sh'), 'utf8');
    expect(run).toMatch(/env_file=\$\{PMM_SERVER_ENV_FILE:-\/etc\/pmm\/pmm-server\.env\}/);
    expect(run).toMatch(/--env-file "\$env_file"/);
  });
});
