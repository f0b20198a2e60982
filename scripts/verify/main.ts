/**
 * `npm run verify` (via scripts/verify/run.sh, which installs the Python tools first):
 * proves under real Terraform that what the project synthesizes validates, passes checkov,
 * plans, applies, re-plans clean and tears down against moto, and passes the module's own
 * `terraform test` (plan-time switches; every bad input rejected).
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
import { readModuleFolder } from '../build-module';
import {
  CheckovError,
  CheckovScan,
  CheckovSkip,
  CheckovSummary,
  CheckovTools,
  findingLines,
  loadSkipsFile,
  runCheckov,
  unusedSkips,
} from './lib/checkov';
import { EMULATOR_COVERAGE_INPUTS } from './emulator-coverage';
import { runDay2Matrix } from './day2-matrix';
import { EMULATOR_DRIFT, EMULATOR_GAPS, EMULATOR_INPUTS } from './emulator-gaps';
import { Moto, standInAmis, startMoto, stopMoto } from './lib/moto';
import { READ_SECRET_PY, documentsContaining } from './lib/secret-canary';
import { runModuleTests } from './module-tests';
import { RunResult, killRunning, run, tail } from './lib/proc';
import {
  emulatorProvider,
  hasProviderBlock,
  mirrorProviders,
  moduleBlocksWithSource,
  terraformEnv,
  writeCliConfig,
} from './lib/terraform';
import { TfJson, amiFilters, excludeWithDependents, preventDestroyResources } from './lib/tf-json';

const ROOT = resolve(__dirname, '..', '..');
/** Day-2 matrix plans run at once (2 cores). */
const POOL_SIZE = 2;
const CACHE = join(ROOT, '.cache', 'verify');
const WORK = join(CACHE, 'work');
const LOGS = join(WORK, 'logs');
const MOTO_PY = join(CACHE, 'moto', 'bin', 'python');
const CHECKOV = join(CACHE, 'checkov', 'bin', 'checkov');
const CHECKOV_PY = join(CACHE, 'checkov', 'bin', 'python');
const SKIPS_FILE = join(ROOT, 'verify', 'checkov-skips.yaml');

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
/** Plan JSON files (`terraform show -json`) the checkov step scans. */
const planJsons: { label: string; path: string }[] = [];
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

/**
 * The module folder as a root module: a copy with a `provider "aws" { alias = "dns" }` block.
 * The module declares `aws.dns` in `configuration_aliases` (its callers pass it, as the
 * examples do), and Terraform 1.11's `validate` of such a module on its own fails with
 * "Provider configuration not present" for every resource using the alias.
 */
function standAloneModuleCopy(moduleDir: string): string {
  const dir = join(WORK, 'module-validate');
  rmSync(dir, { recursive: true, force: true });
  cpSync(moduleDir, dir, {
    recursive: true,
    filter: (src) => !src.includes(`${moduleDir}/.terraform`),
  });
  writeFileSync(
    join(dir, 'verify_dns_provider.tf.json'),
    JSON.stringify({ provider: { aws: [{ alias: 'dns' }] } }, null, 2),
  );
  return dir;
}

// ---------------------------------------------------------------------------------------
// Inputs: synth, the packaged module, working copies
// ---------------------------------------------------------------------------------------
interface Prepared {
  moduleJson: TfJson; // the packaged module's *.tf.json as built, merged
  moduleDir: string; // working copy
  exampleDir: string;
  completeExampleDir: string;
  rootDir: string;
}

/** Writes the module folder with `npm run build:module`'s script (*.tf.json, assets/, examples/, tests/). */
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
  const moduleJson = readModuleFolder(pkg);
  if (!existsSync(join(pkg, 'examples', 'basic'))) fail(`${pkg}/examples/basic is missing`);

  // Working copy of the module (the emulator run adds its override files there).
  const moduleDir = join(WORK, 'module');
  cpSync(pkg, moduleDir, { recursive: true });
  const exampleDir = join(moduleDir, 'examples', 'basic');
  const completeExampleDir = join(moduleDir, 'examples', 'complete');

  // Root stack copy: aws pin -> the mirror's version.
  const rootDir = join(WORK, 'root');
  cpSync(join(ROOT, 'cdktf.out', 'stacks', 'pmm'), rootDir, { recursive: true });
  const rootJson = readJson(join(rootDir, 'cdk.tf.json'));
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
  writeJson(join(rootDir, 'cdk.tf.json'), rootJson);
  return { moduleJson, moduleDir, exampleDir, completeExampleDir, rootDir };
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

