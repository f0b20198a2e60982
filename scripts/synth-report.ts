/**
 * What `npm run synth` prints after writing cdktf.out/: where each stack went, which backend
 * the root stack uses and what to run next. Under the cdktf CLI (CDKTF_OUTDIR set) the CLI
 * reports for itself and this prints nothing.
 */
import { relative, resolve } from 'node:path';
import { BackendConfig, RootStackConfig, configSource } from '../stacks/stack-config';

/** One line describing where the root stack keeps its state. */
export function describeBackend(backend: BackendConfig | undefined, outdir: string): string {
  const b = backend ?? { type: 'local' as const };
  if (b.type === 's3') {
    const lock = b.dynamodbTable
      ? `DynamoDB lock table ${b.dynamodbTable}`
      : 'S3 native locking (use_lockfile)';
    return `s3://${b.bucket}/${b.key} (${b.region}, ${b.encrypt === false ? 'NOT encrypted' : 'encrypted'}, ${lock})`;
  }
  // The local backend path is relative to the stack folder, where terraform runs.
  const path = resolve(outdir, 'stacks', 'pmm', b.path ?? '../../../terraform.pmm.tfstate');
  return `local file ${relative(process.cwd(), path) || path}`;
}

export function synthReport(
  outdir: string,
  config: RootStackConfig,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const out = relative(process.cwd(), resolve(outdir)) || '.';
  const source = configSource(env);
  return [
    `synth: wrote ${out}/stacks/pmm/cdk.tf.json (root stack) and ${out}/stacks/pmm-module/cdk.tf.json (module)`,
    `config: ${source ? relative(process.cwd(), source) : 'none (no pmm.config.json, PMM_CONFIG unset): required variables must be given at plan'}`,
    `backend of the root stack: ${describeBackend(config.backend, outdir)}`,
    `next: cd ${out}/stacks/pmm && terraform init && terraform plan` +
      `   (or CHECKPOINT_DISABLE=1 npx cdktf deploy pmm; module folder: npm run build:module)`,
  ].join('\n');
}

export function reportSynth(outdir: string, config: RootStackConfig): void {
  if (process.env.CDKTF_OUTDIR !== undefined) return;
  console.log(synthReport(outdir, config));
}
