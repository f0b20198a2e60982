/**
 * The day-2 matrix of `npm run verify`: after the first apply against moto, every change in
 * scripts/verify/day2-changes.ts is planned against that deployment (and the `apply` rows are
 * applied in order), and each plan must match its row exactly. The plans are kept for checkov.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModuleFolder } from '../build-module';
import { DAY2_CHANGES, Day2Change, Day2Context, Day2Expectation } from './day2-changes';
import { EMULATOR_DRIFT } from './emulator-gaps';
import { RunResult, pool, run } from './lib/proc';
import { TfJson } from './lib/tf-json';

export interface Day2MatrixOptions {
  /** The applied example (its terraform.tfstate is the starting point). */
  readonly exampleDir: string;
  /** The example's module block name (`pmm`). */
  readonly moduleName: string;
  /** The module folder the example uses (source "../.." from a sibling of exampleDir). */
  readonly moduleDir: string;
  /** The plan JSON of the first apply (its module call gives the baseline inputs). */
  readonly firstPlanJson: string;
  /** The AWS provider block pointing at moto. */
  readonly provider: Record<string, unknown>;
  /** `-target=` arguments of the first apply (emulator gaps left out), or none. */
  readonly targets: readonly string[];
  /** Module-relative addresses left out of the apply (emulator gaps and dependents). */
  readonly excluded: readonly string[];
  readonly privateSubnetIds: readonly string[];
  readonly motoUrl: string;
  readonly motoPython: string;
  readonly tf: (dir: string, args: string[], logName: string) => Promise<RunResult>;
  readonly progress: (msg: string) => void;
  readonly poolSize: number;
}

export interface Day2MatrixResult {
  /** Result lines for the summary. */
  readonly lines: string[];
  /** Rows that did not hold. */
  readonly failures: string[];
  /** The plan JSON files (for checkov). */
  readonly planFiles: string[];
  /** The state after the matrix's applies (the teardown continues from it). */
  readonly statePath: string;
}

export interface PlanClass {
  readonly replaces: string[];
  readonly creates: string[];
  readonly deletes: string[];
  readonly updates: string[];
}

/** `module.pmm.aws_x.y["k"]` -> `aws_x.y`. */
export function moduleRelative(address: string): string {
  return address.replace(/^(module\.[^.]+\.)+/, '').replace(/\[[^\]]*\]$/, '');
}

const uniqueSorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** The changes of a plan (`terraform show -json`), by kind, as module-relative addresses. */
export function classifyPlan(plan: TfJson): PlanClass {
  const by: Record<keyof PlanClass, string[]> = {
    replaces: [],
    creates: [],
    deletes: [],
    updates: [],
  };
  for (const c of (plan.resource_changes ?? []) as TfJson[]) {
    if (c.mode !== 'managed') continue;
    const a = (c.change.actions as string[]).join(',');
    const addr = moduleRelative(c.address);
    if (a === 'create') by.creates.push(addr);
    else if (a === 'delete') by.deletes.push(addr);
    else if (a === 'delete,create' || a === 'create,delete') by.replaces.push(addr);
    else if (a === 'update') by.updates.push(addr);
  }
  return {
    replaces: uniqueSorted(by.replaces),
    creates: uniqueSorted(by.creates),
    deletes: uniqueSorted(by.deletes),
    updates: uniqueSorted(by.updates),
  };
}

/**
 * Differences between a plan and a `change` row; [] when it holds. Resources the emulator
 * run leaves out (`excluded`) are dropped from both sides.
 */
export function compareClass(
  got: PlanClass,
  expected: Extract<Day2Expectation, { kind: 'change' }>,
  excluded: readonly string[] = [],
): string[] {
  const keep = (xs: readonly string[] = []) =>
    uniqueSorted(xs.filter((x) => !excluded.includes(x)));
  const out: string[] = [];
  for (const k of ['replaces', 'creates', 'deletes'] as const) {
    const want = keep(expected[k]);
    const have = keep(got[k]);
    if (JSON.stringify(want) !== JSON.stringify(have))
      out.push(`${k}: expected [${want.join(', ')}], plan has [${have.join(', ')}]`);
  }
  return out;
}

