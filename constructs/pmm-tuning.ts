import { Fn, IResolvable, Op, Token } from 'cdktf';
import { isLiteral, PropValidationError, requireInRange, requireOneOf } from './util/validate';

/**
 * PMM tuning (issue 16): retention, metrics resolutions, ClickHouse's memory profile, swap and
 * extra environment variables, as lines of the SSM configuration (constructs/pmm-config.ts)
 * that templates/host/apply-config.sh applies in place. Facts, from percona/pmm:
 * - managed/utils/envvars/parser.go: PMM_DATA_RETENTION and PMM_METRICS_RESOLUTION_HR/_MR/_LR
 *   (PMM_METRICS_RESOLUTION is an alias of _HR) are parsed with Go's time.ParseDuration; an
 *   unparsable value (such as "30d") is a configuration error and pmm-managed-init exits
 *   (managed/cmd/pmm-managed-init/main.go), so the container does not start. An unknown PMM_*
 *   name is only a warning.
 * - managed/models/settings_helpers.go, managed/utils/validators: a resolution is at least 1s
 *   and a whole number of seconds; data retention at least 24h and a whole number of days.
 *   Defaults (managed/models/settings.go): HR 5s, MR 10s, LR 60s, retention 30 days (720h).
 *   Values given in the environment are written to PMM's settings at start
 *   (managed/services/server/server.go, UpdateSettingsFromEnv), so removing one later leaves the
 *   stored value in place.
 * - PMM_CLICKHOUSE_CONFIG (PMM 3.9.0, PMM-14931; managed/services/clickhouse/config.go): a
 *   name whose /etc/clickhouse-server/<name>-config.xml exists: "default" or "low-memory"; an
 *   unknown name stops the container. Before 3.9.0 the variable is unknown: a warning only.
 */

/** The values clickhouse_config accepts ("auto": low-memory below 16 GiB of memory). */
export const CLICKHOUSE_CONFIGS = ['auto', 'default', 'low-memory'] as const;
export type ClickHouseConfig = (typeof CLICKHOUSE_CONFIGS)[number];
/** Below this much instance memory "auto" selects ClickHouse's low-memory profile. */
export const CLICKHOUSE_LOW_MEMORY_BELOW_MIB = 16384;

/**
 * A Go duration of one unit, the subset of time.ParseDuration the module accepts: a whole
 * number of hours, minutes or seconds ("720h", "1440m", "5s"). Never "d": Go has no days.
 */
export const DURATION_PATTERN = '^[1-9][0-9]*(h|m|s)$';
export const SECONDS_PER_DAY = 86400;
/** The longest retention accepted, in days (PMM's settings page allows 1 to 3650 days). */
export const MAX_DATA_RETENTION_DAYS = 3650;

/** Swap: auto = min(memory / 2, SWAP_MAX_AUTO_MIB, what the root volume can spare). */
export const SWAP_MAX_AUTO_MIB = 4096;
export const SWAP_MAX_MIB = 65536;
/** Root volume GiB the system itself needs (Ubuntu, Docker, the PMM image, logs, one pull). */
export const ROOT_RESERVED_GIB = 16;

/** Names of pmm_extra_env: PMM's and Grafana's own variables. */
export const EXTRA_ENV_NAME_PATTERN = '^(PMM|GF)_[A-Z0-9_]+$';
/** Values: printable ASCII, no newline or control character (one env-file line each). */
export const EXTRA_ENV_VALUE_PATTERN = '^[ -~]*$';
/**
 * Names the module sets itself (templates/host/apply-config.sh, run-pmm-server.sh, host.env
 * and the SSM configuration): pmm_extra_env may not set or override them. Kept equal to
 * `reserved_names` in apply-config.sh (a test compares them).
 */
