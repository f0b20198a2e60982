/**
 * Translates the Terraform validation expressions of stacks/module-variables.ts into JSON
 * Schema keywords, so `pmm.config.json` is checked at synth with the same rules Terraform
 * checks at plan. Only expression shapes with an exact JSON Schema equivalent are translated
 * (a rule's `&&` parts are translated one by one); everything else stays Terraform-only and is
 * listed in the schema's `$comment`, never approximated: the schema must not reject a value
 * Terraform accepts.
 *
 * Translated shapes (S is the subject: `var.<name>`, a `for` variable, or `<for var>.<attr>`):
 *   can(regex("re", S))                       -> pattern
 *   S == null ? true : <expr>                 -> <expr> (JSON Schema keywords skip null)
 *   alltrue([for x in S : <expr over x>])     -> items (x.attr -> items.properties.attr)
 *   length(S) >= n / <= n                     -> minItems / maxItems (lists)
 *   length(S) == length(distinct(S))          -> uniqueItems
 *   S == floor(S)                             -> type integer
 *   S >= n, S <= n, S > n, S < n              -> minimum, maximum, exclusive...
 *   contains([literal, ...], S)               -> enum
 *   !can(regex("re", S)), !contains([...], S) -> allOf [{ not: ... }]
 *   alltrue([for k in keys(S) : <expr over k>])   -> propertyNames (maps)
 *   alltrue([for v in values(S) : <expr over v>]) -> additionalProperties (maps)
 */
import type { JsonSchema } from './terraform-type-schema';

/** Keywords a rule adds to its subject's schema; `properties`/`items` nest. */
export type SchemaPatch = { [k: string]: unknown };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Splits `expr` at top-level occurrences of `sep` (outside strings, (), [] and {}). */
export function splitTopLevel(expr: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (depth === 0 && expr.startsWith(sep, i)) {
      parts.push(expr.slice(start, i).trim());
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

/** `(x)` -> `x` when the first parenthesis closes at the end of the expression. */
function unwrap(expr: string): string {
  let e = expr.trim();
  while (e.startsWith('(') && closingParen(e, 0) === e.length - 1) e = e.slice(1, -1).trim();
  return e;
}

/** Index of the bracket closing the one at `open` (strings skipped); -1 when none. */
function closingParen(e: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < e.length; i++) {
    const ch = e[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch) && --depth === 0) return i;
  }
  return -1;
}

