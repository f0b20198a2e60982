import { App } from 'cdktf';
import { PmmModuleStack } from './stacks/module-stack';
import { PmmRootStack } from './stacks/root-stack';
import { loadRootStackConfig } from './stacks/stack-config';

/** Synthesizes both stacks into cdktf.out/: `pmm` (deployable) and `pmm-module` (the module). */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir, skipBackendValidation: true });
  new PmmRootStack(app, 'pmm', loadRootStackConfig());
  new PmmModuleStack(app, 'pmm-module');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
