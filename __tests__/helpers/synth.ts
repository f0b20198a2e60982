import { Testing } from 'cdktf';
import { PmmModuleStack } from '../../stacks/module-stack';
import { PmmRootStack } from '../../stacks/root-stack';
import { RootStackConfig } from '../../stacks/stack-config';

/** The synthesized Terraform JSON of a stack. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TfJson = Record<string, any>;

let moduleCache: TfJson | undefined;

/** The module stack's JSON (synthesized once per test file; treat as read-only). */
export function synthModule(): TfJson {
  moduleCache ??= JSON.parse(Testing.synth(new PmmModuleStack(Testing.app(), 'pmm-module'), true));
  return moduleCache!;
}

export function synthRoot(config: RootStackConfig = {}): TfJson {
  return JSON.parse(Testing.synth(new PmmRootStack(Testing.app(), 'pmm', config), true));
}

/** All resources of a type: address -> body. */
export function resourcesOf(tf: TfJson, type: string): Record<string, TfJson> {
  return tf.resource?.[type] ?? {};
}

/** The single resource of a type whose address ends with `suffix`. */
export function resource(tf: TfJson, type: string, suffix: string): TfJson {
  const matches = Object.entries(resourcesOf(tf, type)).filter(([k]) => k.endsWith(suffix));
  if (matches.length !== 1) {
    throw new Error(
      `expected one ${type} ending in ${suffix}, found ${matches.map(([k]) => k).join(', ') || 'none'}`,
    );
  }
  return matches[0][1];
}
