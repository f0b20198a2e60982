/**
 * Validates `pmm.config.json` with ajv against the schema generated from the module
 * variables, and turns ajv's errors into lines a newcomer can act on:
 *   variables.monitored_asgs[0].pasword_secret_arn: unknown key; did you mean "password_secret_arn"?
 *   variables.ebs_volume_size: must be <= 16384 (got 20000): ebs_volume_size must be a whole ...
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import { GeneratedConfigSchema, RuleCoverage, generateConfigSchema } from './config-schema';

let compiled: { validate: ValidateFunction; coverage: readonly RuleCoverage[] } | undefined;

function validator(): NonNullable<typeof compiled> {
  if (!compiled) {
    const generated: GeneratedConfigSchema = generateConfigSchema();
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
    compiled = { validate: ajv.compile(generated.schema), coverage: generated.coverage };
  }
  return compiled;
}

/** `/variables/monitored_asgs/0/port` -> `variables.monitored_asgs[0].port` */
export function keyPath(instancePath: string, child?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const p of parts) out += /^[0-9]+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}

/** The nearest of `candidates` to `word`, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  // dynamodb_table vs dynamodbTable: compare without case and separators first.
  const same = candidates.find((c) => norm(c) === norm(word));
  if (same) return same;
  // ebs_size vs ebs_volume_size: every word of the key, in order, in one candidate.
  const words = word.toLowerCase().split(/[_-]+/).filter(Boolean);
  const containing = candidates.filter((c) => {
    let at = 0;
    for (const w of words) {
      const i = c.toLowerCase().indexOf(w, at);
      if (i < 0) return false;
      at = i + w.length;
    }
    return words.length > 1;
  });
  if (containing.length === 1) return containing[0];
  const best = closest(word, [...candidates]);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** The module rule messages behind a failed keyword, when the keyword came from a rule. */
function ruleMessages(e: ErrorObject, coverage: readonly RuleCoverage[]): string[] {
  const m = /^#\/properties\/variables\/properties\/([^/]+)\/(.*)$/.exec(e.schemaPath);
  if (!m) return [];
  const keyword = `/${m[2]}`.replace(/\/(anyOf|allOf)\/[0-9]+/g, '').slice(1);
  const key = e.keyword === 'pattern' ? `${keyword}:${String(e.params.pattern)}` : keyword;
  return coverage
    .filter((c) => c.variable === m[1] && c.keywords.includes(key))
    .map((c) => c.message);
}

function describe(e: ErrorObject, coverage: readonly RuleCoverage[]): string | undefined {
  const at = keyPath(e.instancePath);
  const got = ` (got ${show(e.data)})`;
  const rules = ruleMessages(e, coverage);
  const why = rules.length ? `: ${rules.join(' ')}` : '';
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys(
        ((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object,
      ).filter((k) => !k.startsWith('$'));
      const guess = didYouMean(key, known);
      return `${keyPath(e.instancePath, key)}: unknown key${guess ? `; did you mean "${guess}"?` : ''} (allowed here: ${known.join(', ')})`;
    }
    case 'required':
      return `${at}: missing required key "${String(e.params.missingProperty)}"`;
    case 'type':
      return `${at}: must be ${String(e.params.type).replace(',', ' or ')}${got}${why}`;
    case 'enum':
      return `${at}: must be one of ${(e.params.allowedValues as unknown[]).map(show).join(', ')}${got}${why}`;
    case 'pattern':
      return `${at}: must match ${String(e.params.pattern)}${got}${why}`;
    case 'if':
    case 'anyOf':
      return undefined; // the branch's own errors say what is wrong
    default:
      return `${at}: ${e.message ?? e.keyword}${got}${why}`;
  }
}

/** Problems in a parsed config, one line each; empty when it is valid. */
export function configProblems(raw: unknown): string[] {
  const { validate, coverage } = validator();
  if (validate(raw)) return [];
  const errors = validate.errors ?? [];
  const lines: string[] = [];
  for (const e of errors) {
    // Inside anyOf [T, null], the "must be null" branch error is noise.
    if (
      e.keyword === 'type' &&
      e.params.type === 'null' &&
      /\/anyOf\/[0-9]+\/type$/.test(e.schemaPath)
    )
      continue;
    const line = describe(e, coverage);
    if (line && !lines.includes(line)) lines.push(line);
  }
  return lines;
}
