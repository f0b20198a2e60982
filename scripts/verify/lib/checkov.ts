/** checkov results, classified against the one skips file (verify/checkov-skips.yaml). */
import { run, tail } from './proc';

export interface CheckovSkip {
  readonly id: string;
  /**
   * Resource addresses (or suffixes) the skip applies to. Required by the skips file (no
   * blanket skips); `skipFor` treats an absent list as every resource.
   */
  readonly resources?: readonly string[];
  readonly reason: string;
  /**
   * Limits the skip to one scan: `synth` (the synthesized JSON, where checkov cannot
   * evaluate variables) or `plan` (the plan JSON). @default both
   */
  readonly scan?: CheckovScan;
}

export type CheckovScan = 'synth' | 'plan';

export interface CheckovFinding {
  readonly checkId: string;
  readonly checkName: string;
  readonly resource: string;
  readonly file: string;
}

export interface CheckovSummary {
  readonly passed: number;
  readonly failed: CheckovFinding[];
  readonly skipped: (CheckovFinding & { reason: string })[];
  readonly parsingErrors: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Resource address without module prefixes or indexes: module.pmm.aws_x.y[0] -> aws_x.y */
export function bareAddress(resource: string): string {
  const parts = resource.replace(/\[[^\]]*\]/g, '').split('.');
  while (parts[0] === 'module' && parts.length > 2) parts.splice(0, 2);
  return parts.join('.');
}

export function skipFor(
  finding: CheckovFinding,
  skips: readonly CheckovSkip[],
): CheckovSkip | undefined {
  const addr = bareAddress(finding.resource);
  // checkov's terraform_json runner names resources "resource.<name>" (no type).
  const nameOnly = addr.startsWith('resource.') ? addr.slice('resource.'.length) : undefined;
  return skips.find(
    (s) =>
      s.id === finding.checkId &&
      (!s.resources ||
        s.resources.some(
          (r) =>
            addr === r ||
            addr.endsWith(`.${r}`) ||
            (nameOnly !== undefined && r.slice(r.indexOf('.') + 1) === nameOnly),
        )),
  );
}

/** Classifies `checkov -o json` output (one report object or an array of them). */
export function classify(
  report: Json,
  allSkips: readonly CheckovSkip[],
  scan?: CheckovScan,
): CheckovSummary {
  const skips = allSkips.filter((s) => !s.scan || !scan || s.scan === scan);
  const reports: Json[] = Array.isArray(report) ? report : [report];
  let passed = 0;
  const failed: CheckovFinding[] = [];
  const skipped: (CheckovFinding & { reason: string })[] = [];
  const parsingErrors: string[] = [];
  for (const r of reports) {
    if (!r || typeof r !== 'object') continue;
    passed += r.results?.passed_checks?.length ?? r.summary?.passed ?? 0;
    parsingErrors.push(...((r.results?.parsing_errors ?? []) as string[]));
    for (const c of (r.results?.failed_checks ?? []) as Json[]) {
      const finding: CheckovFinding = {
        checkId: c.check_id,
        checkName: c.check_name,
        resource: c.resource,
        file: c.file_path,
      };
      const skip = skipFor(finding, skips);
      if (skip) skipped.push({ ...finding, reason: skip.reason });
      else failed.push(finding);
    }
  }
  return { passed, failed, skipped, parsingErrors };
}

/** Skips in the file that matched no finding (stale entries worth removing). */
export function unusedSkips(
  skips: readonly CheckovSkip[],
  summaries: readonly CheckovSummary[],
): CheckovSkip[] {
  return skips.filter(
    (s) => !summaries.some((sum) => sum.skipped.some((f) => skipFor(f, [s]) === s)),
  );
}

// ---------------------------------------------------------------------------------------
// Running checkov (the verify pipeline and scripts/verify/checkov-plan.ts share these)
// ---------------------------------------------------------------------------------------

/** The checkov virtualenv `npm run verify` installs (.cache/verify/checkov). */
export interface CheckovTools {
  /** The checkov executable. */
  readonly checkov: string;
  /** The venv's python (reads the YAML skips file with PyYAML). */
  readonly python: string;
}

