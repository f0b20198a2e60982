import { Fn, IResolvable, Op, Token } from 'cdktf';

/**
 * Resource-policy statements that keep a secret's value to a fixed list of principals:
 * a `Deny` of `secretsmanager:GetSecretValue` to every principal (`"*"`, any account) whose
 * `aws:PrincipalArn` (for a role session: the role's ARN) is not in the list. An explicit
 * deny in the resource policy wins over any identity policy, so a role that was given
 * `secretsmanager:*` on `*` in this account still cannot read the value.
 */

export const READ_VALUE_ACTION = 'secretsmanager:GetSecretValue';

export interface ReadGuardProps {
  /** Statement id. */
  readonly sid: string;
  /**
   * ARNs that keep read access (subject to their own IAM policies). May hold null entries
   * (roles that do not exist in this configuration); they are dropped with `compact`.
   */
  readonly allowedPrincipalArns: string[];
}

/** The deny statement (an object for `jsonencode`). */
export function denyReadsExcept(props: ReadGuardProps): Record<string, unknown> {
  const condition: Record<string, unknown> = {
    ArnNotEquals: { 'aws:PrincipalArn': Fn.compact(props.allowedPrincipalArns) },
  };
  return {
    Sid: props.sid,
    Effect: 'Deny',
    Principal: '*',
    Action: READ_VALUE_ACTION,
    Resource: '*',
    Condition: condition,
  };
}

/**
 * Plan-time check that every ARN in `roleArns` belongs to `accountId`: the number of
 * `:iam::<account>:role/` occurrences in the joined list equals the list's length (an IAM
 * role ARN holds exactly one `:iam::`, and neither role names nor paths may hold `:`).
 */
export function allInAccount(roleArns: string[], accountId: string): IResolvable {
  return Token.asAny(
    Op.eq(
      Fn.lengthOf(Fn.regexall(Fn.format(':iam::%s:role/', [accountId]), Fn.join(' ', roleArns))),
      Fn.lengthOf(roleArns),
    ),
  );
}
