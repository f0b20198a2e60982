import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModule } from '../scripts/build-module';

describe('npm run build:module', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pmm-build-')), 'terraform-aws-pmm');
  beforeAll(() => buildModule(out));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes main.tf.json without provider or backend blocks', () => {
    const tf = JSON.parse(readFileSync(join(out, 'main.tf.json'), 'utf8'));
    expect(tf.provider).toBeUndefined();
    expect(tf.terraform.backend).toBeUndefined();
    expect(tf['//']).toBeUndefined();
    expect(Object.keys(tf.variable)).toContain('ebs_volume_size');
  });

  it('references every file path module-relatively and ships the files', () => {
    const text = readFileSync(join(out, 'main.tf.json'), 'utf8');
    const paths = [...text.matchAll(/\$\{path\.module\}\/([^"}\\]+)/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(0); // the reconciler bundle at least
    for (const p of paths) expect(existsSync(join(out, p))).toBe(true);
    // No absolute or cdktf.out-relative path may leak into the module.
    expect(text).not.toMatch(/cdktf\.out|\/work\/|\/tmp\//);
  });

  it('includes a README with the generated tables and a basic example', () => {
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toMatch(/\| ebs_volume_size \|/);
    expect(readme).toMatch(/\| pmm_url \|/);
    expect(readFileSync(join(out, 'examples', 'basic', 'main.tf'), 'utf8')).toMatch(
      /source = "\.\.\/\.\."/,
    );
  });
});
