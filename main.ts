import { App } from 'cdktf';
import { reportSynth } from './scripts/synth-report';
import { PmmModuleStack } from './stacks/module-stack';
import { PmmRootStack } from './stacks/root-stack';
import { ConfigError, RootStackConfig, loadRootStackConfig } from './stacks/stack-config';

/**
 * Both stacks: `pmm` (deployable) and `pmm-module` (the publishable module). The output
 * folder is `outdir`, else CDKTF_OUTDIR (set by the cdktf CLI), else cdktf.out/.
 */
export function buildApp(outdir?: string, config: RootStackConfig = loadRootStackConfig()): App {
  const app = new App({ outdir, skipBackendValidation: true });
  new PmmRootStack(app, 'pmm', config);
  new PmmModuleStack(app, 'pmm-module');
  return app;
}

if (require.main === module) {
  let config: RootStackConfig;
  try {
    config = loadRootStackConfig();
  } catch (e) {
    // A config the user must fix: the message says what and where; a stack trace would not.
    if (!(e instanceof ConfigError)) throw e;
    console.error(`synth stopped: ${e.message}`);
    process.exit(1);
  }
  const app = buildApp(undefined, config);
  app.synth();
  reportSynth(app.outdir, config);
}
