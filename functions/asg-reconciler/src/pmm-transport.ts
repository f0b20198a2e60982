import got, { Got, HTTPError, RequestError, TimeoutError } from 'got';
import { Redactor } from './redact';

/**
 * The one place the reconciler talks HTTP to PMM (its API and Grafana's under `/graph/api/`).
 *
 * TLS only, verified against exactly one CA: the PMM host's private CA (pmm-ca.ts), not the
 * system roots, with Node's host check against the URL's host (an IP address: the
 * certificate's IP SAN). A server whose certificate does not verify never sees a request,
 * so never the credential: the handshake fails before any header is sent.
 *
 * Credential hygiene: the credential goes in an `Authorization` header built here, never in
 * the URL (got puts `username`/`password` options into the URL, and its errors print the URL),
 * redirects are not followed (a redirect would carry the header elsewhere), and every error
 * leaving this module is a fresh {@link PmmRequestError} whose message names only the method,
 * the path and a short reason, with every known secret redacted; got's error objects (which
 * hold the request options, headers included) never leave it.
 */
export interface PmmTransportOptions {
  /** `https://<PMM private IP>:443` (the instance's nginx); anything but https:// is refused. */
  readonly baseUrl: string;
  /** PEM of the CA PMM's certificate must chain to (the only CA trusted). */
  readonly certificateAuthority: string;
  readonly username: string;
  readonly password: string;
  /** Per-attempt timeout. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Retries of GET/DELETE on 5xx, 408, 429 and network errors/timeouts. @default 3 */
  readonly retries?: number;
  /** First backoff delay, doubled per retry. @default 500 */
  readonly backoffBaseMs?: number;
  /**
   * Milliseconds a request may still take (the Lambda deadline minus its margin). A request
   * starts only with a positive budget and is aborted when the budget runs out, retries
   * included. @default unbounded
   */
  readonly budgetMs?: () => number;
  /** Secrets to keep out of every message (the password is always added). */
  readonly redactor?: Redactor;
}

export type PmmErrorKind =
  'http' | 'network' | 'tls' | 'timeout' | 'redirect' | 'parse' | 'deadline';

/** A failed PMM request: no credential, no URL with user info, no got internals. */
export class PmmRequestError extends Error {
  constructor(
    public readonly kind: PmmErrorKind,
    message: string,
    public readonly status?: number,
  ) {
    super(message);
    this.name = 'PmmRequestError';
  }
}

/** PMM rejected the credential: no retry, the run fails with a clear message. */
export class PmmAuthError extends PmmRequestError {
  constructor(status: number) {
    super('http', `PMM API rejected the admin credential (HTTP ${status})`, status);
    this.name = 'PmmAuthError';
  }
}

export interface PmmRequest {
  readonly searchParams?: Record<string, string | number>;
  readonly json?: unknown;
}

/** Node's certificate verification failures (tls.connect with rejectUnauthorized). */
const TLS_CODES =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_\w+|ERR_SSL_\w+|ERR_TLS_\w+)$/;

export class PmmTransport {
  private readonly http: Got;
  private readonly redactor: Redactor;
  private readonly budgetMs: () => number;
  /** HTTP requests made, retries included (for the benchmark and tests). */
  public requests = 0;

