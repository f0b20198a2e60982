import { TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';

/** One `validation` block: a single boolean Terraform expression over its own variable. */
export interface Rule {
  /** The expression without `${}`; refers to the variable as `var.<name>`. */
  readonly expr: string;
  readonly message: string;
}

export interface VariableSpec {
  readonly type: string;
  readonly description: string;
  /** Omit for a required variable; `null` for an optional one that is unset by default. */
  readonly default?: unknown;
  readonly rules?: readonly Rule[];
  readonly sensitive?: boolean;
}

/**
 * Declares a Terraform variable at stack level under its exact module name.
 * Validation conditions are written as whole-expression interpolations (`${...}`), which
 * Terraform evaluates to the expression's own type (bool), never to a string.
 */
export function declareVariable(
  scope: Construct,
  name: string,
  spec: VariableSpec,
): TerraformVariable {
  const v = new TerraformVariable(scope, name, {
    type: spec.type,
    description: spec.description,
    sensitive: spec.sensitive,
    nullable: spec.default === null ? true : false,
    validation: spec.rules?.map((r) => ({ condition: `\${${r.expr}}`, errorMessage: r.message })),
  });
  if (spec.default !== undefined) {
    // cdktf cannot serialise a `null` default through its props; set it verbatim.
    v.addOverride('default', spec.default);
  }
  return v;
}

/** `var.<name>` */
export const ref = (name: string): string => `var.${name}`;

/** Every element of a list variable matches `regex`. */
export function eachMatches(name: string, regex: string): string {
  return `alltrue([for v in var.${name} : can(regex(${JSON.stringify(regex)}, v))])`;
}

/** A nullable string variable is null or matches `regex`. */
export function nullOrMatches(name: string, regex: string): string {
  return `var.${name} == null ? true : can(regex(${JSON.stringify(regex)}, var.${name}))`;
}

/** An integer number variable within [min, max]. */
export function intInRange(name: string, min: number, max: number): string {
  return `var.${name} == floor(var.${name}) && var.${name} >= ${min} && var.${name} <= ${max}`;
}

/**
 * `x` (an expression) is an IPv4 CIDR block in canonical form: `cidrnetmask` accepts IPv4
 * only (it fails on "::/0"), and `cidrsubnet(x, 0, 0)` returns the block with its host bits
 * cleared, so "10.1.2.3/16" (which becomes "10.1.0.0/16") is rejected. `try` because
 * Terraform 1.11 evaluates both sides of `&&`.
 */
export function isCanonicalIpv4Cidr(x: string): string {
  return `can(cidrnetmask(${x})) && try(cidrsubnet(${x}, 0, 0), "") == ${x}`;
}

/** The prefix length of a CIDR block `x` (an expression); -1 when it has none. */
export function cidrPrefixLength(x: string): string {
  return `try(tonumber(split("/", ${x})[1]), -1)`;
}

// ---- AWS cron expressions ---------------------------------------------------------------
// cron(Minutes Hours Day-of-month Month Day-of-week Year), the syntax of AWS Backup,
// EventBridge and EventBridge Scheduler. A field is `*`, a value, a range a-b, either with
// a /step, or a comma list of those; `?` (no value) in day-of-month or day-of-week, `L`/`W`
// in day-of-month, `L`/`#` in day-of-week. Month and weekday names in any case.

/** `JAN` -> `[Jj][Aa][Nn]` (Terraform's RE2 and JSON Schema's ECMAScript share this form). */
const anyCase = (word: string): string =>
  [...word].map((c) => `[${c.toUpperCase()}${c.toLowerCase()}]`).join('');

const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The value pattern of each cron field (numbers in range, with optional leading zero). */
export const CRON_FIELD_VALUES = {
  minutes: '[0-5]?[0-9]',
  hours: '[01]?[0-9]|2[0-3]',
  dayOfMonth: '0?[1-9]|[12][0-9]|3[01]',
  month: `0?[1-9]|1[0-2]|${MONTH_NAMES.map(anyCase).join('|')}`,
  dayOfWeek: `[1-7]|${DAY_NAMES.map(anyCase).join('|')}`,
  year: '19[7-9][0-9]|2[01][0-9][0-9]',
} as const;

/** `*`, v, v-v (each optionally /step), comma-separated. */
function cronList(value: string): string {
  const v = `(${value})`;
  const elem = `(\\*|${v}(-${v})?)(/[1-9][0-9]*)?`;
  return `${elem}(,${elem})*`;
}

/** A regex for one whole AWS cron expression with every field's range checked. */
export function awsCronPattern(): string {
  const f = CRON_FIELD_VALUES;
  const dom = `\\?|[Ll][Ww]?|(${f.dayOfMonth})[Ww]|${cronList(f.dayOfMonth)}`;
  const dow = `\\?|[Ll]|(${f.dayOfWeek})([Ll]|#[1-5])|${cronList(f.dayOfWeek)}`;
  return `^cron\\((${cronList(f.minutes)}) (${cronList(f.hours)}) (${dom}) (${cronList(f.month)}) (${dow}) (${cronList(f.year)})\\)$`;
}

/** Exactly one of day-of-month and day-of-week is `?` (AWS rejects both or neither). */
export const AWS_CRON_ONE_QUESTION_MARK =
  '^cron\\(\\S+ \\S+ (\\? \\S+ [^?\\s]\\S*|[^?\\s]\\S* \\S+ \\?) \\S+\\)$';

/**
 * Validation rules for a string variable holding an AWS cron expression: the six fields in
 * range (rule 0) and `?` in exactly one of the day fields (rule 1). Terraform's own checks
 * accept any string here and the API rejects it only at apply.
 */
export function awsCronRules(name: string, example: string): Rule[] {
  return [
    {
      expr: `can(regex(${JSON.stringify(awsCronPattern())}, var.${name}))`,
      message: `${name} must be an AWS cron expression, cron(minutes hours day-of-month month day-of-week year), with every field in range (minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT, year 1970-2199), such as "${example}".`,
    },
    {
      expr: `can(regex(${JSON.stringify(AWS_CRON_ONE_QUESTION_MARK)}, var.${name}))`,
      message: `${name} must have "?" in exactly one of day-of-month and day-of-week (AWS cron), such as "${example}".`,
    },
  ];
}