/** An HCL string literal as text (the subset JSON shares). */
function hclString(lit: string): string | undefined {
  try {
    const v: unknown = JSON.parse(lit);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

const NUM = '(-?[0-9]+(?:\\.[0-9]+)?)';
const STR = '("(?:[^"\\\\]|\\\\.)*")';

/**
 * The JSON Schema keywords equivalent to `expr` over `subject`, or undefined when `expr` (or
 * one of its `&&` parts, returned in `untranslated`) has no exact equivalent.
 */
export function translate(
  expr: string,
  subject: string,
): { patch: SchemaPatch; untranslated: string[] } {
  const patch: SchemaPatch = {};
  const untranslated: string[] = [];
  const e = unwrap(expr);

  // S == null ? true : <expr>
  const ternary = new RegExp(`^${escapeRe(subject)}\\s*==\\s*null\\s*\\?\\s*true\\s*:\\s*`).exec(e);
  if (ternary && splitTopLevel(e, '?').length === 2) {
    return translate(e.slice(ternary[0].length), subject);
  }
  if (splitTopLevel(e, '?').length > 1 || splitTopLevel(e, '||').length > 1) {
    return { patch, untranslated: [e] };
  }
  const conjuncts = splitTopLevel(e, '&&');
  if (conjuncts.length > 1) {
    for (const c of conjuncts) {
      const r = translate(c, subject);
      mergePatch(patch, r.patch);
      untranslated.push(...r.untranslated);
    }
    return { patch, untranslated };
  }
  const one = translateOne(e, subject);
  if (one) return { patch: one, untranslated };
  return { patch, untranslated: [e] };
}

function translateOne(e: string, subject: string): SchemaPatch | undefined {
  const S = escapeRe(subject);
  let m: RegExpExecArray | null;

  if ((m = new RegExp(`^can\\(regex\\(${STR},\\s*${S}\\)\\)$`).exec(e))) {
    const re = hclString(m[1]);
    return re === undefined ? undefined : { pattern: re };
  }
  if ((m = new RegExp(`^length\\(${S}\\)\\s*(>=|<=|>|<|==)\\s*([0-9]+)$`).exec(e))) {
    const n = Number(m[2]);
    const op = m[1];
    if (op === '>=') return { minItems: n };
    if (op === '>') return { minItems: n + 1 };
    if (op === '<=') return { maxItems: n };
    if (op === '<') return { maxItems: n - 1 };
    return { minItems: n, maxItems: n };
  }
  if (new RegExp(`^length\\(${S}\\)\\s*==\\s*length\\(distinct\\(${S}\\)\\)$`).test(e)) {
    return { uniqueItems: true };
  }
  if (new RegExp(`^${S}\\s*==\\s*floor\\(${S}\\)$`).test(e)) return { integer: true };
  if ((m = new RegExp(`^${S}\\s*(>=|<=|>|<)\\s*${NUM}$`).exec(e))) {
    const n = Number(m[2]);
    return {
      '>=': { minimum: n },
      '<=': { maximum: n },
      '>': { exclusiveMinimum: n },
      '<': { exclusiveMaximum: n },
    }[m[1]];
  }
  if ((m = new RegExp(`^contains\\((\\[[^\\]]*\\]),\\s*${S}\\)$`).exec(e))) {
    try {
      const values: unknown = JSON.parse(m[1]);
      if (Array.isArray(values) && values.every((v) => ['string', 'number'].includes(typeof v))) {
        return { enum: values };
      }
    } catch {
      return undefined;
    }
    return undefined;
  }
  // !can(regex(...)) / !contains(...): the negated keyword, as its own allOf entry.
  if (e.startsWith('!')) {
    const inner = translateOne(unwrap(e.slice(1)), subject);
    if (inner && ('pattern' in inner || 'enum' in inner) && Object.keys(inner).length === 1) {
      return { allOf: [{ not: inner }] };
    }
    return undefined;
  }
  // alltrue([for k in keys(S) : body]) / alltrue([for v in values(S) : body]) over a map
  if (
    (m = new RegExp(
      `^alltrue\\(\\[for\\s+([a-z_][a-z0-9_]*)\\s+in\\s+(keys|values)\\(${S}\\)\\s*:\\s*(.*)\\]\\)$`,
      's',
    ).exec(e))
  ) {
    const r = translate(m[3], m[1]);
    if (r.untranslated.length) return undefined;
    return m[2] === 'keys' ? { propertyNames: r.patch } : { additionalProperties: r.patch };
  }
  // alltrue([for x in S : body])
  if (
    (m = new RegExp(
      `^alltrue\\(\\[for\\s+([a-z_][a-z0-9_]*)\\s+in\\s+${S}\\s*:\\s*(.*)\\]\\)$`,
      's',
    ).exec(e))
  ) {
    const x = m[1];
    const body = m[2];
    const items: SchemaPatch = {};
    for (const c of splitTopLevel(unwrap(body), '&&')) {
      const code = c.replace(new RegExp(STR, 'g'), '""'); // references outside string literals
      const fields = [...code.matchAll(new RegExp(`\\b${x}\\.([a-z_][a-z0-9_]*)`, 'g'))].map(
        (f) => f[1],
      );
      const bare = new RegExp(`\\b${x}\\b(?!\\.)`).test(code);
      let r: { patch: SchemaPatch; untranslated: string[] };
      if (!bare && fields.length > 0 && fields.every((f) => f === fields[0])) {
        r = translate(c, `${x}.${fields[0]}`);
        if (r.untranslated.length) return undefined;
        mergePatch(items, { properties: { [fields[0]]: r.patch } });
      } else {
        r = translate(c, x);
        if (r.untranslated.length) return undefined;
        mergePatch(items, r.patch);
      }
    }
    return { items };
  }
  return undefined;
}

/** Deep-merges keyword patches (nested `properties`/`items` merge; scalars must agree). */
export function mergePatch(into: SchemaPatch, from: SchemaPatch): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (isObj(cur) && isObj(v)) mergePatch(cur, v);
    else if (k === 'minItems' || k === 'minimum' || k === 'exclusiveMinimum')
      into[k] = cur === undefined ? v : Math.max(cur as number, v as number);
    else if (k === 'maxItems' || k === 'maximum' || k === 'exclusiveMaximum')
      into[k] = cur === undefined ? v : Math.min(cur as number, v as number);
    else if (k === 'pattern' && cur !== undefined && cur !== v) {
      into.allOf = [...((into.allOf as unknown[]) ?? []), { pattern: v }];
    } else if (k === 'allOf') {
      into.allOf = [...((cur as unknown[]) ?? []), ...(v as unknown[])];
    } else into[k] = v;
  }
}

const isObj = (v: unknown): v is SchemaPatch =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies a patch to a type schema from terraform-type-schema.ts: `integer` narrows the
 * number type; object attributes that accept null (optional) receive the patch in their
 * non-null branch.
 */
export function applyPatch(schema: JsonSchema, patch: SchemaPatch): void {
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'integer') {
      const t = schema.type;
      schema.type = Array.isArray(t)
        ? t.map((x) => (x === 'number' ? 'integer' : x))
        : t === 'number'
          ? 'integer'
          : t;
    } else if (k === 'items' && isObj(schema.items) && isObj(v)) {
      applyPatch(schema.items, v);
    } else if (k === 'properties' && isObj(schema.properties) && isObj(v)) {
      for (const [attr, p] of Object.entries(v)) {
        const target = (schema.properties as Record<string, JsonSchema>)[attr];
        if (!target || !isObj(p)) continue;
        const anyOf = target.anyOf as JsonSchema[] | undefined;
        applyPatch(anyOf ? anyOf[0] : target, p);
      }
    } else if (k === 'pattern' && schema.pattern !== undefined && schema.pattern !== v) {
      // A second rule's pattern: both must match.
      schema.allOf = [...((schema.allOf as unknown[]) ?? []), { pattern: v }];
    } else if (k === 'allOf') {
      schema.allOf = [...((schema.allOf as unknown[]) ?? []), ...(v as unknown[])];
    } else if (isObj(schema[k]) && isObj(v)) {
      mergePatch(schema[k] as SchemaPatch, v);
    } else {
      schema[k] = v;
    }
  }
}
