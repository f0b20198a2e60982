/**
 * Environment for tests that run a real `terraform` (console only: no providers, no network).
 * The machine's own CLI config (TF_CLI_CONFIG_FILE, ~/.terraformrc) and Terraform inputs are
 * ignored, so a result does not depend on who runs the test.
 */
export function terraformTestEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: '/dev/null',
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
  };
  for (const k of Object.keys(env)) {
    if (k.startsWith('TF_VAR_') || k.startsWith('TF_CLI_ARGS')) delete env[k];
  }
  return env;
}
