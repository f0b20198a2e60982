/**
 * Terraform type constraint strings (`list(object({ a = string, b = optional(number, 1) }))`)
 * to JSON Schema. Object types become strict JSON objects (no unknown keys), so a misspelled
 * attribute is an error instead of being silently dropped by Terraform's type conversion.
 */

export type JsonSchema = { [k: string]: unknown };

/** Thrown for a type string this parser does not understand (a bug to fix here, not input). */
export class TerraformTypeError extends Error {}

interface Parser {
  readonly src: string;
  pos: number;
}

function skipWs(p: Parser): void {
  while (p.pos < p.src.length && /\s/.test(p.src[p.pos])) p.pos++;
}

function expect(p: Parser, token: string): void {
  skipWs(p);
  if (!p.src.startsWith(token, p.pos)) {
    throw new TerraformTypeError(
      `type "${p.src}": expected "${token}" at offset ${p.pos}, found "${p.src.slice(p.pos, p.pos + 12)}"`,
    );
  }
  p.pos += token.length;
}

function ident(p: Parser): string {
  skipWs(p);
  const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(p.src.slice(p.pos));
  if (!m) throw new TerraformTypeError(`type "${p.src}": expected a name at offset ${p.pos}`);
  p.pos += m[0].length;
  return m[0];
}

/**
 * A JSON-compatible HCL literal (string, number, bool, null, or an empty map `{}` or list `[]`)
 * used as an optional() default.
 */
function literal(p: Parser): unknown {
  skipWs(p);
  const rest = p.src.slice(p.pos);
  const m = /^("(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?|true|false|null|\{\s*\}|\[\s*\])/.exec(rest);
  if (!m) {
    throw new TerraformTypeError(
      `type "${p.src}": optional() default at offset ${p.pos} is not a simple literal`,
    );
  }
  p.pos += m[0].length;
  if (m[0].startsWith('{')) return {};
  if (m[0].startsWith('[')) return [];
  return JSON.parse(m[0]);
}

interface Parsed {
  readonly schema: JsonSchema;
  /** Set for optional(T[, default]) object attributes. */
  readonly optional?: { readonly default?: unknown };
}

function parseType(p: Parser): Parsed {
  const name = ident(p);
  switch (name) {
    case 'string':
      return { schema: { type: 'string' } };
    case 'number':
      return { schema: { type: 'number' } };
    case 'bool':
      return { schema: { type: 'boolean' } };
    case 'any':
      return { schema: {} };
    case 'list':
    case 'set': {
      expect(p, '(');
      const items = parseType(p).schema;
      expect(p, ')');
      return {
        schema: { type: 'array', items, ...(name === 'set' ? { uniqueItems: true } : {}) },
      };
    }
    case 'map': {
      expect(p, '(');
      const values = parseType(p).schema;
      expect(p, ')');
      return { schema: { type: 'object', additionalProperties: values } };
    }
    case 'tuple': {
      expect(p, '(');
      expect(p, '[');
      const prefixItems: JsonSchema[] = [];
      skipWs(p);
      while (p.src[p.pos] !== ']') {
        prefixItems.push(parseType(p).schema);
        skipWs(p);
        if (p.src[p.pos] === ',') p.pos++;
        skipWs(p);
      }
      expect(p, ']');
      expect(p, ')');
      return {
        schema: {
          type: 'array',
          items: prefixItems,
          minItems: prefixItems.length,
          maxItems: prefixItems.length,
        },
      };
    }
    case 'object': {
      expect(p, '(');
      expect(p, '{');
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      skipWs(p);
      while (p.src[p.pos] !== '}') {
        const attr = ident(p);
        expect(p, '=');
        const t = parseType(p);
        if (t.optional) {
          // Terraform fills in the default for a missing or null optional attribute.
          properties[attr] = {
            anyOf: [t.schema, { type: 'null' }],
            ...('default' in t.optional ? { default: t.optional.default } : {}),
          };
        } else {
          properties[attr] = t.schema;
          required.push(attr);
        }
        skipWs(p);
        if (p.src[p.pos] === ',') p.pos++;
        skipWs(p);
      }
      expect(p, '}');
      expect(p, ')');
      return {
        schema: {
          type: 'object',
          properties,
          ...(required.length ? { required } : {}),
          additionalProperties: false,
        },
      };
    }
    case 'optional': {
      expect(p, '(');
      const inner = parseType(p);
      skipWs(p);
      let optional: { default?: unknown } = {};
      if (p.src[p.pos] === ',') {
        p.pos++;
        optional = { default: literal(p) };
      }
      expect(p, ')');
      return { schema: inner.schema, optional };
    }
    default:
      throw new TerraformTypeError(`type "${p.src}": unknown type name "${name}"`);
  }
}

/** The JSON Schema of a Terraform type constraint string. */
export function terraformTypeToSchema(type: string): JsonSchema {
  const p: Parser = { src: type, pos: 0 };
  const parsed = parseType(p);
  skipWs(p);
  if (p.pos !== type.length) {
    throw new TerraformTypeError(`type "${type}": unexpected text at offset ${p.pos}`);
  }
  if (parsed.optional) throw new TerraformTypeError(`type "${type}": optional() at top level`);
  return parsed.schema;
}
