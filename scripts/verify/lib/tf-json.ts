/**
 * Pure helpers over synthesized Terraform JSON (cdk.tf.json / main.tf.json), used by the
 * verify pipeline. Nothing here knows today's resource list: everything is read from the JSON.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TfJson = Record<string, any>;

export interface ValidationRule {
  readonly index: number;
  readonly message: string;
}

export interface ValidatedVariable {
  readonly name: string;
  readonly rules: readonly ValidationRule[];
  /** True when the variable has no default (the caller must set it). */
  readonly required: boolean;
}

/** Every variable with at least one `validation` block, in declaration order. */
export function validatedVariables(tf: TfJson): ValidatedVariable[] {
  return Object.entries((tf.variable ?? {}) as Record<string, TfJson>)
    .filter(([, v]) => Array.isArray(v.validation) && v.validation.length > 0)
    .map(([name, v]) => ({
      name,
      required: !('default' in v),
      rules: (v.validation as TfJson[]).map((r, index) => ({
        index,
        message: String(r.error_message),
      })),
    }));
}

/** Variables without a default. */
export function requiredVariables(tf: TfJson): string[] {
  return Object.entries((tf.variable ?? {}) as Record<string, TfJson>)
    .filter(([, v]) => !('default' in v))
    .map(([name]) => name);
}

/** Managed resource addresses (`type.name`), sorted. */
export function managedResources(tf: TfJson): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries((tf.resource ?? {}) as Record<string, TfJson>)) {
    for (const name of Object.keys(byName)) out.push(`${type}.${name}`);
  }
  return out.sort();
}

/** Addresses of resources with `lifecycle.prevent_destroy = true`. */
export function preventDestroyResources(tf: TfJson): string[] {
  return managedResources(tf).filter((addr) => {
    const [type, name] = splitAddress(addr);
    return tf.resource[type][name]?.lifecycle?.prevent_destroy === true;
  });
}

function splitAddress(addr: string): [string, string] {
  const dot = addr.indexOf('.');
  return [addr.slice(0, dot), addr.slice(dot + 1)];
}

const REF = /\b(data\.)?([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)/g;

/** Every string inside a JSON value (keys excluded), depth first. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
  return out;
}

/**
 * For each managed resource and data source (`type.name` / `data.type.name`), the other
 * resources/data sources it references (interpolations and depends_on).
 */
export function dependencies(tf: TfJson): Map<string, Set<string>> {
  const known = new Set<string>(managedResources(tf));
  for (const [type, byName] of Object.entries((tf.data ?? {}) as Record<string, TfJson>)) {
    for (const name of Object.keys(byName)) known.add(`data.${type}.${name}`);
  }
  const deps = new Map<string, Set<string>>();
  const visit = (addr: string, body: TfJson) => {
    const found = new Set<string>();
    for (const s of strings(body)) {
      for (const m of s.matchAll(REF)) {
        const ref = `${m[1] ?? ''}${m[2]}.${m[3]}`;
        if (known.has(ref) && ref !== addr) found.add(ref);
      }
    }
    deps.set(addr, found);
  };
  for (const [type, byName] of Object.entries((tf.resource ?? {}) as Record<string, TfJson>)) {
    for (const [name, body] of Object.entries(byName as Record<string, TfJson>)) {
      visit(`${type}.${name}`, body);
    }
  }
  for (const [type, byName] of Object.entries((tf.data ?? {}) as Record<string, TfJson>)) {
    for (const [name, body] of Object.entries(byName as Record<string, TfJson>)) {
      visit(`data.${type}.${name}`, body);
    }
  }
  return deps;
}

/**
 * The managed resources left when every resource of `excludedTypes` is removed together
 * with everything that (transitively) depends on one of them. Returns both lists.
 */
export function excludeWithDependents(
  tf: TfJson,
  excludedTypes: readonly string[],
): { kept: string[]; excluded: string[] } {
  const deps = dependencies(tf);
  const excluded = new Set<string>(
    managedResources(tf).filter((a) => excludedTypes.includes(splitAddress(a)[0])),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const [addr, uses] of deps) {
      if (excluded.has(addr)) continue;
      if ([...uses].some((u) => excluded.has(u))) {
        excluded.add(addr);
        grew = true;
      }
    }
  }
  const managed = managedResources(tf);
  return {
    kept: managed.filter((a) => !excluded.has(a)),
    excluded: managed.filter((a) => excluded.has(a)),
  };
}

export interface AmiFilter {
  readonly address: string;
  readonly owners: string[];
  /** Name patterns (globs); interpolations are expanded to amd64 and arm64. */
  readonly namePatterns: string[];
  readonly architectures: string[];
}

/** The `data.aws_ami` lookups, so the emulator can be seeded with images that match them. */
export function amiFilters(tf: TfJson): AmiFilter[] {
  const out: AmiFilter[] = [];
  for (const [name, body] of Object.entries((tf.data?.aws_ami ?? {}) as Record<string, TfJson>)) {
    const filters = (body.filter ?? []) as { name: string; values: string[] }[];
    // A computed name is either `${format("...%s...", <arch>)}` or a template with one
    // interpolation: stand in both Ubuntu architecture names for the computed part.
    const expand = (v: string): string[] => {
      if (!v.includes('${')) return [v];
      const fmt = /^\$\{format\("((?:[^"\\]|\\.)*)",/.exec(v);
      const template = fmt ? fmt[1] : v.replace(/\$\{.*\}/, '%s');
      return ['amd64', 'arm64'].map((a) => template.replace('%s', a));
    };
    const namePatterns = filters
      .filter((f) => f.name === 'name')
      .flatMap((f) => f.values.flatMap(expand));
    const architectures = filters
      .filter((f) => f.name === 'architecture')
      .flatMap((f) => f.values.flatMap((v) => (v.includes('${') ? ['x86_64', 'arm64'] : [v])));
    out.push({
      address: `data.aws_ami.${name}`,
      owners: (body.owners ?? []) as string[],
      namePatterns,
      architectures,
    });
  }
  return out;
}
