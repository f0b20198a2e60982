import { Fn, IResolvable, Op, propertyAccess, TerraformElement, Token } from 'cdktf';

/**
 * A switch that may be a literal (construct used from TypeScript) or a Terraform
 * expression (module variable). Either way the resources it controls are switched
 * with `count`, so a module variable decides at plan time, never at synth time.
 */
export type Flag = boolean | IResolvable;

/** `count` for a resource that exists only when `flag` is true. */
export function countWhen(flag: Flag): number {
  return Token.asNumber(Fn.conditional(flag, 1, 0));
}

/** `count` for a resource that exists only when an optional value is set (not null). */
export function countWhenSet(value: string | undefined): number {
  if (value === undefined) return 0;
  return Token.asNumber(Fn.conditional(Op.eq(value, Token.nullValue()), 0, 1));
}

/** `count` for a resource that exists only when `list` has at least one element. */
export function countWhenNotEmpty(list: unknown): number {
  return Token.asNumber(Fn.conditional(isNotEmpty(list), 1, 0));
}

/**
 * `length(list) >= 1`. (Not `Op.gt(length, 0)`: cdktf 0.21 drops a right operand of 0 and
 * renders `length(x) > undefined`.)
 */
export function isNotEmpty(list: unknown): IResolvable {
  return Op.gte(Fn.lengthOf(list), 1);
}

/** `count` for a resource that exists only when both switches are on. */
export function countWhenAll(...flags: Flag[]): number {
  const [first, ...rest] = flags;
  const all = rest.reduce<Flag>((acc, f) => Op.and(acc, f), first);
  return countWhen(all);
}

/** `one(element[*].attribute)`: an attribute of a counted resource or data source, or null. */
export function oneAttribute(element: TerraformElement, attribute: string): string {
  return Token.asString(Fn.one(propertyAccess(element, ['*', attribute])));
}