  constructor(options: PmmTransportOptions) {
    if (!/^https:\/\//i.test(options.baseUrl)) {
      throw new PmmRequestError(
        'tls',
        'PMM API: only https:// base URLs (the credential never goes over plain HTTP)',
      );
    }
    if (!options.certificateAuthority?.includes('-----BEGIN CERTIFICATE-----')) {
      throw new PmmRequestError(
        'tls',
        "PMM API: no CA certificate to verify PMM's certificate with",
      );
    }
    const base = options.backoffBaseMs ?? 500;
    this.redactor = options.redactor ?? new Redactor();
    const basic = Buffer.from(`${options.username}:${options.password}`).toString('base64');
    this.redactor.add(options.password, basic);
    this.budgetMs = options.budgetMs ?? (() => Number.POSITIVE_INFINITY);
    this.http = got.extend({
      prefixUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
      responseType: 'text',
      followRedirect: false,
      // The CA replaces Node's root store for these requests: only PMM's own CA is trusted.
      https: { certificateAuthority: options.certificateAuthority, rejectUnauthorized: true },
      timeout: { request: options.requestTimeoutMs ?? 10_000 },
      retry: {
        limit: options.retries ?? 3,
        methods: ['GET', 'DELETE'],
        statusCodes: [408, 429, 500, 502, 503, 504],
        calculateDelay: ({ computedValue, attemptCount }) => {
          if (computedValue === 0) return 0;
          const delay = Math.min(base * 2 ** (attemptCount - 1), 10_000);
          // No retry that would outlive the budget.
          return delay < this.budgetMs() ? delay : 0;
        },
      },
      hooks: {
        beforeRequest: [
          () => {
            this.requests++;
          },
        ],
      },
    });
  }

  /**
   * One request; resolves with the parsed JSON body (undefined for an empty body) of a 2xx
   * answer, rejects with a {@link PmmRequestError} otherwise.
   */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    req: PmmRequest = {},
  ) {
    const what = `PMM API ${method} /${path}`;
    const budget = this.budgetMs();
    if (!(budget > 0)) throw new PmmRequestError('deadline', `${what}: Lambda deadline near`);
    let status: number;
    let body: string;
    let contentType: string;
    // The budget covers the request with its retries: past it, the request is aborted.
    const controller = new AbortController();
    let outOfTime = false;
    const timer = Number.isFinite(budget)
      ? setTimeout(() => {
          outOfTime = true;
          controller.abort();
        }, Math.ceil(budget))
      : undefined;
    try {
      const res = await this.http(path, {
        method,
        searchParams: req.searchParams,
        json: req.json,
        signal: controller.signal,
      });
      status = res.statusCode;
      body = res.body;
      contentType = String(res.headers['content-type'] ?? '');
    } catch (e) {
      if (outOfTime) {
        throw new PmmRequestError('deadline', `${what}: aborted, Lambda deadline near`);
      }
      throw this.translate(what, e);
    } finally {
      clearTimeout(timer);
    }
    if (status >= 300) {
      throw new PmmRequestError(
        'redirect',
        `${what}: HTTP ${status} redirect (not followed)`,
        status,
      );
    }
    if (body.trim() === '') return undefined as T;
    if (/html/i.test(contentType) || /^\s*</.test(body)) {
      throw new PmmRequestError('parse', `${what}: answered HTML, not JSON (HTTP ${status})`);
    }
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new PmmRequestError('parse', `${what}: malformed JSON answer (HTTP ${status})`);
    }
  }

  /** `text` with every known secret replaced. */
  redact(text: string): string {
    return this.redactor.redact(text);
  }

  private translate(what: string, e: unknown): PmmRequestError {
    if (e instanceof HTTPError) {
      const status = e.response.statusCode;
      if (status === 401 || status === 403) return new PmmAuthError(status);
      return new PmmRequestError('http', `${what}: HTTP ${status}`, status);
    }
    if (e instanceof TimeoutError) {
      return new PmmRequestError('timeout', `${what}: timed out (${e.event})`);
    }
    const name = (e as { name?: string })?.name;
    if (e instanceof RequestError && TLS_CODES.test(String(e.code ?? ''))) {
      return new PmmRequestError(
        'tls',
        this.redact(
          `${what}: PMM's certificate did not verify against the published CA (${e.code})`,
        ),
      );
    }
    if (e instanceof RequestError) {
      // Node's network messages ("connect ECONNREFUSED 10.0.1.5:80") carry no URL; redacted
      // anyway. got's own message is not used: some of its errors embed the URL.
      const cause = (e.cause as Error | undefined)?.message ?? '';
      return new PmmRequestError(
        'network',
        this.redact(`${what}: ${e.code ?? 'network error'}${cause ? ` ${cause}` : ''}`),
      );
    }
    return new PmmRequestError('network', this.redact(`${what}: ${String(name ?? 'error')}`));
  }
}
