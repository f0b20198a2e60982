import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');

/** Lints `code` as if it were constructs/x.ts, with the project's eslint config. */
function lint(code: string): { status: number | null; output: string } {
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--stdin',
      '--stdin-filename',
      'constructs/x.ts',
    ],
    { cwd: root, input: code, encoding: 'utf8' },
  );
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('deep provider imports', () => {
  it.each([
    "import { Instance } from '@cdktf/provider-aws';",
    "import { instance } from '@cdktf/provider-aws/lib';",
    "import { password } from '@cdktf/provider-random';",
    "import * as aws from '@cdktf/provider-aws/lib/index';",
  ])('rejects the barrel import %s', (code) => {
    const r = lint(`${code}\nexport const x = 1;\n`);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/no-restricted-imports/);
  });

  it('accepts a deep import of one resource', () => {
    const r = lint(
      "import { Instance } from '@cdktf/provider-aws/lib/instance';\nexport const i = Instance;\n",
    );
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});