export class CheckovError extends Error {}

/**
 * What is wrong with a skips list: every skip needs an id, a reason of 20+ characters, a
 * non-empty `resources` list (no blanket skips: a skip names what it covers) and, if any,
 * `scan: synth` or `scan: plan`.
 */
export function skipProblems(skips: readonly CheckovSkip[]): string[] {
  const problems: string[] = [];
  skips.forEach((x, i) => {
    const name = `skip #${i + 1} (${x.id ?? 'no id'})`;
    if (!x.id) problems.push(`${name}: no id`);
    if (!x.reason || x.reason.trim().length < 20)
      problems.push(`${name}: reason under 20 characters`);
    if (!Array.isArray(x.resources) || x.resources.length === 0)
      problems.push(`${name}: no resources (blanket skips are not allowed: name the resources)`);
    if (x.scan !== undefined && x.scan !== 'synth' && x.scan !== 'plan')
      problems.push(`${name}: scan must be synth or plan`);
  });
  return problems;
}

/** Reads and checks the skips file (YAML, read with the checkov venv's PyYAML). */
export async function loadSkipsFile(tools: CheckovTools, file: string): Promise<CheckovSkip[]> {
  const r = await run(tools.python, [
    '-c',
    'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1])) or {}))',
    file,
  ]);
  if (r.code !== 0) throw new CheckovError(`cannot read ${file}:\n${tail(r.output)}`);
  const skips = ((JSON.parse(r.stdout) as { skips?: CheckovSkip[] }).skips ?? []) as CheckovSkip[];
  const problems = skipProblems(skips);
  if (problems.length) throw new CheckovError(`${file}:\n  ${problems.join('\n  ')}`);
  return skips;
}

/** Runs checkov with `args` (framework and target) and classifies its report. */
export async function runCheckov(
  tools: CheckovTools,
  args: readonly string[],
  scan: CheckovScan,
  skips: readonly CheckovSkip[],
  opts: { readonly cwd?: string; readonly log?: string } = {},
): Promise<CheckovSummary> {
  const r = await run(
    tools.checkov,
    [...args, '-o', 'json', '--compact', '--skip-download', '--soft-fail'],
    {
      cwd: opts.cwd,
      env: {
        ...process.env,
        ANSI_COLORS_DISABLED: '1',
        LOG_LEVEL: 'WARNING',
        BC_SKIP_MAPPING: 'TRUE',
      },
      log: opts.log,
      timeoutSeconds: 900,
    },
  );
  let report: unknown;
  try {
    report = JSON.parse(r.stdout.slice(r.stdout.search(/[[{]/)));
  } catch {
    throw new CheckovError(`checkov printed no JSON report (exit ${r.code}):\n${tail(r.output)}`);
  }
  const sum = classify(report, skips, scan);
  if (sum.passed + sum.failed.length + sum.skipped.length === 0) {
    throw new CheckovError(
      `checkov ran no check at all (wrong framework or path?):\n${tail(r.output)}`,
    );
  }
  return sum;
}

/** Scans one `terraform show -json` plan file (any plan: first, re-plan, day-2 plans). */
export function scanPlanJson(
  tools: CheckovTools,
  planJsonPath: string,
  skips: readonly CheckovSkip[],
  opts: { readonly cwd?: string; readonly log?: string } = {},
): Promise<CheckovSummary> {
  return runCheckov(
    tools,
    ['--framework', 'terraform_plan', '-f', planJsonPath],
    'plan',
    skips,
    opts,
  );
}

/** One line per unexplained finding or parsing error of a summary (empty: all explained). */
export function findingLines(sum: CheckovSummary): string[] {
  const lines = sum.failed.map((f) => `  ${f.checkId} ${f.checkName} @ ${f.resource} (${f.file})`);
  if (sum.parsingErrors.length) lines.push(`  parsing errors: ${sum.parsingErrors.join(', ')}`);
  return lines;
}
