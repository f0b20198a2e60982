import { App } from 'cdktf';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PmmModuleStack } from '../stacks/module-stack';

export const MODULE_STACK = 'pmm-module';

/** Synthesizes only the module stack into a fresh directory; returns that stack's folder. */
export function synthModuleStack(outdir = mkdtempSync(join(tmpdir(), 'pmm-module-'))): string {
  const app = new App({ outdir, skipBackendValidation: true });
  new PmmModuleStack(app, MODULE_STACK);
  app.synth();
  return join(outdir, 'stacks', MODULE_STACK);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function readStackJson(stackDir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8'));
}