/** Error diagnostics of `terraform plan -json`. */
export function planErrors(stdout: string): { summary: string; detail: string }[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as TfJson];
      } catch {
        return [];
      }
    })
    .filter((j) => j.type === 'diagnostic' && j.diagnostic?.severity === 'error')
    .map((j) => ({
      summary: String(j.diagnostic.summary),
      detail: String(j.diagnostic.detail ?? ''),
    }));
}

/** Checks a refused row: the plan failed with the row's message and not at prevent_destroy. */
export function checkRefused(
  code: number,
  errors: { summary: string; detail: string }[],
  message: string,
): string[] {
  const flat = (s: string) => s.replace(/\s+/g, ' ');
  if (code === 0) return ['the plan succeeded; expected it to be refused'];
  const out: string[] = [];
  if (!errors.some((e) => flat(e.detail).includes(message) || flat(e.summary).includes(message)))
    out.push(
      `no error contains "${message}"; errors: ${errors.map((e) => `${e.summary}: ${flat(e.detail)}`).join(' | ') || '(none)'}`,
    );
  if (errors.some((e) => /prevent_destroy/.test(e.detail) || /cannot be destroyed/.test(e.summary)))
    out.push(
      "Terraform's generic prevent_destroy error appeared (the row must be refused earlier)",
    );
  return out;
}

/** The root configuration of the matrix: the module with every variable passed through. */
export function matrixConfig(
  moduleJson: TfJson,
  moduleName: string,
  provider: Record<string, unknown>,
): TfJson {
  const variables = (moduleJson.variable ?? {}) as Record<string, TfJson>;
  const variable = Object.fromEntries(
    Object.entries(variables).map(([name, v]) => [
      name,
      {
        type: v.type,
        ...('default' in v ? { default: v.default } : {}),
        ...(v.sensitive ? { sensitive: true } : {}),
      },
    ]),
  );
  const module = {
    [moduleName]: {
      source: '../..',
      // The module's configuration_aliases (aws.dns) must be passed explicitly.
      providers: { aws: 'aws', 'aws.dns': 'aws' },
      ...Object.fromEntries(Object.keys(variables).map((n) => [n, `\${var.${n}}`])),
    },
  };
  const outputs = ['ebs_volume_id', 'detached_data_volume_ids', 'instance_id'];
  return {
    terraform: { required_providers: { aws: { source: 'hashicorp/aws' } } },
    provider: { aws: [provider] },
    variable,
    module,
    output: Object.fromEntries(outputs.map((o) => [o, { value: `\${module.${moduleName}.${o}}` }])),
  };
}

const writeJson = (p: string, v: unknown) => writeFileSync(p, JSON.stringify(v, null, 2) + '\n');

