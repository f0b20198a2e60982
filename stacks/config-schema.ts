/**
 * The JSON Schema of `pmm.config.json`, generated from MODULE_VARIABLES (types, defaults and
 * the validation rules stacks/rule-schema.ts can translate exactly). The same object validates
 * the config at synth (stacks/stack-config.ts) and is shipped as
 * schemas/pmm.config.schema.json for editors (`npm run schema`; a test keeps it in sync).
 */
import { MODULE_VARIABLES } from './module-variables';
import { applyPatch, translate } from './rule-schema';
import { JsonSchema, terraformTypeToSchema } from './terraform-type-schema';
import type { VariableSpec } from './variable-helpers';

export const CONFIG_SCHEMA_ID =
  'https://github.com/pmm-cdktf/pmm-cdktf/schemas/pmm.config.schema.json';
/** Repository path of the shipped schema file. */
export const CONFIG_SCHEMA_FILE = 'schemas/pmm.config.schema.json';

/** How much of one validation rule the schema checks. */
export interface RuleCoverage {
  readonly variable: string;
  readonly rule: number;
  readonly message: string;
  readonly coverage: 'schema' | 'partly' | 'terraform-only';
  /** The parts of the expression only Terraform checks. */
  readonly terraformOnly: readonly string[];
  /** Schema keyword paths the rule produced, relative to the variable (`items/pattern`). */
  readonly keywords: readonly string[];
}

/**
 * Leaf keyword paths of a patch (`{ items: { minItems } }` -> `items/minItems`; integer ->
 * type; a pattern carries its regex, `pattern:<re>`, since two rules may each add one).
 */
function keywordPaths(patch: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(patch).flatMap(([k, v]) =>
    (k === 'items' || k === 'properties') && typeof v === 'object' && v !== null
      ? k === 'items'
        ? keywordPaths(v as Record<string, unknown>, `${prefix}items/`)
        : Object.entries(v).flatMap(([attr, p]) =>
            keywordPaths(p as Record<string, unknown>, `${prefix}properties/${attr}/`),
          )
      : [`${prefix}${k === 'integer' ? 'type' : k === 'pattern' ? `pattern:${String(v)}` : k}`],
  );
}

export interface GeneratedConfigSchema {
  readonly schema: JsonSchema;
  readonly coverage: readonly RuleCoverage[];
}

/** The schema of one variable's value, with its translatable rules applied. */
export function variableSchema(
  name: string,
  spec: VariableSpec,
): { schema: JsonSchema; coverage: RuleCoverage[] } {
  const schema: JsonSchema = { description: spec.description, ...terraformTypeToSchema(spec.type) };
  if (spec.default === null) {
    // Terraform accepts null only for nullable variables (default null here).
    schema.type = Array.isArray(schema.type)
      ? [...schema.type, 'null']
      : schema.type
        ? [schema.type, 'null']
        : schema.type;
  }
  const coverage: RuleCoverage[] = [];
  (spec.rules ?? []).forEach((r, i) => {
    const t = translate(r.expr, `var.${name}`);
    applyPatch(schema, t.patch);
    const translated = Object.keys(t.patch).length > 0;
    coverage.push({
      variable: name,
      rule: i,
      message: r.message,
      coverage: t.untranslated.length === 0 ? 'schema' : translated ? 'partly' : 'terraform-only',
      terraformOnly: t.untranslated,
      keywords: keywordPaths(t.patch),
    });
  });
  const tfOnly = coverage.filter((c) => c.coverage !== 'schema');
  if (tfOnly.length) {
    schema.$comment = `Checked at plan by Terraform only: ${tfOnly.map((c) => c.message).join(' / ')}`;
  }
  if (spec.default !== undefined) schema.default = spec.default;
  return { schema, coverage };
}

const BACKEND_SCHEMA: JsonSchema = {
  description: 'Where the root stack keeps its Terraform state.',
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['local', 's3'] } },
  allOf: [
    {
      if: { properties: { type: { const: 'local' } } },
      then: {
        properties: {
          type: {},
          path: {
            type: 'string',
            minLength: 1,
            description:
              'State file path, relative to cdktf.out/stacks/pmm. Default: the project root.',
          },
        },
        additionalProperties: false,
      },
    },
    {
      if: { properties: { type: { const: 's3' } } },
      then: {
        required: ['bucket', 'key', 'region'],
        properties: {
          type: {},
          bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
          key: { type: 'string', minLength: 1 },
          region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$' },
          dynamodbTable: {
            type: 'string',
            minLength: 1,
            description: 'DynamoDB lock table; omit for S3 native locking (use_lockfile).',
          },
          encrypt: { type: 'boolean', default: true },
        },
        additionalProperties: false,
      },
    },
  ],
};

/** Builds the schema from a variables table (MODULE_VARIABLES unless a test passes another). */
export function generateConfigSchema(
  variables: Readonly<Record<string, VariableSpec>> = MODULE_VARIABLES,
): GeneratedConfigSchema {
  const properties: Record<string, JsonSchema> = {};
  const coverage: RuleCoverage[] = [];
  for (const [name, spec] of Object.entries(variables)) {
    const v = variableSchema(name, spec);
    properties[name] = v.schema;
    coverage.push(...v.coverage);
  }
  const schema: JsonSchema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: CONFIG_SCHEMA_ID,
    title: 'pmm-cdktf deployment config (pmm.config.json)',
    description:
      'Generated from stacks/module-variables.ts by `npm run schema`; do not edit by hand. Values under "variables" become the root stack\'s variable defaults.',
    type: 'object',
    properties: {
      $schema: { type: 'string' },
      $comment: { type: 'string' },
      region: {
        type: 'string',
        pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$',
        description: 'AWS region; omit to use AWS_REGION / the profile.',
      },
      backend: BACKEND_SCHEMA,
      variables: {
        description: 'Module variable values, by their module names.',
        type: 'object',
        properties,
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  };
  return { schema, coverage };
}