/**
 * Issue 13: the admin password is in neither the plan nor the state. Reads the value moto
 * holds (the secret's ARN from the example's output) and searches plan JSON, state JSON and
 * the raw state for it.
 */
async function adminPasswordCanary(
  dir: string,
  planJsonPath: string,
  log: string,
): Promise<string> {
  const arn = JSON.parse(
    (await tfOk(dir, ['output', '-json', 'admin_password_secret_arn'], log, 'terraform output'))
      .stdout,
  ) as string;
  const read = await run(MOTO_PY, ['-c', READ_SECRET_PY, motoUrl!, arn]);
  if (read.code !== 0) fail(`reading the admin secret back from moto failed: ${tail(read.stderr)}`);
  const docs = [
    { name: 'terraform show -json tfplan', text: readFileSync(planJsonPath, 'utf8') },
    {
      name: 'terraform show -json (state)',
      text: (await tfOk(dir, ['show', '-json'], 'emulator-show', 'terraform show -json')).stdout,
    },
    {
      name: 'terraform state pull',
      text: (await tfOk(dir, ['state', 'pull'], 'emulator-show', 'terraform state pull')).stdout,
    },
  ];
  const leaks = documentsContaining(read.stdout, docs);
  if (leaks.length) fail(`the admin password is stored in: ${leaks.join(', ')}`);
  return `admin password (${read.stdout.length} characters, read back from moto): in none of ${docs.map((d) => d.name).join(', ')}`;
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
): Promise<void> {
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
    ...Object.fromEntries(Object.entries(EMULATOR_COVERAGE_INPUTS).map(([k, v]) => [k, v.value])),
    ...Object.fromEntries(Object.entries(EMULATOR_INPUTS).map(([k, v]) => [k, v.value])),
  };
  for (const [k, v] of Object.entries(EMULATOR_COVERAGE_INPUTS)) {
    s.lines.push(`coverage input ${k} = ${JSON.stringify(v.value)}: ${v.exercises}`);
  }
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
    ? modules.flatMap((m) => kept.map((a) => `-target=module.${m}.${a}`))
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
  planJsons.push({ label: 'plan JSON', path: planJsonPath });
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
  s.lines.push(await adminPasswordCanary(dir, planJsonPath, log));

  progress('  re-plan (expect no changes)');
  const replan = await tf(
    dir,
    ['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=replan', ...targets],
    log,
  );
  if (replan.code === 0 || replan.code === 2) {
    const replanJsonPath = join(dir, 'replan.json');
    writeFileSync(
      replanJsonPath,
      (await tfOk(dir, ['show', '-json', 'replan'], 'emulator-show', 'show')).stdout,
    );
    planJsons.push({ label: 're-plan JSON', path: replanJsonPath });
  }
  if (replan.code === 2) {
    const j = JSON.parse(readFileSync(join(dir, 'replan.json'), 'utf8'));
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
}

// ---------------------------------------------------------------------------------------
// terraform test (the module's tests/ folder; bad inputs are generated into it)
// ---------------------------------------------------------------------------------------
const moduleTestTally = { passed: 0, failed: 0 };

async function moduleTests(p: Prepared, s: Step): Promise<void> {
  const dir = join(WORK, 'module-tests');
  rmSync(dir, { recursive: true, force: true });
  const { result, output } = await runModuleTests(p.moduleDir, dir, (d, args) =>
    run('terraform', args, {
      cwd: d,
      env: terraformEnv(cliConfig), // mocked provider: no emulator, no credentials
      log: join(LOGS, 'module-tests.log'),
      timeoutSeconds: 1200,
    }),
  );
  for (const l of result.substituted)
    substituted.push(`terraform test copy: ${l}: mock providers serve no ephemeral resources`);
  moduleTestTally.passed = result.passed;
  moduleTestTally.failed = result.failed;
  s.lines.push(
    `terraform test (mock_provider "aws"): ${result.passed} passed, ${result.failed} failed; ` +
      result.files.map((f) => `${f.file} ${f.runs} runs`).join(', '),
  );
  if (output.code !== 0 || result.failed > 0 || result.passed === 0)
    fail('terraform test failed', output, join(LOGS, 'module-tests.log'));
}

