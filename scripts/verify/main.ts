/**
 * `npm run verify` (via scripts/verify/run.sh, which installs the Python tools first):
 * proves under real Terraform that what the project synthesizes validates, passes checkov,
 * plans, applies, re-plans clean and tears down against moto, and rejects bad input.
 * See docs/verify.md. Work files and per-command logs: .cache/verify/work/.
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
import { BAD_INPUTS, BadInputCase, badInputCases } from './bad-inputs';
import { runDay2Matrix } from './day2-matrix';
import { CheckovScan, CheckovSkip, CheckovSummary, classify, unusedSkips } from './lib/checkov';
import { EMULATOR_DRIFT, EMULATOR_GAPS, EMULATOR_INPUTS } from './emulator-gaps';
import { Moto, standInAmis, startMoto, stopMoto } from './lib/moto';
import { RunResult, killRunning, pool, run, tail } from './lib/proc';
import {
  emulatorProvider,
  hasProviderBlock,
  mirrorProviders,
  moduleBlocksWithSource,
  stripRandomFromHcl,
  terraformEnv,
  writeCliConfig,
} from './lib/terraform';
import {
  RandomSubstitution,
  TfJson,
  amiFilters,
  excludeWithDependents,
  preventDestroyResources,
  requiredVariables,
  substituteRandom,
} from './lib/tf-json';

const ROOT = resolve(__dirname, '..', '..');
const CACHE = join(ROOT, '.cache', 'verify');
const WORK = join(CACHE, 'work');
const LOGS = join(WORK, 'logs');
const MOTO_PY = join(CACHE, 'moto', 'bin', 'python');
const CHECKOV = join(CACHE, 'checkov', 'bin', 'checkov');
const CHECKOV_PY = join(CACHE, 'checkov', 'bin', 'python');
const SKIPS_FILE = join(ROOT, 'verify', 'checkov-skips.yaml');
const POOL_SIZE = 2;

type Status = 'ok' | 'FAIL' | 'not run';
interface Step {
  readonly name: string;
  status: Status;
  seconds: number;
  readonly lines: string[];
}

const steps: Step[] = [];
const substituted: string[] = [];
const unsupported: string[] = [];
const facts: Record<string, string> = {};
const started = Date.now();

function progress(msg: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[verify ${t}s] ${msg}`);
}

class StepFailure extends Error {}

/** Fails the current step with a readable message (and the log to read). */
function fail(msg: string, result?: RunResult, log?: string): never {
  const parts = [msg];
  if (result) parts.push(`--- last lines (exit ${result.code}) ---\n${tail(result.output)}`);
  if (log) parts.push(`full log: ${relative(ROOT, log)}`);
  throw new StepFailure(parts.join('\n'));
}

async function step(name: string, fn: (s: Step) => Promise<void>, ...needs: Step[]): Promise<Step> {
  const s: Step = { name, status: 'not run', seconds: 0, lines: [] };
  steps.push(s);
  const blocker = needs.find((n) => n.status !== 'ok');
  if (blocker) {
    s.lines.push(`not run: needs "${blocker.name}", which did not pass`);
    progress(`SKIP ${name} (needs ${blocker.name})`);
    return s;
  }
  progress(`==> ${name}`);
  const t0 = Date.now();
  try {
    await fn(s);
    s.status = 'ok';
  } catch (e) {
    s.status = 'FAIL';
    const msg = e instanceof StepFailure ? e.message : ((e as Error).stack ?? String(e));
    s.lines.push(`FAILED: ${msg}`);
    console.log(`\n!!! ${name} FAILED:\n${msg}\n`);
  }
  s.seconds = (Date.now() - t0) / 1000;
  progress(`<== ${name}: ${s.status} (${s.seconds.toFixed(1)}s)`);
  return s;
}

const readJson = (p: string): TfJson => JSON.parse(readFileSync(p, 'utf8'));
const writeJson = (p: string, v: unknown) => writeFileSync(p, JSON.stringify(v, null, 2) + '\n');

// ---------------------------------------------------------------------------------------
// Terraform
// ---------------------------------------------------------------------------------------
const cliConfig = join(WORK, 'terraform.rc');
let motoUrl: string | undefined;

function tf(dir: string, args: string[], logName: string): Promise<RunResult> {
  return run('terraform', [...args], {
    cwd: dir,
    env: terraformEnv(cliConfig, motoUrl),
    log: join(LOGS, `${logName}.log`),
    timeoutSeconds: 1200,
  });
}

async function tfOk(
  dir: string,
  args: string[],
  logName: string,
  what: string,
): Promise<RunResult> {
  const r = await tf(dir, args, logName);
  if (r.code !== 0)
    fail(`${what} failed in ${relative(ROOT, dir)}`, r, join(LOGS, `${logName}.log`));
  return r;
}

