import { TfJson } from './synth';
import { terraformEval } from './terraform';

const REFERENCE =
  /\b(?:one\()?(?:data\.)?aws_[a-z0-9_]+\.[a-z0-9_]+(?:\[\*\])?\.[a-z0-9_]+(?:\))?/g;

/**
 * Evaluates a synthesized policy expression (`${jsonencode({...})}`) with real Terraform.
 * Every reference to another object becomes a string variable: the value given in `refs`
 * (keyed by the reference text, e.g. `data.aws_region.pmm_host_region.name`), else
 * `<reference text>`, so a test sees exactly where each reference lands.
 */
export function evalPolicyDocument(
  expression: string,
  refs: Readonly<Record<string, string>> = {},
  variables: Readonly<Record<string, { type: string; value: string }>> = {},
): TfJson {
  const found = [...new Set(expression.match(REFERENCE) ?? [])];
  let hcl = expression;
  const vars: Record<string, unknown> = {};
  const values: Record<string, string> = {};
  found.forEach((ref, i) => {
    hcl = hcl.split(ref).join(`var.ref_${i}`);
    vars[`ref_${i}`] = { type: 'string' };
    values[`ref_${i}`] = refs[ref] ?? `<${ref}>`;
  });
  for (const [name, v] of Object.entries(variables)) {
    vars[name] = { type: v.type };
    values[name] = v.value;
  }
  return JSON.parse(terraformEval(hcl, { variables: vars, values }) as string) as TfJson;
}
