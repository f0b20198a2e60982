/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

export function errorName(e: unknown): string {
  return (e as { name?: string })?.name ?? 'Error';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Retries AWS calls that were throttled, with exponential backoff and full jitter, on top of
 * the SDK's own retries (a burst of SendCommand/GetCommandInvocation can outlast those).
 */
export async function withThrottleRetry<T>(
  fn: () => Promise<T>,
  attempts: number,
  baseMs: number,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!THROTTLING.has(errorName(e)) || attempt >= attempts) throw e;
      await sleep(Math.random() * baseMs * 2 ** (attempt - 1));
    }
  }
}