async function validateDir(dir: string, label: string, s: Step): Promise<void> {
  const log = `validate-${label}`;
  await tfOk(dir, ['init', '-backend=false', '-input=false', '-no-color'], log, 'terraform init');
  const r = await tf(dir, ['validate', '-json', '-no-color'], log);
  let out: TfJson;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    fail(`terraform validate printed no JSON for ${label}`, r, join(LOGS, `${log}.log`));
  }
  const diags = (out.diagnostics ?? []) as TfJson[];
  const fmt = (d: TfJson) =>
    `${d.severity}: ${d.summary}${d.detail ? ` - ${d.detail}` : ''}${d.range ? ` (${d.range.filename}:${d.range.start?.line})` : ''}`;
  if (!out.valid || r.code !== 0) {
    fail(
      `terraform validate: ${label} is NOT valid:\n${diags.map(fmt).join('\n')}`,
      undefined,
      join(LOGS, `${log}.log`),
    );
  }
  s.lines.push(`${label}: valid (${out.warning_count ?? 0} warnings)`);
  for (const d of diags.filter((x) => x.severity === 'warning')) s.lines.push(`  ${fmt(d)}`);
}

// ---------------------------------------------------------------------------------------
// Inputs: synth, the packaged module, working copies
// ---------------------------------------------------------------------------------------
interface Prepared {
  moduleJson: TfJson; // the packaged module's main.tf.json as built
  moduleDir: string; // working copy (random substituted)
  exampleDir: string;
  rootDir: string;
  subs: RandomSubstitution[];
}

/** Writes the module folder with `npm run build:module`'s script (main.tf.json, assets/, examples/basic/). */
async function packageModule(out: string): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  const r = await run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/build-module.ts', out], {
    cwd: ROOT,
    log: join(LOGS, 'build-module.log'),
  });
  if (r.code !== 0) fail('npm run build:module failed', r, join(LOGS, 'build-module.log'));
}

async function prepare(s: Step): Promise<Prepared> {
  // The cdktf CLI, as `cdktf synth` / `cdktf deploy` users run it (cdktf.json's app command).
  const synth = await run(join(ROOT, 'node_modules', '.bin', 'cdktf'), ['synth'], {
    cwd: ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    log: join(LOGS, 'synth.log'),
  });
  if (synth.code !== 0) fail('npx cdktf synth failed', synth, join(LOGS, 'synth.log'));
  for (const stack of ['pmm', 'pmm-module']) {
    if (!existsSync(join(ROOT, 'cdktf.out', 'stacks', stack, 'cdk.tf.json')))
      fail(`npx cdktf synth wrote no cdktf.out/stacks/${stack}/cdk.tf.json`);
  }
  s.lines.push('synth: npx cdktf synth -> cdktf.out/stacks/pmm and cdktf.out/stacks/pmm-module');

  const pkg = join(WORK, 'package');
  await packageModule(pkg);
  s.lines.push('module folder: npm run build:module');
  const moduleJson = readJson(join(pkg, 'main.tf.json'));
  if (!existsSync(join(pkg, 'examples', 'basic'))) fail(`${pkg}/examples/basic is missing`);

  // Working copy of the module (random_* substituted when the provider is not available).
  const moduleDir = join(WORK, 'module');
  cpSync(pkg, moduleDir, { recursive: true });
  const randomAvailable = 'hashicorp/random' in mirrorProviders();
  let subs: RandomSubstitution[] = [];
  if (!randomAvailable) {
    const r = substituteRandom(moduleJson);
    subs = r.substitutions;
    writeJson(join(moduleDir, 'main.tf.json'), r.tf);
  }
  const exampleDir = join(moduleDir, 'examples', 'basic');
  if (!randomAvailable) {
    for (const f of readdirSync(exampleDir).filter((x) => x.endsWith('.tf'))) {
      const { text, changed } = stripRandomFromHcl(readFileSync(join(exampleDir, f), 'utf8'));
      if (changed) {
        writeFileSync(join(exampleDir, f), text);
        substituted.push(
          `examples/basic/${f}: hashicorp/random requirement removed in the verify copy`,
        );
      }
    }
  }

  // Root stack copy: aws pin -> the mirror's version, random substituted.
  const rootDir = join(WORK, 'root');
  cpSync(join(ROOT, 'cdktf.out', 'stacks', 'pmm'), rootDir, { recursive: true });
  let rootJson = readJson(join(rootDir, 'cdk.tf.json'));
  const awsPin = rootJson.terraform?.required_providers?.aws?.version;
  const mirrorAws = mirrorProviders()['hashicorp/aws'] ?? [];
  if (mirrorAws.length === 0) fail('no hashicorp/aws in /opt/tf-plugins');
  const lowest = mirrorAws[0];
  if (awsPin && !mirrorAws.includes(awsPin)) {
    rootJson.terraform.required_providers.aws.version = lowest;
    substituted.push(
      `root stack: hashicorp/aws pinned "${awsPin}" (cdktf bindings) -> "${lowest}" (the version on this machine) in the verify copy`,
    );
  }
  if (!randomAvailable) rootJson = substituteRandom(rootJson).tf;
  writeJson(join(rootDir, 'cdk.tf.json'), rootJson);

  if (!randomAvailable) {
    const list = subs.map(
      (x) => `${x.resource}.${x.attribute} -> var.${x.variable} (${x.type}, sensitive)`,
    );
    substituted.push(
      `hashicorp/random is not installable here (not in /opt/tf-plugins, not on PyPI/npm/Debian): ` +
        `module and root copies replace random_* by inputs of the same type: ${list.join('; ') || 'none present'}`,
    );
  } else {
    s.lines.push('hashicorp/random found in the mirror: no substitution');
  }
  return { moduleJson, moduleDir, exampleDir, rootDir, subs };
}

