import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModule, readModuleFolder, splitModuleJson } from '../scripts/build-module';
import { hclValue, renderValidationTests } from '../scripts/module-tests';
import { parseTestSummary } from '../scripts/verify/module-tests';
import { badInputCases } from '../scripts/verify/bad-inputs';
import { readStackJson, synthModuleStack } from '../scripts/synth-module';
import { synthModule } from './helpers/synth';

const root = join(__dirname, '..');

describe('npm run build:module', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'pmm-build-')), 'terraform-aws-pmm');
  let files: string[] = [];
  beforeAll(() => {
    files = buildModule(out).files;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const read = (f: string) => readFileSync(join(out, f), 'utf8');
  const json = (f: string) => JSON.parse(read(f));

  it('lays the folder out like terraform-aws-modules', () => {
    for (const f of [
      'versions.tf.json',
      'variables.tf.json',
      'outputs.tf.json',
      'main.tf.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'examples/basic/main.tf',
      'examples/basic/README.md',
      'examples/complete/main.tf',
      'examples/complete/README.md',
      'tests/validations.tftest.hcl',
      'tests/switches.tftest.hcl',
    ])
      expect(files).toContain(f);
    expect(Object.keys(json('versions.tf.json'))).toEqual(['terraform']);
    expect(Object.keys(json('variables.tf.json'))).toEqual(['variable']);
    expect(Object.keys(json('outputs.tf.json'))).toEqual(['output']);
    expect(Object.keys(json('main.tf.json')).sort()).toEqual([
      'data',
      'ephemeral',
      'locals',
      'moved',
      'resource',
    ]);
  });

  it('splits without losing or adding anything: the files merge back to the synthesized module', () => {
    const tf = readStackJson(synthModuleStack());
    delete tf['//'];
    expect(readModuleFolder(out)).toEqual(tf);
    expect(splitModuleJson({ ...tf, '//': { x: 1 } })['main.tf.json']).not.toHaveProperty('//');
  });

  it('has no provider or backend blocks, and version ranges', () => {
    const tf = readModuleFolder(out);
    expect(tf.provider).toBeUndefined();
    expect(tf.terraform.backend).toBeUndefined();
    expect(tf.terraform.required_version).toBe('>= 1.11');
  });

  it('references every file path module-relatively and ships the files', () => {
    const text = readdirSync(out)
      .filter((f) => f.endsWith('.tf.json'))
      .map(read)
      .join('\n');
    const paths = [...text.matchAll(/\$\{path\.module\}\/([^"}\\]+)/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(0); // the reconciler bundle at least
    for (const p of paths) expect(existsSync(join(out, p))).toBe(true);
    // No absolute or cdktf.out-relative path may leak into the module.
    expect(text).not.toMatch(/cdktf\.out|\/work\/|\/tmp\//);
  });

  it('ships the root LICENSE (Apache-2.0, as package.json says) and CHANGELOG.md unchanged', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(read('LICENSE')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(read('CHANGELOG.md')).toBe(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'));
    expect(read('CHANGELOG.md')).toMatch(/## \[Unreleased\][\s\S]*## \[0\.1\.0\]/);
  });

  it('README has generated Requirements, Providers, Resources, Inputs and Outputs tables', () => {
    const readme = read('README.md');
    const tf = readModuleFolder(out);
    for (const h of ['Requirements', 'Providers', 'Resources', 'Inputs', 'Outputs'])
      expect(readme).toMatch(new RegExp(`^## ${h}\\n\\n\\|`, 'm'));
    expect(readme).toContain('| aws | hashicorp/aws | >= 5.100, < 7 |');
    for (const name of Object.keys(tf.variable)) expect(readme).toContain(`| ${name} |`);
    for (const name of Object.keys(tf.output)) expect(readme).toContain(`| ${name} |`);
    for (const [type, byName] of Object.entries(tf.resource as Record<string, object>))
      for (const name of Object.keys(byName)) expect(readme).toContain(`[${type}.${name}]`);
    expect(readme).toContain(
      '[aws_ebs_volume.pmm_data_volume_volume](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/ebs_volume)',
    );
    expect(readme).toMatch(
      /\[aws_lambda_function\.pmm_reconciler_function\]\([^)]+\) \| resource \| `count` \|/,
    );
  });

  it('examples use the module from ../..', () => {
    for (const ex of ['basic', 'complete'])
      expect(read(`examples/${ex}/main.tf`)).toMatch(/source = "\.\.\/\.\."/);
  });

  it('declares the aws.dns configuration alias, and the examples and README pass it', () => {
    expect(json('versions.tf.json').terraform.required_providers.aws.configuration_aliases).toEqual(
      ['aws.dns'],
    );
    // Terraform refuses a module call that does not pass a configuration alias.
    for (const ex of ['basic', 'complete'])
      expect(read(`examples/${ex}/main.tf`)).toMatch(
        /providers = \{\s+aws\s+= aws\s+aws\.dns = aws\s+\}/,
      );
    const readme = read('README.md');
    expect(readme).toMatch(/providers = \{\s+aws\s+= aws\s+aws\.dns = aws/);
    expect(readme).toContain(
      '| aws.dns | hashicorp/aws (configuration alias: pass it in `providers`) | >= 5.100, < 7 |',
    );
    // Every Route53 block of the module uses it.
    const main = json('main.tf.json');
    for (const kind of ['resource', 'data'])
      for (const body of Object.values(main[kind].aws_route53_record ?? {}).concat(
        Object.values(main[kind].aws_route53_zone ?? {}),
      ) as { provider?: string }[])
        expect(body.provider).toBe('aws.dns');
  });

  it('mocks the aws.dns provider in the module tests (zone lookups go through it)', () => {
    for (const f of [
      'tests/reach.tftest.hcl',
      'tests/switches.tftest.hcl',
      'tests/validations.tftest.hcl',
    ]) {
      const text = read(f);
      expect(text).toMatch(
        /mock_provider "aws" \{\n  alias = "dns"\n  mock_data "aws_route53_zone"/,
      );
    }
  });

  it('prepends the shared mocked AWS provider to the hand-written tests', () => {
    const sw = read('tests/switches.tftest.hcl');
    expect(sw).toContain('mock_provider "aws"');
    expect(sw).toContain(readFileSync(join(root, 'tests', 'switches.tftest.hcl'), 'utf8'));
  });
});

describe('generated tests/validations.tftest.hcl', () => {
  const tf = synthModule();
  const hcl = renderValidationTests(tf);

  it('has every bad-input row, each in a run that expects its variable to fail', () => {
    const { cases } = badInputCases(tf);
    const runs = hcl.split(/^run "/m).slice(1);
    for (const c of cases) {
      const holding = runs.filter(
        (r) =>
          r.includes(`    ${c.variable} = ${hclValue(c.value, '    ')}\n`) &&
          r.includes(`    var.${c.variable},\n`),
      );
      expect({ row: c.variable, value: c.value, runs: holding.length }).toEqual({
        row: c.variable,
        value: c.value,
        runs: 1,
      });
    }
    // One value per variable per run (validations are independent; expect_failures per var).
    for (const r of runs) {
      const vars = [...r.matchAll(/^ {4}var\.([a-z_]+),$/gm)].map((m) => m[1]);
      expect(new Set(vars).size).toBe(vars.length);
    }
  });

  it('flows a row another change adds into the tests without touching this generator', () => {
    const more = renderValidationTests(tf, {
      ...(
        jest.requireActual(
          '../scripts/verify/bad-inputs',
        ) as typeof import('../scripts/verify/bad-inputs')
      ).BAD_INPUTS,
      zone_id: [{ value: 'example.com' }, { value: 'Zlowercase' }],
    });
    expect(more).toContain('zone_id = "Zlowercase"');
  });

  it('refuses to generate from an incomplete table or without a required value', () => {
    expect(() => renderValidationTests(tf, {})).toThrow(/has no bad value/);
    const extra = { ...tf, variable: { ...tf.variable, new_required: { type: 'string' } } };
    expect(() => renderValidationTests(extra)).toThrow(/new_required/);
  });

  it('renders values as HCL, escaping template sequences', () => {
    expect(hclValue('a${b}%{c}')).toBe('"a$${b}%%{c}"');
    expect(hclValue([{ a: 1, b: null }])).toBe('[{\n  "a" = 1\n  "b" = null\n}]');
  });

  it('reads terraform test summaries', () => {
    expect(parseTestSummary('Success! 11 passed, 0 failed.')).toEqual({ passed: 11, failed: 0 });
    expect(parseTestSummary('Failure! 4 passed, 2 failed, 5 skipped.')).toEqual({
      passed: 4,
      failed: 2,
    });
    expect(parseTestSummary('Error: no tests')).toBeUndefined();
  });
});
