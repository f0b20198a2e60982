import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/** shellcheck from `npm run tools` (.cache/tools/bin), else PATH; throws when missing. */
export function shellcheckPath(): string {
  const local = join(__dirname, '..', '..', '.cache', 'tools', 'bin', 'shellcheck');
  if (existsSync(local)) return local;
  try {
    return execFileSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('shellcheck is missing: run `npm run tools` (or apt-get install shellcheck)');
  }
}
