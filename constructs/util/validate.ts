import { Token } from 'cdktf';

/**
 * Synth-time validation of construct props. Values that are Terraform expressions
 * (module variables) are validated by the variable's own `validation` block at plan
 * time instead, so unresolved tokens are skipped here.
 */
export class PropValidationError extends Error {
  constructor(construct: string, prop: string, message: string) {
    super(`${construct}: invalid prop "${prop}": ${message}`);
    this.name = 'PropValidationError';
  }
}

export function isLiteral(value: unknown): boolean {
  return value !== undefined && value !== null && !Token.isUnresolved(value);
}

export function requireInRange(
  construct: string,
  prop: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (!isLiteral(value)) return;
  const n = value as number;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PropValidationError(
      construct,
      prop,
      `must be an integer from ${min} to ${max}, got ${n}`,
    );
  }
}

export function requireOneOf<T extends string>(
  construct: string,
  prop: string,
  value: string | undefined,
  allowed: readonly T[],
): void {
  if (!isLiteral(value)) return;
  if (!allowed.includes(value as T)) {
    throw new PropValidationError(
      construct,
      prop,
      `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
}

export function requireMatch(
  construct: string,
  prop: string,
  value: string | undefined,
  pattern: RegExp,
  what: string,
): void {
  if (!isLiteral(value)) return;
  if (!pattern.test(value as string)) {
    throw new PropValidationError(construct, prop, `must be ${what}, got ${JSON.stringify(value)}`);
  }
}

export function requireNonEmpty(
  construct: string,
  prop: string,
  value: unknown[] | undefined,
): void {
  if (!isLiteral(value)) return;
  if ((value as unknown[]).length === 0) {
    throw new PropValidationError(construct, prop, 'must not be empty');
  }
}
