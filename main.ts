import { App } from 'cdktf';
import { PmmModuleStack } from './stacks/module-stack';
import { PmmRootStack } from './stacks/root-stack';
import { loadRootStackConfig } from './stacks/stack-config';

/**
 * Both stacks: `pmm` (deployable) and `pmm-module` (the publishable module). The output
 * folder is `outdir`, else CDKTF_OUTDIR (set by the cdktf CLI), else cdktf.out/.
 */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir, skipBackendValidation: true });
  new PmmRootStack(app, 'pmm', loadRootStackConfig());
  new PmmModuleStack(app, 'pmm-module');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
