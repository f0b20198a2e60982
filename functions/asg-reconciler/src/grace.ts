/**
 * Missing is not empty: a monitored input (an Auto Scaling Group, later an RDS instance) that
 * a successful read did not return is "missing"; its marked services are removed only once
 * it has been missing for a grace period. An input whose read failed is "unknown": its
 * clock neither starts nor resets. Generic and pure; the caller persists `next`.
 */
export interface MissingObservation {
  /** Inputs a successful read did not return. */
  readonly missing: readonly string[];
  /** Inputs whose read failed (nothing is known about them this run). */
  readonly unknown: readonly string[];
}

export interface GraceResult {
  /** When each missing input was first seen missing (ms since the epoch). */
  readonly since: ReadonlyMap<string, number>;
  /** Missing inputs whose grace period is over: their marked services may go. */
  readonly expired: ReadonlySet<string>;
  /** The state to persist (ISO timestamps); undefined when the stored state was unknown. */
  readonly next?: Record<string, string>;
  /** Whether `next` differs from the stored state (write only then). */
  readonly changed: boolean;
}

/**
 * @param stored the persisted `missing since` map, or undefined when it could not be read
 *   (then nothing expires this run and nothing is written: an unknown is never "long gone").
 */
export function trackMissing(
  stored: Readonly<Record<string, string>> | undefined,
  seen: MissingObservation,
  nowMs: number,
  graceMs: number,
): GraceResult {
  const since = new Map<string, number>();
  const expired = new Set<string>();
  if (stored === undefined) {
    for (const key of seen.missing) since.set(key, nowMs);
    return { since, expired, changed: false };
  }
  const next: Record<string, string> = {};
  for (const key of seen.missing) {
    const prev = Date.parse(stored[key] ?? '');
    const first = Number.isFinite(prev) && prev <= nowMs ? prev : nowMs;
    since.set(key, first);
    next[key] = new Date(first).toISOString();
    if (nowMs - first >= graceMs) expired.add(key);
  }
  for (const key of seen.unknown) if (stored[key] !== undefined) next[key] = stored[key];
  const changed = JSON.stringify(sortKeys(next)) !== JSON.stringify(sortKeys({ ...stored }));
  return { since, expired, next, changed };
}

function sortKeys(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}