// ---------------------------------------------------------------------------------------
// checkov
// ---------------------------------------------------------------------------------------
const CHECKOV_TOOLS: CheckovTools = { checkov: CHECKOV, python: CHECKOV_PY };

async function loadSkips(): Promise<CheckovSkip[]> {
  try {
    return await loadSkipsFile(CHECKOV_TOOLS, SKIPS_FILE);
  } catch (e) {
    if (e instanceof CheckovError) fail(e.message);
    throw e;
  }
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
  try {
    return await runCheckov(CHECKOV_TOOLS, args, label, skips, {
      cwd: ROOT,
      log: join(LOGS, `checkov-${label}.log`),
    });
  } catch (e) {
    if (e instanceof CheckovError) fail(`checkov (${label}): ${e.message}`);
    throw e;
  }
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
        validateDir(standAloneModuleCopy(p.moduleDir), 'module folder', s),
      ]);
      // The example initialises the module from ../..: after the module's own init.
      results.push(
        ...(await Promise.allSettled([
          validateDir(p.exampleDir, 'examples/basic (module from ../..)', s),
          validateDir(p.completeExampleDir, 'examples/complete (module from ../..)', s),
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
      substituted.push(
        'moto serializer: empty network-interface <association/> elements dropped (moto 5.2.5 returns one for every instance interface, which the provider reads as a public IP; scripts/verify/moto_server.py)',
      );
      for (const a of amis as { name: string; owner_id: string }[]) {
        substituted.push(
          `moto image catalog: stand-in AMI "${a.name}" owned by ${a.owner_id} (moto's fixed list has no image matching the module's AMI filter)`,
        );
      }
    },
    validate,
  );

  // The apply cycle mostly waits on the provider's polling; the module's terraform test
  // (CPU; mocked provider, no emulator) runs meanwhile.
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
        await emulatorCycle(prepared!, seed!, s, day2);
      },
      emu,
    ),
    step('4. terraform test (module tests/)', async (s) => moduleTests(prepared!, s), validate),
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
      // Every plan JSON step 3 wrote: the first plan, and the re-plan after the apply (a
      // later plan sees the applied state: public IP, egress, ...), and the day-2 matrix's plans.
      for (const p of planJsons)
        targets.push([`${p.label} (step 3)`, ['--framework', 'terraform_plan', '-f', p.path]]);
      if (planJsons.length === 0) s.lines.push('plan JSON: not scanned (step 3 produced no plan)');
      if (day2Plans.length)
        targets.push([
          `day-2 matrix plans (step 5, ${day2Plans.length})`,
          ['--framework', 'terraform_plan', '-f', ...day2Plans],
        ]);
      else problems.push('  the day-2 matrix produced no plan to scan');
      for (const [label, args] of targets) {
        progress(`  checkov: ${label}`);
        const scanKind: CheckovScan = args.includes('terraform_plan') ? 'plan' : 'synth';
        const sum = await checkov(args, scanKind, skips);
        checkovSummaries.push(sum);
        s.lines.push(
          `${label}: ${sum.passed} passed, ${sum.failed.length} failed, ${sum.skipped.length} skipped (reasons in verify/checkov-skips.yaml)`,
        );
        problems.push(...findingLines(sum).map((l) => `${l} [${label}]`));
      }
      // A skip that matches nothing hides nothing today but would silently hide a future
      // finding of that check: remove it from verify/checkov-skips.yaml.
      for (const u of unusedSkips(skips, checkovSummaries))
        problems.push(`  stale skip ${u.id}: matched no finding; remove it from the skip file`);
      if (planJsons.length === 0) problems.push('  the plan JSON from step 3 was not scanned');
      if (problems.length)
        fail(`checkov findings not in verify/checkov-skips.yaml:\n${problems.join('\n')}`);
    },
    prep,
  );

  if (planJsons.length === 0 && apply.status !== 'ok')
    scan.status = scan.status === 'ok' ? 'FAIL' : scan.status;

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
  out.push(`terraform test: ${moduleTestTally.passed} passed, ${moduleTestTally.failed} failed`);
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
