import { resource, synthModule } from './helpers/synth';
import { HSTS_HEADER_VALUE } from '../constructs/front-door';

const tf = synthModule();

describe('HTTPS listener: HSTS (issue 13)', () => {
  const https = resource(tf, 'aws_lb_listener', 'pmm_front_door_https');

  it('adds Strict-Transport-Security for a year, subdomains included, to every HTTPS response', () => {
    expect(https.routing_http_response_strict_transport_security_header_value).toBe(
      HSTS_HEADER_VALUE,
    );
    expect(HSTS_HEADER_VALUE).toMatch(/^max-age=(\d+); includeSubDomains$/);
    const maxAge = Number(/max-age=(\d+)/.exec(HSTS_HEADER_VALUE)![1]);
    expect(maxAge).toBeGreaterThanOrEqual(31536000);
  });

  it('only on the HTTPS listener: the port 80 listener only redirects', () => {
    const http = resource(tf, 'aws_lb_listener', 'pmm_front_door_http_redirect');
    expect(http).not.toHaveProperty('routing_http_response_strict_transport_security_header_value');
    expect(http.default_action[0].type).toBe('redirect');
  });
});
