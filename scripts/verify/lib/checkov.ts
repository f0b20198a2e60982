/** checkov results, classified against the one skips file (verify/checkov-skips.yaml). */

export interface CheckovSkip {
  readonly id: string;
  /** Resource addresses (or suffixes) the skip applies to; absent = every resource. */
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