// ---------------------------------------------------------------------------------------
// Emulator apply cycle
// ---------------------------------------------------------------------------------------
interface Seed {
  vpc_id: string;
  public_subnet_ids: string[];
  private_subnet_ids: string[];
  zone_id: string;
  zone_name: string;
  asg_name: string;
  asg_security_group_id: string;
}

function requiredValues(seed: Seed): Record<string, unknown> {
  return {
    public_subnet_ids: seed.public_subnet_ids,
    private_subnet_ids: seed.private_subnet_ids,
    zone_id: seed.zone_id,
    environment: 'verify',
    alarm_emails: ['pmm-verify@example.com'],
  };
}

function resourceChanges(planJson: TfJson): { address: string; actions: string[]; type: string }[] {
  return ((planJson.resource_changes ?? []) as TfJson[])
    .filter((c) => c.mode === 'managed')
    .map((c) => ({ address: c.address, actions: c.change.actions, type: c.type }));
}

function countByType(items: { type: string }[]): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(i.type, (m.get(i.type) ?? 0) + 1);
  return [...m]
    .sort()
    .map(([t, n]) => `${t}${n > 1 ? ` x${n}` : ''}`)
    .join(', ');
}

/** What the day-2 matrix gets after the first apply; it returns the state to tear down. */
interface Applied {
  readonly dir: string;
  readonly moduleName: string;
  readonly planJson: string;
  readonly provider: Record<string, unknown>;
  readonly targets: string[];
  readonly excluded: string[];
}

