import { Fn, Token } from 'cdktf';

/** ALB names: at most 32 characters, letters, digits and hyphens, unique per account+region. */
export const ALB_NAME_MAX_LENGTH = 32;
/** Characters of `<service_name>-<environment>` kept in the ALB name. */
export const ALB_NAME_READABLE_LENGTH = 23;
/** Hex characters of sha1(`<service_name>-<environment>`) that make the name unique. */
export const ALB_NAME_HASH_LENGTH = 8;
/** `name_prefix` of the target group (AWS allows at most 6 characters). */
export const TARGET_GROUP_NAME_PREFIX = 'pmm-';

/**
 * The ALB name: the first 23 characters of `<service_name>-<environment>` (each up to 20
 * characters, so up to 41 in all), a hyphen and 8 hex characters of its SHA-1, so
 * 32 characters at most, never ending in a hyphen, and distinct for distinct deployments
 * even when their prefixes agree in the first 23 characters. A leading `internal-`
 * (reserved by ELB) is shortened to `int-`. A Terraform expression, so it works for
 * literals and module variables alike.
 */
export function albName(namePrefix: string): string {
  const readable = Fn.replace(
    Fn.substr(namePrefix, 0, ALB_NAME_READABLE_LENGTH),
    '/^internal-/',
    'int-',
  );
  const hash = Fn.substr(Fn.sha1(namePrefix), 0, ALB_NAME_HASH_LENGTH);
  return `${Token.asString(readable)}-${Token.asString(hash)}`;
}