export const MODULE_SET_ENV_NAMES = [
  'PMM_ENABLE_TELEMETRY',
  'PMM_PUBLIC_ADDRESS',
  'PMM_DATA_RETENTION',
  'PMM_METRICS_RESOLUTION',
  'PMM_METRICS_RESOLUTION_HR',
  'PMM_METRICS_RESOLUTION_MR',
  'PMM_METRICS_RESOLUTION_LR',
  'PMM_CLICKHOUSE_CONFIG',
  'PMM_IMAGE',
  'PMM_IMAGE_TAG',
  'PMM_DATA_VOLUME_ID',
  'PMM_ADMIN_SECRET_ARN',
  'PMM_CONFIG_PATH',
  'PMM_HOST_SWAP_MIB',
  'GF_SECURITY_COOKIE_SECURE',
] as const;
/** Name prefixes the module owns (custom query hashes, the extra env lines, the admin user). */
export const MODULE_SET_ENV_PREFIXES = [
  'PMM_CUSTOM_QUERIES_',
  'PMM_EXTRA_ENV_',
  'GF_SECURITY_ADMIN_',
] as const;
/** Prefix of an extra env line in the SSM configuration: `PMM_EXTRA_ENV_<NAME>=<value>`. */
export const EXTRA_ENV_LINE_PREFIX = 'PMM_EXTRA_ENV_';

export interface PmmTuning {
  /** PMM_DATA_RETENTION ("720h"). @default - not set: PMM keeps its stored setting (30 days) */
  readonly dataRetention?: string;
  /** PMM_METRICS_RESOLUTION_HR. @default - not set (PMM: 5s) */
  readonly metricsResolutionHigh?: string;
  /** PMM_METRICS_RESOLUTION_MR. @default - not set (PMM: 10s) */
  readonly metricsResolutionMedium?: string;
  /** PMM_METRICS_RESOLUTION_LR. @default - not set (PMM: 60s) */
  readonly metricsResolutionLow?: string;
  /** @default 'auto' (low-memory below 16 GiB of instance memory) */
  readonly clickhouseConfig?: string;
  /** Swap file size in MiB, 0 for none. @default - min(memory / 2, 4096, root volume - 16 GiB) */
  readonly swapSizeMiB?: number;
  /** Extra PMM_* / GF_* variables for the container. @default {} */
  readonly extraEnv?: Record<string, string> | IResolvable;
}

const durationSeconds = (v: string): number => {
  const unit = v.slice(-1) as 'h' | 'm' | 's';
  return Number(v.slice(0, -1)) * { h: 3600, m: 60, s: 1 }[unit];
};

/** Synth-time checks of literal tuning props (module variables are checked at plan). */
export function validateTuning(construct: string, t: PmmTuning): void {
  const re = new RegExp(DURATION_PATTERN);
  if (isLiteral(t.dataRetention)) {
    const v = t.dataRetention as string;
    const ok = re.test(v) && durationSeconds(v) % SECONDS_PER_DAY === 0;
    const days = ok ? durationSeconds(v) / SECONDS_PER_DAY : 0;
    if (!ok || days < 1 || days > MAX_DATA_RETENTION_DAYS) {
      throw new PropValidationError(
        construct,
        'dataRetention',
        `must be a Go duration of whole days from 1 to ${MAX_DATA_RETENTION_DAYS} days in hours, minutes or seconds, such as "720h" (30 days; Go has no "d" unit), got ${JSON.stringify(v)}`,
      );
    }
  }
  for (const prop of [
    'metricsResolutionHigh',
    'metricsResolutionMedium',
    'metricsResolutionLow',
  ] as const) {
    const v = t[prop];
    if (isLiteral(v) && !re.test(v as string)) {
      throw new PropValidationError(
        construct,
        prop,
        `must be a Go duration of at least 1s in whole seconds, minutes or hours, such as "5s" or "1m", got ${JSON.stringify(v)}`,
      );
    }
  }
  requireOneOf(construct, 'clickhouseConfig', t.clickhouseConfig, CLICKHOUSE_CONFIGS);
  requireInRange(construct, 'swapSizeMiB', t.swapSizeMiB, 0, SWAP_MAX_MIB);
  if (isLiteral(t.extraEnv) && !Token.isUnresolved(t.extraEnv)) {
    for (const [name, value] of Object.entries(t.extraEnv as Record<string, string>)) {
      const why = extraEnvProblem(name, value);
      if (why) throw new PropValidationError(construct, 'extraEnv', why);
    }
  }
}