async function emulatorCycle(
  p: Prepared,
  seed: Seed,
  s: Step,
  afterApply?: (a: Applied) => Promise<string | undefined>,
): Promise<string> {
  const dir = p.exampleDir;
  const hcl = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  const modules = moduleBlocksWithSource(hcl, '../..');
  if (modules.length === 0) fail(`examples/basic has no module block with source = "../.."`);
  const inputs = {
    ...requiredValues(seed),
    monitored_asgs: [
      { asg_name: seed.asg_name, username: 'pmm', security_group_id: seed.asg_security_group_id },
    ],
    ...Object.fromEntries(Object.entries(EMULATOR_INPUTS).map(([k, v]) => [k, v.value])),
  };
  for (const [k, v] of Object.entries(EMULATOR_INPUTS)) {
    unsupported.push(`${k} = ${JSON.stringify(v.value)} in the emulator run: ${v.reason}`);
  }
  const override: TfJson = { module: Object.fromEntries(modules.map((m) => [m, inputs])) };
  const provider = { aws: [emulatorProvider(motoUrl!)] };
  if (hasProviderBlock(hcl, 'aws')) override.provider = provider;
  else writeJson(join(dir, 'verify_provider.tf.json'), { provider });
  writeJson(join(dir, 'verify_override.tf.json'), override);
  // The example's own variables with the same names get the emulator's values too.
  const declared = [...hcl.matchAll(/variable\s+"([^"]+)"/g)].map((m) => m[1]);
  const tfvars = Object.fromEntries(
    Object.entries({ ...inputs, region: 'us-east-1' }).filter(([k]) => declared.includes(k)),
  );
  writeJson(join(dir, 'verify.auto.tfvars.json'), tfvars);
  s.lines.push(
    `caller: examples/basic (module ${modules.join(', ')}) with verify_override.tf.json -> moto; monitored_asgs = [${seed.asg_name}]`,
  );

  // Resource types the emulator cannot handle, and their dependents, are left out.
  const gaps = Object.keys(EMULATOR_GAPS).filter((t) => p.moduleJson.resource?.[t]);
  const { kept, excluded } = excludeWithDependents(p.moduleJson, gaps);
  const targets = excluded.length
    ? modules.flatMap((m) =>
        kept.filter((a) => !a.startsWith('random_')).map((a) => `-target=module.${m}.${a}`),
      )
    : [];
  for (const t of gaps) unsupported.push(`${t}: ${EMULATOR_GAPS[t]}`);
  if (excluded.length)
    unsupported.push(
      `left out of the apply with -target (type above or depends on it): ${excluded.join(', ')}`,
    );

  const log = 'emulator';
  await tfOk(dir, ['init', '-input=false', '-no-color'], log, 'terraform init');
  progress('  plan');
  await tfOk(
    dir,
    ['plan', '-input=false', '-no-color', '-out=tfplan', ...targets],
    log,
    'terraform plan',
  );
  const show = await tfOk(
    dir,
    ['show', '-json', 'tfplan'],
    'emulator-show',
    'terraform show -json',
  );
  const planJsonPath = join(dir, 'plan.json');
  writeFileSync(planJsonPath, show.stdout);
  const planned = resourceChanges(JSON.parse(show.stdout)).filter((c) =>
    c.actions.includes('create'),
  );
  s.lines.push(`planned: ${planned.length} to create (${countByType(planned)})`);
  facts.planned = String(planned.length);
  const reconciler = planned.filter((c) => c.type === 'aws_lambda_function');
  s.lines.push(
    reconciler.length
      ? `reconciler Lambda planned: ${reconciler.map((c) => c.address).join(', ')}`
      : 'note: no aws_lambda_function planned with monitored_asgs set (reconciler not in the module yet?)',
  );

  progress(`  apply (${planned.length} resources)`);
  await tfOk(
    dir,
    ['apply', '-input=false', '-no-color', '-auto-approve', 'tfplan'],
    log,
    'terraform apply',
  );
  const stateList = async () =>
    (await tfOk(dir, ['state', 'list'], log, 'terraform state list')).stdout
      .split('\n')
      .filter((l) => l && !/(^|\.)data\./.test(l));
  const applied = await stateList();
  s.lines.push(`applied: ${applied.length} resources in state`);
  facts.applied = String(applied.length);

  progress('  re-plan (expect no changes)');
  const replan = await tf(
    dir,
    ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=replan', ...targets],
    log,
  );
  if (replan.code === 2) {
    const j = JSON.parse(
      (await tfOk(dir, ['show', '-json', 'replan'], 'emulator-show', 'show')).stdout,
    );
    const drift = ((j.resource_changes ?? []) as TfJson[])
      .filter((c) => !c.change.actions.every((a: string) => a === 'no-op' || a === 'read'))
      .map((c) => {
        const before = c.change.before ?? {};
        const after = c.change.after ?? {};
        const keys = Object.keys({ ...before, ...after }).filter(
          (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
        );
        const known = EMULATOR_DRIFT[c.type];
        const emulatorOnly =
          c.change.actions.join() === 'update' &&
          known !== undefined &&
          (known.appliesTo?.(after) ?? true) &&
          keys.every((k) => known.attributes.includes(k));
        return {
          text: `${c.address}: ${c.change.actions.join('+')} [${keys.join(', ')}]`,
          emulatorOnly,
          type: c.type,
        };
      });
    const real = drift.filter((d) => !d.emulatorOnly);
    if (real.length) {
      fail(
        `second plan is not empty (perpetual diff):\n${real.map((d) => `  ${d.text}`).join('\n')}`,
        undefined,
        join(LOGS, `${log}.log`),
      );
    }
    for (const d of drift)
      unsupported.push(
        `re-plan diff accepted as emulator drift: ${d.text} (${EMULATOR_DRIFT[d.type].reason})`,
      );
    s.lines.push(
      `re-plan: no changes except ${drift.length} known emulator drift(s) (listed below)`,
    );
  } else if (replan.code !== 0) {
    fail('second plan failed', replan, join(LOGS, `${log}.log`));
  } else {
    s.lines.push('re-plan: no changes (-detailed-exitcode 0)');
  }

  if (afterApply) {
    const state = await afterApply({
      dir,
      moduleName: modules[0],
      planJson: planJsonPath,
      provider: provider.aws[0],
      targets,
      excluded,
    });
    // The teardown continues from what the day-2 matrix applied.
    if (state) cpSync(state, join(dir, 'terraform.tfstate'));
    applied.splice(0, applied.length, ...(await stateList()));
  }

  progress('  teardown: destroy must stop at prevent_destroy');
  const protectedRes = preventDestroyResources(p.moduleJson).flatMap((a) =>
    modules.map((m) => `module.${m}.${a}`),
  );
  if (protectedRes.length === 0)
    fail(
      'the module has no resource with lifecycle.prevent_destroy = true (the data volume must have it)',
    );
  const blocked = await tf(
    dir,
    ['destroy', '-input=false', '-no-color', '-auto-approve', ...targets],
    log,
  );
  const flat = blocked.output.replace(/\s+/g, ' ');
  if (
    blocked.code === 0 ||
    !/Instance cannot be destroyed/.test(flat) ||
    !protectedRes.every((a) => flat.includes(a))
  ) {
    fail(
      `terraform destroy was NOT stopped by prevent_destroy on ${protectedRes.join(', ')}`,
      blocked,
      join(LOGS, `${log}.log`),
    );
  }
  const after = await stateList();
  if (after.length !== applied.length)
    fail(`the refused destroy still removed ${applied.length - after.length} resources`);
  s.lines.push(
    `prevent_destroy: destroy refused for ${protectedRes.join(', ')}; nothing destroyed`,
  );

  for (const a of protectedRes) await tfOk(dir, ['state', 'rm', a], log, `terraform state rm ${a}`);
  progress('  destroy the rest');
  await tfOk(
    dir,
    ['destroy', '-input=false', '-no-color', '-auto-approve', ...targets],
    log,
    'terraform destroy',
  );
  const left = await stateList();
  if (left.length) fail(`resources left in state after destroy: ${left.join(', ')}`);
  s.lines.push(
    `teardown: state rm ${protectedRes.length} protected volume(s), destroyed ${applied.length - protectedRes.length} others, state empty`,
  );
  return planJsonPath;
}

// ---------------------------------------------------------------------------------------
// Bad inputs
// ---------------------------------------------------------------------------------------
const badInputTally = { tried: 0, rejected: 0 };

/** Error diagnostics from `terraform ... -json` output. */
function errorDiagnostics(stdout: string): TfJson[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as TfJson;
      } catch {
        return {};
      }
    })
    .filter((j) => j.type === 'diagnostic' && j.diagnostic?.severity === 'error')
    .map((j) => j.diagnostic as TfJson);
}