export async function runDay2Matrix(o: Day2MatrixOptions): Promise<Day2MatrixResult> {
  const dir = join(o.exampleDir, '..', 'day2');
  const plans = join(dir, 'plans');
  mkdirSync(plans, { recursive: true });
  const moduleJson = readModuleFolder(o.moduleDir) as TfJson;
  writeJson(join(dir, 'main.tf.json'), matrixConfig(moduleJson, o.moduleName, o.provider));
  cpSync(join(o.exampleDir, 'terraform.tfstate'), join(dir, 'terraform.tfstate'));
  const lines: string[] = [];
  const failures: string[] = [];
  const planFiles: string[] = [];
  const tfOk = async (args: string[], log: string, what: string) => {
    const r = await o.tf(dir, args, log);
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}); log: day2 ${log}.log`);
    return r;
  };
  const fixture = async (...args: string[]) => {
    const r = await run(o.motoPython, [join(__dirname, 'day2_fixtures.py'), o.motoUrl, ...args]);
    if (r.code !== 0) throw new Error(`day2_fixtures.py ${args.join(' ')} failed: ${r.output}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };

  const baseline = baselineInputs(
    JSON.parse(readFileSync(o.firstPlanJson, 'utf8')) as TfJson,
    o.moduleName,
  );
  await tfOk(['init', '-input=false', '-no-color'], 'day2-init', 'terraform init (day-2 matrix)');
  const state = JSON.parse(
    (await tfOk(['show', '-json'], 'day2-show', 'terraform show -json (state)')).stdout,
  ) as TfJson;
  const volumeId = stateVolumeId(state);
  const region = 'us-east-1';
  const [snap1, snap2, kms, asg] = [
    await fixture('snapshot', volumeId),
    await fixture('snapshot', volumeId),
    await fixture('kms-key'),
    await fixture('asg', o.privateSubnetIds.join(',')),
  ];
  const ctx: Day2Context = {
    privateSubnetIds: o.privateSubnetIds,
    baseline,
    snapshotId: snap1.snapshot_id,
    secondSnapshotId: snap2.snapshot_id,
    kmsKeyArn: kms.key_arn,
    secondAsg: asg,
    region,
  };
  lines.push(
    `day-2 context: data volume ${volumeId}; snapshots ${ctx.snapshotId}, ${ctx.secondSnapshotId}; KMS key ${ctx.kmsKeyArn}; second ASG ${asg.asg_name}`,
  );

  // Plans that are only compared run without -target, as users run them (a data source no
  // targeted resource references, such as the instance type check, is read only then); the
  // resources left out of the emulator run are dropped from the comparison instead. Plans
  // that are applied keep the first apply's -target.
  const plan = async (row: Pick<Day2Change, 'id' | 'inputs'>, refresh: boolean) => {
    const vars = join(dir, `${row.id}.tfvars.json`);
    writeJson(vars, { ...baseline, ...row.inputs(ctx) });
    const out = join(plans, `${row.id}.tfplan`);
    const r = await o.tf(
      dir,
      [
        'plan',
        '-input=false',
        '-no-color',
        '-json',
        '-lock=false',
        ...(refresh ? [] : ['-refresh=false']),
        `-var-file=${vars}`,
        `-out=${out}`,
        ...(refresh ? o.targets : []),
      ],
      `day2-${row.id}`,
    );
    if (r.code !== 0) return { code: r.code, errors: planErrors(r.stdout), planJson: undefined };
    const show = await tfOk(['show', '-json', out], `day2-${row.id}`, `terraform show ${row.id}`);
    const file = join(plans, `${row.id}.json`);
    writeFileSync(file, show.stdout);
    return {
      code: 0,
      errors: [],
      planJson: JSON.parse(show.stdout) as TfJson,
      planFile: file,
      out,
    };
  };

  const judge = async (row: Day2Change, refresh: boolean, label = '') => {
    const t0 = Date.now();
    const r = await plan(row, refresh);
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    let problems: string[];
    let observed: string;
    if (row.expect.kind === 'refused') {
      problems = checkRefused(r.code, r.errors, row.expect.message);
      observed = r.code === 0 ? 'plan succeeded' : 'refused';
    } else if (!r.planJson) {
      problems = [
        `plan failed: ${r.errors.map((e) => `${e.summary}: ${e.detail.replace(/\s+/g, ' ')}`).join(' | ')}`,
      ];
      observed = 'plan failed';
    } else {
      const got = classifyPlan(r.planJson);
      problems = compareClass(got, row.expect, o.excluded);
      observed = describeClass(got, o.excluded);
      planFiles.push(r.planFile!);
    }
    const ok = problems.length === 0;
    const line = `${ok ? 'ok  ' : 'FAIL'} ${row.id}${label}: ${observed} (${secs}s)`;
    lines.push(line);
    o.progress(`  day-2 ${line}`);
    if (!ok) failures.push(`${row.id}${label}: ${problems.join('; ')}`);
    return { ok, out: r.out };
  };

  // The matrix directory must reproduce the deployment before any row means anything.
  const still = await plan({ id: 'no-change', inputs: () => ({}) }, false);
  const stillClass = still.planJson ? classifyPlan(still.planJson) : undefined;
  const unexpected = stillClass
    ? [...stillClass.replaces, ...stillClass.creates, ...stillClass.deletes]
        .filter((a) => !o.excluded.includes(a))
        .concat(stillClass.updates.filter((a) => !(a.split('.')[0] in EMULATOR_DRIFT)))
    : ['plan failed'];
  if (unexpected.length)
    throw new Error(
      `the matrix configuration does not reproduce the first apply: ${unexpected.join(', ')}`,
    );
  lines.push(
    'no-change: the matrix configuration plans no change (apart from known emulator drift): it reproduces the first apply',
  );

  // Baseline rows are independent plans of the same state: in parallel.
  await pool(
    DAY2_CHANGES.filter((r) => r.stage === 'baseline' || r.stage === 'apply'),
    o.poolSize,
    (row) => judge(row, false, row.stage === 'apply' ? ' (vs first apply)' : ''),
  );

  // Apply rows in order, each from the state the previous one left.
  for (const row of DAY2_CHANGES.filter((r) => r.stage === 'apply')) {
    // The copied state has the example's outputs until the matrix's first apply.
    const before = { ebs_volume_id: volumeId, ...(await outputs(o, dir)) };
    const { ok, out } = await judge(row, true, ' (apply)');
    if (!ok || !out) continue;
    await tfOk(
      ['apply', '-input=false', '-no-color', '-auto-approve', out],
      `day2-${row.id}`,
      `terraform apply ${row.id}`,
    );
    const after = await outputs(o, dir);
    const problems = await checkRestore(row, ctx, before, after, fixture);
    const replan = await plan(row, true);
    const rc = replan.planJson ? classifyPlan(replan.planJson) : undefined;
    const residue = rc
      ? [...rc.replaces, ...rc.creates, ...rc.deletes]
          .filter((a) => !o.excluded.includes(a))
          .concat(rc.updates.filter((a) => !(a.split('.')[0] in EMULATOR_DRIFT)))
      : ['re-plan failed'];
    if (residue.length) problems.push(`re-plan after apply not clean: ${residue.join(', ')}`);
    const line = `${problems.length ? 'FAIL' : 'ok  '} ${row.id} (applied): ebs_volume_id ${before.ebs_volume_id} -> ${after.ebs_volume_id}; detached ${JSON.stringify(after.detached_data_volume_ids)}; re-plan clean`;
    lines.push(line);
    o.progress(`  day-2 ${line}`);
    if (problems.length) failures.push(`${row.id} (applied): ${problems.join('; ')}`);
  }

  await pool(
    DAY2_CHANGES.filter((r) => r.stage === 'after-apply'),
    o.poolSize,
    (row) => judge(row, false, ' (after the applies)'),
  );
  return { lines, failures, planFiles, statePath: join(dir, 'terraform.tfstate') };
}

