/**
 * `npm run build:module`: writes a self-contained Terraform module folder laid out like the
 * terraform-aws-modules modules (default dist/terraform-aws-pmm/, or the first argument):
 *   versions.tf.json, variables.tf.json, outputs.tf.json, main.tf.json (split from the
 *   synthesized module stack), assets/ (module-relative paths), README.md with generated
 *   Requirements/Providers/Resources/Inputs/Outputs tables, LICENSE, CHANGELOG.md,
 *   examples/basic and examples/complete, tests/*.tftest.hcl (`terraform test`).
 * The folder works wherever it is moved or copied.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { moduleReadme } from './module-readme';
import { MOCK_PROVIDER_HCL, renderValidationTests } from './module-tests';
import { readStackJson, synthModuleStack } from './synth-module';
import type { TfJson } from './verify/lib/tf-json';

const root = resolve(__dirname, '..');

/** The module's Terraform JSON files, by name. Together they are the synthesized stack. */
export function splitModuleJson(tf: TfJson): Record<string, TfJson> {
  const { terraform, variable, output, ...rest } = tf;
  delete rest['//']; // cdktf's stack metadata: noise to module users
  return {
    'versions.tf.json': { terraform },
    'variables.tf.json': { variable },
    'outputs.tf.json': { output },
    'main.tf.json': rest,
  };
}

/** The module folder's Terraform JSON merged back into one document (tools that want one). */
export function readModuleFolder(dir: string): TfJson {
  const out: TfJson = {};
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.tf.json'))
    .sort()) {
    const part = JSON.parse(readFileSync(join(dir, f), 'utf8')) as TfJson;
    for (const [k, v] of Object.entries(part)) {
      out[k] = out[k] && typeof v === 'object' ? { ...out[k], ...v } : v;
    }
  }
  return out;
}

const writeJson = (path: string, v: unknown) =>
  writeFileSync(path, JSON.stringify(v, null, 2) + '\n');

export function buildModule(outDir: string): { dir: string; files: string[] } {
  const stackDir = synthModuleStack();
  const tf = readStackJson(stackDir);
  delete tf['//'];

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, part] of Object.entries(splitModuleJson(tf))) {
    writeJson(join(outDir, name), part);
  }
  if (existsSync(join(stackDir, 'assets'))) {
    cpSync(join(stackDir, 'assets'), join(outDir, 'assets'), { recursive: true });
  }
  for (const example of ['basic', 'complete']) {
    cpSync(join(root, 'examples', example), join(outDir, 'examples', example), {
      recursive: true,
    });
  }
  cpSync(join(root, 'LICENSE'), join(outDir, 'LICENSE'));
  cpSync(join(root, 'CHANGELOG.md'), join(outDir, 'CHANGELOG.md'));

  mkdirSync(join(outDir, 'tests'));
  writeFileSync(join(outDir, 'tests', 'validations.tftest.hcl'), renderValidationTests(tf));
  for (const f of readdirSync(join(root, 'tests')).filter((x) => x.endsWith('.tftest.hcl'))) {
    writeFileSync(
      join(outDir, 'tests', f),
      `# From tests/${f} in pmm-cdktf, with the shared mocked AWS provider prepended.\n\n` +
        MOCK_PROVIDER_HCL +
        '\n' +
        readFileSync(join(root, 'tests', f), 'utf8'),
    );
  }
  writeFileSync(join(outDir, 'README.md'), moduleReadme(tf));
  const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).sort();
  return { dir: outDir, files };
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? join(root, 'dist', 'terraform-aws-pmm'));
  const { dir, files } = buildModule(out);
  const rel = relative(process.cwd(), dir).startsWith('..')
    ? dir
    : relative(process.cwd(), dir) || '.';
  const top = files.filter((f) => !f.includes('/'));
  console.log(
    [
      `module written to ${rel}/ (${files.length} files and folders)`,
      `  ${top.join(', ')}`,
      'backend: none (a module has no backend or provider blocks; the caller configures both)',
      `next: cd ${rel}/examples/basic && terraform init && terraform plan` +
        `   (module tests: cd ${rel} && terraform init && terraform test)`,
    ].join('\n'),
  );
}