/** Why an extra env entry is refused, or undefined. */
export function extraEnvProblem(name: string, value: string): string | undefined {
  if (!new RegExp(EXTRA_ENV_NAME_PATTERN).test(name)) {
    return `${JSON.stringify(name)} is not a PMM_* or GF_* name (uppercase letters, digits, "_")`;
  }
  if (
    (MODULE_SET_ENV_NAMES as readonly string[]).includes(name) ||
    MODULE_SET_ENV_PREFIXES.some((p) => name.startsWith(p))
  ) {
    return `${name} is set by the module itself (use its own input)`;
  }
  if (Token.isUnresolved(value)) return undefined;
  if (!new RegExp(EXTRA_ENV_VALUE_PATTERN).test(value)) {
    return `the value of ${name} must be printable ASCII without newlines or control characters`;
  }
  return undefined;
}

/** `x == null ? "" : x` */
const orEmpty = (x: string | undefined): string =>
  x === undefined || x === null
    ? ''
    : Token.isUnresolved(x)
      ? Token.asString(Fn.conditional(Op.eq(x, Token.nullValue()), '', x))
      : x;

/** MiB of a root volume of `rootGiB` the system can spare for swap. */
export function rootSpareMiB(rootGiB: number): number {
  return Token.asNumber(Op.mul(Op.sub(rootGiB, ROOT_RESERVED_GIB), 1024));
}

/** The automatic swap size in MiB for `memoryMiB` and a root volume of `rootGiB`. */
export function autoSwapMiB(memoryMiB: number, rootGiB: number): number {
  return Token.asNumber(
    Fn.max([0, Fn.min([Fn.floor(Op.div(memoryMiB, 2)), SWAP_MAX_AUTO_MIB, rootSpareMiB(rootGiB)])]),
  );
}

/** The swap size the host applies (MiB). */
export function swapSizeExpression(t: PmmTuning, memoryMiB: number, rootGiB: number): number {
  const auto = autoSwapMiB(memoryMiB, rootGiB);
  if (t.swapSizeMiB === undefined || t.swapSizeMiB === null) return auto;
  if (!Token.isUnresolved(t.swapSizeMiB)) return t.swapSizeMiB;
  // tonumber(): one operand, so Op.* around it never meets a bare conditional.
  return Token.asNumber(
    Fn.tonumber(Fn.conditional(Op.eq(t.swapSizeMiB, Token.nullValue()), auto, t.swapSizeMiB)),
  );
}

/** The ClickHouse profile the container gets ("" = not set: PMM's default). */
export function clickhouseConfigExpression(t: PmmTuning, memoryMiB: number): string {
  const auto = Fn.conditional(Op.lt(memoryMiB, CLICKHOUSE_LOW_MEMORY_BELOW_MIB), 'low-memory', '');
  const chosen = t.clickhouseConfig ?? 'auto';
  if (!Token.isUnresolved(chosen)) {
    return chosen === 'auto' ? Token.asString(auto) : chosen;
  }
  return Token.asString(Fn.conditional(Op.eq(chosen, 'auto'), auto, chosen));
}

/**
 * The tuning lines of the SSM configuration. Empty values mean "not set" (the host passes
 * nothing to the container). Extra env entries become `PMM_EXTRA_ENV_<NAME>=<value>` lines.
 */
export function tuningLines(t: PmmTuning, memoryMiB: number, rootGiB: number): string[] {
  const extra = t.extraEnv ?? {};
  const extraLines = Token.isUnresolved(extra)
    ? Token.asString(
        Fn.join(
          '\n',
          Fn.formatlist(`${EXTRA_ENV_LINE_PREFIX}%s=%s`, [Fn.keys(extra), Fn.values(extra)]),
        ),
      )
    : Object.keys(extra)
        .sort()
        .map((k) => `${EXTRA_ENV_LINE_PREFIX}${k}=${(extra as Record<string, string>)[k]}`)
        .join('\n');
  const swap = swapSizeExpression(t, memoryMiB, rootGiB);
  return [
    `PMM_DATA_RETENTION=${orEmpty(t.dataRetention)}`,
    `PMM_METRICS_RESOLUTION_HR=${orEmpty(t.metricsResolutionHigh)}`,
    `PMM_METRICS_RESOLUTION_MR=${orEmpty(t.metricsResolutionMedium)}`,
    `PMM_METRICS_RESOLUTION_LR=${orEmpty(t.metricsResolutionLow)}`,
    `PMM_CLICKHOUSE_CONFIG=${clickhouseConfigExpression(t, memoryMiB)}`,
    `PMM_HOST_SWAP_MIB=${Token.isUnresolved(swap) ? Token.asString(Fn.tostring(swap)) : String(swap)}`,
    extraLines,
  ];
}
