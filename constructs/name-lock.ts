import { DataResource, Op, TerraformResourceLifecycle, Token, ref } from 'cdktf';
import { Construct } from 'constructs';

/** A value that feeds resource names, and the variable that sets it. */
export interface LockedName {
  /** The module variable, named in the error message. */
  readonly variable: string;
  /** Its value (literal or Terraform expression). */
  readonly value: string;
  /** What a change would destroy, for the error message. */
  readonly feeds: string;
  /** How to move to a new value on purpose. @default - NameLockProps.procedure */
  readonly procedure?: string;
}

export interface NameLockProps {
  readonly names: readonly LockedName[];
  /** How to move to new names on purpose (for names without their own). */
  readonly procedure: string;
}

/**
 * Refuses, at plan time, a change of a value that feeds the names of stateful resources.
 * A `terraform_data` keeps the values of the first apply (`ignore_changes = [input]`); a
 * postcondition per value compares them with the configuration. A rename would otherwise
 * half-apply: Terraform destroys the admin secret, the SNS topic (and its confirmed
 * subscriptions), the log group (and its history) and tries to destroy the backup vault,
 * which AWS refuses while it holds recovery points.
 *
 * On the first apply the kept values are unknown at plan and equal to the configuration at
 * apply, so the check passes.
 */
export class NameLock extends Construct {
  constructor(scope: Construct, id: string, props: NameLockProps) {
    super(scope, id);
    const input: Record<string, string> = {};
    for (const n of props.names) input[n.variable] = n.value;
    const lifecycle: TerraformResourceLifecycle = {
      ignoreChanges: ['input'],
      postcondition: props.names.map((n) => {
        const kept = `\${self.output.${n.variable}}`;
        return {
          condition: Op.eq(Token.asString(ref(`self.output.${n.variable}`)), n.value),
          errorMessage:
            `${n.variable} is "${kept}" in this deployment and "${n.value}" in the configuration. ` +
            `${n.variable} names ${n.feeds}, which a rename in place would destroy, so it is ` +
            `refused before anything changes. Set ${n.variable} back to "${kept}", or move to ` +
            `the new name on purpose: ${n.procedure ?? props.procedure}.`,
        };
      }),
    };
    new DataResource(this, 'names', { input, lifecycle });
  }
}
