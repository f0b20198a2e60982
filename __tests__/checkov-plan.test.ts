import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPlans, SKIPS_FILE } from '../scripts/verify/checkov-plan';
import { CheckovSkip, loadSkipsFile, skipProblems } from '../scripts/verify/lib/checkov';

// The skips file is read with a python that has PyYAML (the checkov venv has it; so does
// the system python3 on the CI image).
const PYTHON = 'python3';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pmm-checkov-plan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in checkov that prints `output` whatever its arguments. */
function fakeCheckov(name: string, output: string): string {
  const path = join(dir, name);
  writeFileSync(join(dir, `${name}.out`), output);
  writeFileSync(path, `#!/bin/sh\ncat '${join(dir, `${name}.out`)}'\n`);
  chmodSync(path, 0o755);
  return path;
}

const report = (failed: { id: string; resource: string }[], passed = 3) =>
  JSON.stringify({
    check_type: 'terraform_plan',
    results: {
      passed_checks: Array.from({ length: passed }, () => ({})),
      failed_checks: failed.map((f) => ({
        check_id: f.id,
        check_name: `check ${f.id}`,
        resource: f.resource,
        file_path: '/plan.json',
      })),
      parsing_errors: [],
    },
  });

describe('verify/checkov-skips.yaml', () => {
  it('every skip names the resources it covers and has a real reason (no blanket skips)', async () => {
    const skips = await loadSkipsFile({ checkov: 'unused', python: PYTHON }, SKIPS_FILE);
    expect(skips.length).toBeGreaterThan(0);
    expect(skipProblems(skips)).toEqual([]);
  });

  it('the admin secret rotation reason agrees with the password timer', async () => {
    const skips = await loadSkipsFile({ checkov: 'unused', python: PYTHON }, SKIPS_FILE);
    const rotation = skips.find(
      (s) =>
        s.id === 'CKV2_AWS_57' &&
        s.resources?.includes('aws_secretsmanager_secret.pmm_admin_secret_secret'),
    )!;
    expect(rotation.reason).toMatch(/pmm-admin-password\.timer/);
    expect(rotation.reason).not.toMatch(/lock operators out|without changing PMM/);
  });
});

describe('skipProblems', () => {
  it('rejects a skip without resources, an empty list, a short reason and a bad scan', () => {
    const skips = [
      { id: 'CKV_A', reason: 'a reason that is long enough' },
      { id: 'CKV_B', resources: [], reason: 'a reason that is long enough' },
      { id: 'CKV_C', resources: ['aws_x.y'], reason: 'short' },
      { id: 'CKV_D', resources: ['aws_x.y'], reason: 'a reason that is long enough', scan: 'x' },
    ] as unknown as CheckovSkip[];
    const problems = skipProblems(skips).join('\n');
    expect(problems).toMatch(/CKV_A.*no resources/);
    expect(problems).toMatch(/CKV_B.*no resources/);
    expect(problems).toMatch(/CKV_C.*reason/);
    expect(problems).toMatch(/CKV_D.*scan/);
  });
});

describe('checkPlans (any plan JSON)', () => {
  const skipsFile = () => {
    const p = join(dir, 'skips.yaml');
    writeFileSync(
      p,
      'skips:\n  - id: CKV_AWS_1\n    resources: [aws_x.pmm_a]\n    reason: explained by a design decision\n',
    );
    return p;
  };
  const plan = () => {
    const p = join(dir, 'plan.json');
    writeFileSync(p, '{}');
    return p;
  };

  it('passes when every finding has a skip naming its resource', async () => {
    const checkov = fakeCheckov(
      'ok',
      report([{ id: 'CKV_AWS_1', resource: 'module.pmm.aws_x.pmm_a' }]),
    );
    const r = await checkPlans({ checkov, python: PYTHON }, [plan()], skipsFile());
    expect(r.ok).toBe(true);
    expect(r.lines[0]).toMatch(/3 passed, 0 failed, 1 skipped/);
  });

  it('fails on a finding of a skipped check on another resource (skips are per resource)', async () => {
    const checkov = fakeCheckov(
      'other',
      report([{ id: 'CKV_AWS_1', resource: 'module.pmm.aws_x.pmm_other' }]),
    );
    const r = await checkPlans({ checkov, python: PYTHON }, [plan()], skipsFile());
    expect(r.ok).toBe(false);
    expect(r.lines.join('\n')).toMatch(/CKV_AWS_1 .* @ module\.pmm\.aws_x\.pmm_other/);
  });

  it('fails, naming the file, when checkov prints no report or ran no check', async () => {
    const garbage = fakeCheckov('garbage', 'Traceback: something broke');
    const r1 = await checkPlans({ checkov: garbage, python: PYTHON }, [plan()], skipsFile());
    expect(r1.ok).toBe(false);
    expect(r1.lines[0]).toMatch(/plan\.json: NOT SCANNED: checkov printed no JSON report/);
    const empty = fakeCheckov('empty', report([], 0));
    const r2 = await checkPlans({ checkov: empty, python: PYTHON }, [plan()], skipsFile());
    expect(r2.ok).toBe(false);
    expect(r2.lines[0]).toMatch(/ran no check at all/);
  });

  it('refuses a skips file with a blanket skip before scanning anything', async () => {
    const p = join(dir, 'blanket.yaml');
    writeFileSync(p, 'skips:\n  - id: CKV_AWS_1\n    reason: explained by a design decision\n');
    const checkov = fakeCheckov('never', report([]));
    await expect(checkPlans({ checkov, python: PYTHON }, [plan()], p)).rejects.toThrow(
      /blanket skips are not allowed/,
    );
  });
});
