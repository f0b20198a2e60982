import { X509Certificate } from 'node:crypto';
import { AwsIo } from './aws';

/**
 * The PMM host's private CA (templates/host/pmm-tls.sh publishes its PEM to the SSM parameter
 * PMM_CA_PARAMETER; constructs/pmm-config.ts creates it with a placeholder). The reconciler
 * trusts exactly this CA for PMM's HTTPS API and hands it to the install script; it never
 * talks to PMM, nor sends a credential, before the host has published it.
 */
export class PmmCaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PmmCaError';
  }
}

const PEM = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/;

/** Checks a published value: exactly one PEM certificate, a CA. Returns it normalized. */
export function parsePmmCa(value: string | undefined, parameterName: string): string {
  const pem = (value ?? '').trim();
  if (!pem.startsWith('-----BEGIN CERTIFICATE-----')) {
    throw new PmmCaError(
      `PMM has not published its CA yet (SSM parameter ${parameterName} holds no certificate); ` +
        'the PMM host publishes it when pmm-server starts (templates/host/pmm-tls.sh)',
    );
  }
  if (!PEM.test(pem)) {
    throw new PmmCaError(`SSM parameter ${parameterName} is not one PEM certificate`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new PmmCaError(`SSM parameter ${parameterName} holds an unreadable certificate`);
  }
  if (!cert.ca) throw new PmmCaError(`SSM parameter ${parameterName} is not a CA certificate`);
  return `${pem}\n`;
}

/** Reads and checks the published CA (GetParameter, with the AWS retries of {@link AwsIo}). */
export async function readPmmCa(aws: AwsIo, parameterName: string): Promise<string> {
  return parsePmmCa(await aws.parameter(parameterName), parameterName);
}