/**
 * The module inputs of the first apply, from its plan JSON: literal arguments of the module
 * call (the example's own and the verify override's), and variables by their planned values.
 */
export function baselineInputs(plan: TfJson, moduleName: string): Record<string, unknown> {
  const call = plan.configuration?.root_module?.module_calls?.[moduleName];
  if (!call) throw new Error(`the first plan has no module call "${moduleName}"`);
  const out: Record<string, unknown> = {};
  for (const [name, e] of Object.entries((call.expressions ?? {}) as Record<string, TfJson>)) {
    if ('constant_value' in e) out[name] = e.constant_value;
    else {
      const ref = ((e.references ?? []) as string[]).find((r) => r.startsWith('var.'));
      if (!ref) throw new Error(`module input ${name} is neither a literal nor a variable`);
      out[name] = plan.variables?.[ref.slice(4)]?.value;
    }
  }
  return out;
}

/** The id of the data volume in use, from the state (`terraform show -json`). */
function stateVolumeId(state: TfJson): string {
  const found: string[] = [];
  const visit = (m: TfJson | undefined) => {
    for (const r of (m?.resources ?? []) as TfJson[])
      if (r.type === 'aws_ebs_volume' && r.mode === 'managed') found.push(r.values.id);
    for (const c of (m?.child_modules ?? []) as TfJson[]) visit(c);
  };
  visit(state.values?.root_module);
  if (found.length !== 1)
    throw new Error(`expected one data volume in state, found ${found.join(', ') || 'none'}`);
  return found[0];
}

