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