async function badInputs(p: Prepared, seed: Seed, s: Step): Promise<void> {
  const { cases, problems } = badInputCases(p.moduleJson, BAD_INPUTS);
  if (problems.length) fail(`the bad-input table is incomplete:\n${problems.join('\n')}`);
  const missingRequired = requiredVariables(p.moduleJson).filter(
    (v) => !(v in requiredValues(seed)),
  );
  if (missingRequired.length) {
    fail(
      `the module has required variables the pipeline gives no value: ${missingRequired.join(', ')} (add them to requiredValues in scripts/verify/main.ts)`,
    );
  }
  const dir = join(WORK, 'inputs');
  mkdirSync(dir, { recursive: true });
  cpSync(join(p.moduleDir, 'main.tf.json'), join(dir, 'main.tf.json'));
  if (existsSync(join(p.moduleDir, 'assets')))
    cpSync(join(p.moduleDir, 'assets'), join(dir, 'assets'), { recursive: true });
  writeJson(join(dir, 'verify_provider.tf.json'), {
    provider: { aws: [emulatorProvider(motoUrl!)] },
  });
  await tfOk(dir, ['init', '-input=false', '-no-color'], 'inputs', 'terraform init');

  const planWith = async (values: Record<string, unknown>, name: string) => {
    const file = join(dir, `${name}.tfvars.json`);
    writeJson(file, values);
    return tf(
      dir,
      [
        'plan',
        '-input=false',
        '-lock=false',
        '-refresh=false',
        '-no-color',
        '-json',
        `-var-file=${file}`,
      ],
      `inputs-${name}`,
    );
  };
  const good = await planWith(requiredValues(seed), 'defaults-and-required');
  if (good.code !== 0)
    fail(
      'plan with the defaults and the required values failed',
      good,
      join(LOGS, 'inputs-defaults-and-required.log'),
    );
  s.lines.push('defaults + required values: plan succeeds');

  // Variable validations are independent, so one plan can check one bad value for each of
  // many variables: cases are batched (at most one per variable), and any case a batch did
  // not confirm is re-run alone before it counts as not rejected.
  const batches: BadInputCase[][] = [];
  for (const c of cases) {
    let b = batches.find((x) => !x.some((y) => y.variable === c.variable));
    if (!b) batches.push((b = []));
    b.push(c);
  }
  const rejectedBy = (c: BadInputCase, diags: TfJson[]) =>
    diags.some(
      (d) =>
        String(d.detail ?? '').includes(c.expectedMessage) &&
        (!d.snippet?.values?.length ||
          (d.snippet.values as TfJson[]).some((v) => v.traversal === `var.${c.variable}`)),
    );
  const planCases = async (batch: BadInputCase[], name: string) => {
    const values = {
      ...requiredValues(seed),
      ...Object.fromEntries(batch.map((c) => [c.variable, c.value])),
    };
    const r = await planWith(values, name);
    return { code: r.code, diags: errorDiagnostics(r.stdout) };
  };
  const confirmed = new Set<BadInputCase>();
  await pool(batches, POOL_SIZE, async (batch, i) => {
    const r = await planCases(batch, `batch-${i}`);
    for (const c of batch) if (r.code !== 0 && rejectedBy(c, r.diags)) confirmed.add(c);
    progress(
      `  batch ${i + 1}/${batches.length}: ${batch.filter((c) => confirmed.has(c)).length}/${batch.length} rejected with their own message`,
    );
  });
  const results = await pool(cases, POOL_SIZE, async (c, i) => {
    if (confirmed.has(c)) return { c, ok: true, diags: [] as string[], code: 1 };
    const r = await planCases([c], `single-${i}-${c.variable}`);
    const ok = r.code !== 0 && rejectedBy(c, r.diags);
    progress(
      `  alone: ${c.variable}#${c.rule} = ${JSON.stringify(c.value).slice(0, 70)}: ${ok ? 'rejected' : 'NOT REJECTED'}`,
    );
    return { c, ok, code: r.code, diags: r.diags.map((d) => `${d.summary}: ${d.detail ?? ''}`) };
  });
  badInputTally.tried = results.length;
  badInputTally.rejected = results.filter((r) => r.ok).length;
  const bad = results.filter((r) => !r.ok);
  s.lines.push(
    `bad inputs: ${badInputTally.tried} tried, ${badInputTally.rejected} rejected with their own message (${new Set(cases.map((c) => c.variable)).size} validated variables)`,
  );
  if (bad.length) {
    fail(
      `bad inputs not rejected with the expected message:\n` +
        bad
          .map(
            (b) =>
              `  ${b.c.variable} = ${JSON.stringify(b.c.value)}: exit ${b.code}; expected "${b.c.expectedMessage}"; got: ${b.diags.join(' | ') || '(no error)'}`,
          )
          .join('\n'),
    );
  }
}

