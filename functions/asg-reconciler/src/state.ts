import { AwsIo } from './aws';
import { errorMessage, errorName } from './util';

/**
 * The reconciler's persisted state: when each monitored ASG was first seen missing. The
 * Lambda is stateless, so this lives in one SSM parameter (JSON, created by Terraform with
 * `{}`, written by the Lambda only when it changes): it survives PMM outages and restores,
 * costs nothing at standard tier, and the Lambda's role can read and write that parameter
 * only. Not a PMM label: the services that carry the marker are the things that may go, and a
 * PMM restore from backup would roll the clock back.
 */
export interface StoredState {
  readonly version: 1;
  /** ASG name -> ISO time it was first seen missing. */
  readonly missingSince: Record<string, string>;
}

export type StateRead =
  | { readonly ok: true; readonly missingSince: Record<string, string> }
  | { readonly ok: false; readonly error: string };

/**
 * Reads the state. A parameter that does not exist, or holds something else than our JSON,
 * reads as empty (clocks restart: removal can only come later, never earlier); a failed read
 * is unknown (nothing expires this run and nothing is written).
 */
export async function readState(aws: AwsIo, name: string): Promise<StateRead> {
  try {
    const raw = await aws.parameter(name);
    return { ok: true, missingSince: parse(raw) };
  } catch (e) {
    return { ok: false, error: `${errorName(e)}: ${errorMessage(e)}` };
  }
}

function parse(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  try {
    const v = JSON.parse(raw) as Partial<StoredState>;
    const out: Record<string, string> = {};
    if (v && typeof v.missingSince === 'object' && v.missingSince !== null) {
      for (const [k, t] of Object.entries(v.missingSince)) {
        if (typeof t === 'string' && Number.isFinite(Date.parse(t))) out[k] = t;
      }
    }
    return out;
  } catch {
    return {};
  }
}

export async function writeState(
  aws: AwsIo,
  name: string,
  missingSince: Record<string, string>,
): Promise<void> {
  const value: StoredState = { version: 1, missingSince };
  await aws.putParameter(name, JSON.stringify(value));
}