async function outputs(o: Day2MatrixOptions, dir: string): Promise<TfJson> {
  // The copied state holds the example's outputs: refresh them from the matrix's own config.
  const r = await o.tf(dir, ['output', '-json'], 'day2-outputs');
  const j = r.code === 0 ? (JSON.parse(r.stdout) as TfJson) : {};
  return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, (v as TfJson).value]));
}

/** After a restore: the old volume still exists, detached and named; the new one is in use. */
async function checkRestore(
  row: Day2Change,
  ctx: Day2Context,
  before: TfJson,
  after: TfJson,
  fixture: (...args: string[]) => Promise<TfJson>,
): Promise<string[]> {
  const problems: string[] = [];
  const inputs = row.inputs(ctx);
  const snapshot = String(inputs.data_volume_snapshot_id ?? '').replace(/^.*\//, '');
  if (!snapshot) return problems;
  const oldId = before.ebs_volume_id as string | undefined;
  const newId = after.ebs_volume_id as string;
  if (!oldId || oldId === newId)
    problems.push(`ebs_volume_id did not change (${oldId} -> ${newId})`);
  if (oldId && !((after.detached_data_volume_ids ?? []) as string[]).includes(oldId))
    problems.push(`detached_data_volume_ids does not name the previous volume ${oldId}`);
  if (oldId) {
    const old = await fixture('volume', oldId);
    if (!old) problems.push(`the previous volume ${oldId} no longer exists`);
    else {
      if (old.attached_to.length) problems.push(`${oldId} is still attached to ${old.attached_to}`);
      if (old.tags['pmm:data-volume-state'] !== 'detached')
        problems.push(`${oldId} is not tagged pmm:data-volume-state=detached`);
    }
  }
  const now = await fixture('volume', newId);
  if (!now) problems.push(`the new volume ${newId} does not exist`);
  else {
    if (now.snapshot_id !== snapshot)
      problems.push(`${newId} was not created from ${snapshot} (${now.snapshot_id})`);
    if (now.attached_to.length !== 1)
      problems.push(`${newId} is attached to ${now.attached_to.length} instances`);
    if (after.instance_id && now.attached_to[0] !== after.instance_id)
      problems.push(`${newId} is not attached to instance_id ${after.instance_id}`);
  }
  return problems;
}

/** One line for a plan's class (what the README would say). */
export function describeClass(c: PlanClass, excluded: readonly string[] = []): string {
  const f = (xs: string[]) => xs.filter((x) => !excluded.includes(x));
  const parts: string[] = [];
  if (f(c.replaces).length) parts.push(`replaces ${f(c.replaces).join(', ')}`);
  if (f(c.creates).length) parts.push(`creates ${f(c.creates).join(', ')}`);
  if (f(c.deletes).length) parts.push(`deletes ${f(c.deletes).join(', ')}`);
  if (!parts.length) parts.push(`in place (updates ${f(c.updates).length})`);
  return parts.join('; ');
}
