/**
 * The admin password as a canary: after the emulator apply, the value Secrets Manager (moto)
 * holds is searched for in everything Terraform stored or printed (plan JSON, state), raw and
 * in the encodings Terraform and JSON would give it.
 */

export interface CanaryDocument {
  readonly name: string;
  readonly text: string;
}

/** Encodings of `secret` worth searching for: raw, JSON-escaped, base64. */
export function canaryForms(secret: string): string[] {
  const forms = [
    secret,
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64'),
  ];
  return [...new Set(forms)];
}

/**
 * Names of the documents that contain `secret` in any form. Throws when the secret is too
 * short to be a meaningful canary (an empty or tiny value would "pass" vacuously or match
 * by chance).
 */
export function documentsContaining(secret: string, docs: readonly CanaryDocument[]): string[] {
  if (secret.length < 16) {
    throw new Error(
      `the admin password read back has ${secret.length} characters: too short to search for`,
    );
  }
  const forms = canaryForms(secret);
  return docs.filter((d) => forms.some((f) => d.text.includes(f))).map((d) => d.name);
}

/**
 * A python (boto3) program that prints the current value of the secret named by argv[2] from
 * the endpoint argv[1]. The value goes to stdout only (never a log or an argument).
 */
export const READ_SECRET_PY = [
  'import sys, boto3',
  "c = boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='us-east-1',",
  "                 aws_access_key_id='mock-access-key', aws_secret_access_key='mock-secret-key')",
  "sys.stdout.write(c.get_secret_value(SecretId=sys.argv[2])['SecretString'])",
].join('\n');