// ---------------------------------------------------------------------------------------
// checkov
// ---------------------------------------------------------------------------------------
function loadSkips(): Promise<CheckovSkip[]> {
  return run(CHECKOV_PY, [
    '-c',
    'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])) or {}))',
    SKIPS_FILE,
  ]).then((r) => {
    if (r.code !== 0) fail(`cannot read ${relative(ROOT, SKIPS_FILE)}`, r);
    const doc = JSON.parse(r.stdout) as { skips?: CheckovSkip[] };
    const skips = doc.skips ?? [];
    const bad = skips.filter(
      (x) =>
        !x.id ||
        !x.reason ||
        x.reason.trim().length < 20 ||
        (x.scan !== undefined && x.scan !== 'synth' && x.scan !== 'plan'),
    );
    if (bad.length)
      fail(
        `${relative(ROOT, SKIPS_FILE)}: every skip needs an id, a reason (>= 20 chars) and, if any, scan: synth or plan: ${bad.map((b) => b.id).join(', ')}`,
      );
    return skips;
  });
}

/**
 * Copies both synthesized stacks for checkov. checkov 3.3.30's terraform_json parser throws
 * on a string directly under `terraform` (`required_version`), so the copy drops that one
 * key, which no check reads.
 */
function checkovCopyOfSynth(): string {
  const out = join(WORK, 'checkov-synth');
  for (const stack of readdirSync(join(ROOT, 'cdktf.out', 'stacks'))) {
    const src = join(ROOT, 'cdktf.out', 'stacks', stack, 'cdk.tf.json');
    if (!existsSync(src)) continue;
    const j = readJson(src);
    if (typeof j.terraform?.required_version === 'string') {
      delete j.terraform.required_version;
      substituted.push(
        `checkov: terraform.required_version dropped from the scanned copy of ${stack}/cdk.tf.json (checkov's terraform_json parser cannot read it)`,
      );
    }
    if (Array.isArray(j.moved)) {
      delete j.moved;
      substituted.push(
        `checkov: the moved blocks dropped from the scanned copy of ${stack}/cdk.tf.json (checkov's terraform_json parser fails on a top-level list; moved blocks create nothing)`,
      );
    }
    mkdirSync(join(out, stack), { recursive: true });
    writeJson(join(out, stack, 'cdk.tf.json'), j);
  }
  return out;
}

