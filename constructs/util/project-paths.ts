import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The project root (the folder with package.json and templates/), found by walking up from
 * this file, so paths hold whether the app runs from source (tsx, jest) or from the
 * esbuild bundle `npm run synth` runs (.cache/app/main.js, cdktf bundled in).
 */
export function findProjectRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no project root (package.json + templates/) above ${start}`);
  }
}

export const PROJECT_ROOT = findProjectRoot();