async function checkov(
  args: string[],
  label: CheckovScan,
  skips: CheckovSkip[],
): Promise<CheckovSummary> {
  const r = await run(
    CHECKOV,
    [...args, '-o', 'json', '--compact', '--skip-download', '--soft-fail'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ANSI_COLORS_DISABLED: '1',
        LOG_LEVEL: 'WARNING',
        BC_SKIP_MAPPING: 'TRUE',
      },
      log: join(LOGS, `checkov-${label}.log`),
      timeoutSeconds: 900,
    },
  );
  let report: unknown;
  try {
    report = JSON.parse(r.stdout.slice(r.stdout.search(/[[{]/)));
  } catch {
    fail(`checkov (${label}) printed no JSON report`, r, join(LOGS, `checkov-${label}.log`));
  }
  const sum = classify(report, skips, label);
  if (sum.passed + sum.failed.length + sum.skipped.length === 0) {
    fail(
      `checkov (${label}) ran no check at all (wrong framework or path?)`,
      r,
      join(LOGS, `checkov-${label}.log`),
    );
  }
  return sum;
}

// ---------------------------------------------------------------------------------------
async function main(): Promise<number> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(LOGS, { recursive: true });
  writeCliConfig(cliConfig);
  const onSignal = () => {
    killRunning();
    stopMoto();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', stopMoto);

  const tfVersion = (await run('terraform', ['version', '-json'], { env: terraformEnv(cliConfig) }))
    .stdout;
  facts.terraform = JSON.parse(tfVersion).terraform_version;
  facts.providers = Object.entries(mirrorProviders())
    .map(([k, v]) => `${k} ${v.join('/')}`)
    .join(', ');
  facts.moto = (await run(MOTO_PY, ['-c', 'import moto; print(moto.__version__)'])).stdout.trim();
  facts.checkov = (await run(CHECKOV, ['--version'])).stdout.trim();
  progress(
    `terraform ${facts.terraform}; mirror: ${facts.providers}; moto ${facts.moto}; checkov ${facts.checkov}`,
  );

  let prepared: Prepared | undefined;
  const prep = await step('0. synth + module folder', async (s) => {
    prepared = await prepare(s);
  });

  const validate = await step(
    '1. validate',
    async (s) => {
      const p = prepared!;
      const results = await Promise.allSettled([
        validateDir(p.rootDir, 'root stack (cdktf.out/stacks/pmm)', s),
        validateDir(p.moduleDir, 'module folder', s),
      ]);
      // The example initialises the module from ../..: after the module's own init.
      results.push(
        ...(await Promise.allSettled([
          validateDir(p.exampleDir, 'examples/basic (module from ../..)', s),
        ])),
      );
      const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (errors.length) fail(errors.map((e) => (e.reason as Error).message).join('\n\n'));
    },
    prep,
  );

  let moto: Moto | undefined;
  let seed: Seed | undefined;
  const emu = await step(
    '3a. moto up + seed',
    async (s) => {
      const amis = standInAmis(amiFilters(prepared!.moduleJson));
      moto = await startMoto(MOTO_PY, __dirname, WORK, amis);
      writeFileSync(join(WORK, 'moto.pid'), String(moto.pid));
      motoUrl = moto.url;
      const r = await run(MOTO_PY, [join(__dirname, 'seed_moto.py'), moto.url], {
        log: join(LOGS, 'seed.log'),
      });
      if (r.code !== 0) fail('seeding moto failed', r, join(LOGS, 'seed.log'));
      seed = JSON.parse(r.stdout.trim().split('\n').pop()!) as Seed;
      s.lines.push(
        `moto ${moto.url} (pid ${moto.pid}); seeded VPC ${seed.vpc_id}, subnets in 2 AZs, zone ${seed.zone_id}, ASG ${seed.asg_name}`,
      );
      for (const a of amis as { name: string; owner_id: string }[]) {
        substituted.push(
          `moto image catalog: stand-in AMI "${a.name}" owned by ${a.owner_id} (moto's fixed list has no image matching the module's AMI filter)`,
        );
      }
    },
    validate,
  );

  // The apply cycle mostly waits on the provider's polling; the bad-input plans (CPU) run
  // meanwhile against the same emulator (they only read the seeded data sources).
  let planJson: string | undefined;
  let day2Plans: string[] = [];
  const day2 = (a: Applied) => {
    let state: string | undefined;
    return step('5. day-2 matrix (moto)', async (s) => {
      const r = await runDay2Matrix({
        exampleDir: a.dir,
        moduleName: a.moduleName,
        moduleDir: prepared!.moduleDir,
        firstPlanJson: a.planJson,
        provider: a.provider,
        targets: a.targets,
        excluded: a.excluded,
        privateSubnetIds: seed!.private_subnet_ids,
        motoUrl: motoUrl!,
        motoPython: MOTO_PY,
        tf,
        progress,
        poolSize: POOL_SIZE,
      });
      state = r.statePath;
      day2Plans = r.planFiles;
      s.lines.push(...r.lines);
      if (r.failures.length) fail(`day-2 rows that do not hold:\n  ${r.failures.join('\n  ')}`);
    }).then(() => state);
  };
  const [apply] = await Promise.all([
    step(
      '3. plan + apply + re-plan + teardown (moto)',
      async (s) => {
        planJson = await emulatorCycle(prepared!, seed!, s, day2);
      },
      emu,
    ),
    step('4. bad inputs', async (s) => badInputs(prepared!, seed!, s), emu),
  ]);
  if (moto) {
    stopMoto();
    rmSync(join(WORK, 'moto.pid'), { force: true });
    progress(`moto stopped (pid ${moto.pid})`);
  }

  const checkovSummaries: CheckovSummary[] = [];
  const scan = await step(
    '2. checkov',
    async (s) => {
      const skips = await loadSkips();
      const synthDir = checkovCopyOfSynth();
      const problems: string[] = [];
      const targets: [string, string[]][] = [
        [
          'synthesized JSON (cdktf.out/stacks/*/cdk.tf.json)',
          ['--framework', 'terraform_json', '-d', synthDir],
        ],
      ];
      if (planJson)
        targets.push(['plan JSON (step 3)', ['--framework', 'terraform_plan', '-f', planJson]]);
      else s.lines.push('plan JSON: not scanned (step 3 produced no plan)');
      if (day2Plans.length)
        targets.push([
          `day-2 matrix plans (step 5, ${day2Plans.length})`,
          ['--framework', 'terraform_plan', '-f', ...day2Plans],
        ]);
      else problems.push('  the day-2 matrix produced no plan to scan');
      for (const [label, args] of targets) {
        progress(`  checkov: ${label}`);
        const sum = await checkov(args, label.startsWith('synth') ? 'synth' : 'plan', skips);
        checkovSummaries.push(sum);
        s.lines.push(
          `${label}: ${sum.passed} passed, ${sum.failed.length} failed, ${sum.skipped.length} skipped (reasons in verify/checkov-skips.yaml)`,
        );
        for (const f of sum.failed)
          problems.push(`  ${f.checkId} ${f.checkName} @ ${f.resource} (${f.file})`);
        if (sum.parsingErrors.length)
          problems.push(`  parsing errors: ${sum.parsingErrors.join(', ')}`);
      }
      // A skip that matches nothing hides nothing today but would silently hide a future
      // finding of that check: remove it from verify/checkov-skips.yaml.
      for (const u of unusedSkips(skips, checkovSummaries))
        problems.push(`  stale skip ${u.id}: matched no finding; remove it from the skip file`);
      if (!planJson) problems.push('  the plan JSON from step 3 was not scanned');
      if (problems.length)
        fail(`checkov findings not in verify/checkov-skips.yaml:\n${problems.join('\n')}`);
    },
    prep,
  );

  if (!planJson && apply.status !== 'ok') scan.status = scan.status === 'ok' ? 'FAIL' : scan.status;

  // ---- summary ----
  const total = (Date.now() - started) / 1000;
  const order = ['0', '1', '2', '3a', '3', '5', '4'];
  const sorted = [...steps].sort(
    (a, b) => order.indexOf(a.name.split('.')[0]) - order.indexOf(b.name.split('.')[0]),
  );
  const out: string[] = ['', '================ verify summary ================'];
  out.push(
    `tools: terraform ${facts.terraform}; providers (mirror): ${facts.providers}; moto ${facts.moto}; checkov ${facts.checkov}`,
  );
  for (const s of sorted) {
    out.push(`[${s.status.padEnd(7)}] ${s.name}  (${s.seconds.toFixed(1)}s)`);
    for (const l of s.lines) out.push(`           ${l.replace(/\n/g, '\n           ')}`);
  }
  out.push(`resources: planned ${facts.planned ?? '-'}, applied ${facts.applied ?? '-'}`);
  const cs = checkovSummaries.reduce(
    (a, s) => ({ p: a.p + s.passed, f: a.f + s.failed.length, k: a.k + s.skipped.length }),
    { p: 0, f: 0, k: 0 },
  );
  out.push(`checkov: ${cs.p} passed, ${cs.f} failed, ${cs.k} skipped`);
  out.push(`bad inputs: ${badInputTally.tried} tried, ${badInputTally.rejected} rejected`);
  out.push('substituted:');
  for (const l of substituted.length ? substituted : ['nothing']) out.push(`  - ${l}`);
  out.push('not supported by the emulator:');
  for (const l of unsupported.length ? unsupported : ['nothing left out']) out.push(`  - ${l}`);
  const failed = steps.filter((s) => s.status !== 'ok');
  out.push(`wall time: ${total.toFixed(1)}s; logs: ${relative(ROOT, LOGS)}/`);
  out.push(
    failed.length
      ? `RESULT: FAILED (${failed.map((s) => s.name).join('; ')})`
      : 'RESULT: all steps passed',
  );
  // The closing count CI reads: verify's steps.
  out.push(`verify: ${steps.length - failed.length} passed, ${failed.length} failed`);
  console.log(out.join('\n'));
  writeFileSync(join(WORK, 'summary.txt'), out.join('\n') + '\n');
  return failed.length ? 1 : 0;
}

main().then(
  (code) => {
    stopMoto();
    process.exit(code);
  },
  (e) => {
    stopMoto();
    console.error(e);
    process.exit(1);
  },
);
