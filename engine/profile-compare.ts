/**
 * Compare profiles (product.md workflow 7): the same scenario run under 4.2 and under mainline, its ioctl
 * calls aligned by index (the n-th ioctl of one run against the n-th of the other), each row flagged
 * with the fields that differ (op, args, result, the caller's locked_vm after the call). Pure: the
 * workbench's engine service and the command line both feed it two runs' events.
 *
 * The wire shapes are common/contract.ts's (ProfileComparison); this module imports only their types.
 */
import type { ProfileCall, ProfileComparison, ProfileCompareRow, ProfileName, ProfileRunSummary } from '../common/contract.ts';
import { formatRet } from './errno.ts';
import type { RunEvent } from './events.ts';
import { formatArgs } from './report.ts';

/** at most this many aligned rows are returned; beyond it, only the differing ones (up to the same cap) */
export const ROWS_MAX = 10_000;

export const PROFILES: readonly ProfileName[] = ['4.2', 'mainline'];

/** what compareProfiles needs of one run (runner/run.ts RunResult fits) */
export interface ProfileRunInput {
  ok: boolean;
  expectations: { passed: number; failed: number };
  events: readonly RunEvent[];
  peakLockedVm: Record<string, number>;
  error: { message: string; line: number | null; column: number | null; kind: string } | null;
}

export function callOf(e: RunEvent & { kind: 'ioctl' }): ProfileCall {
  const lv = e.lockedVm[String(e.pid)];
  return {
    seq: e.seq, ...(e.line !== undefined ? { line: e.line } : {}), pid: e.pid, op: e.op, args: formatArgs(e.args),
    result: formatRet(e.ret, e.errno), errno: e.errno ?? null, lockedVm: lv === undefined ? null : lv,
  };
}

function summaryOf(kernel: ProfileName, r: ProfileRunInput, calls: ProfileCall[]): ProfileRunSummary {
  return {
    kernel, ok: r.ok, expectations: { ...r.expectations }, events: r.events.length, ioctls: calls.length,
    failedCalls: calls.filter((c) => c.errno !== null || c.result.startsWith('-')).length, peakLockedVm: { ...r.peakLockedVm },
    error: r.error ? {
      message: r.error.message, kind: r.error.kind,
      ...(r.error.line !== null ? { line: r.error.line } : {}), ...(r.error.column !== null ? { column: r.error.column } : {}),
    } : null,
  };
}

const FIELDS = ['op', 'args', 'result', 'lockedVm'] as const;

/** aligns the ioctl calls of the two runs by index and says where they diverge */
export function compareProfiles(filename: string, runs: Record<ProfileName, ProfileRunInput>, max = ROWS_MAX): ProfileComparison {
  const calls = {} as Record<ProfileName, ProfileCall[]>;
  for (const k of PROFILES) calls[k] = runs[k].events.filter((e): e is RunEvent & { kind: 'ioctl' } => e.kind === 'ioctl').map(callOf);
  const total = Math.max(calls['4.2'].length, calls.mainline.length);
  const all: ProfileCompareRow[] = [];
  let differing = 0;
  let firstDivergence: number | null = null;
  for (let i = 0; i < total; i++) {
    const a = calls['4.2'][i] ?? null;
    const b = calls.mainline[i] ?? null;
    const differs = a && b ? FIELDS.filter((f) => a[f] !== b[f]) : ['missing'];
    if (differs.length) {
      differing++;
      firstDivergence ??= i;
    }
    all.push({ index: i, calls: { '4.2': a, mainline: b }, differs });
  }
  const rows = total <= max ? all : all.filter((r) => r.differs.length > 0).slice(0, max);
  return {
    filename, rows, total, differing, firstDivergence, omitted: total - rows.length,
    summaries: { '4.2': summaryOf('4.2', runs['4.2'], calls['4.2']), mainline: summaryOf('mainline', runs.mainline, calls.mainline) },
  };
}

/** the comparison as text: a header per profile, then each differing row (the command line's --kernel both) */
export function profileComparisonText(c: ProfileComparison): string[] {
  const lines: string[] = [];
  for (const k of PROFILES) {
    const s = c.summaries[k];
    const peak = Object.entries(s.peakLockedVm).map(([pid, n]) => `pid ${pid} ${n}`).join(', ') || 'none';
    lines.push(`${k.padEnd(8)} ${s.ioctls} ioctls, ${s.failedCalls} failed; expectations ${s.expectations.passed} passed, ${s.expectations.failed} failed; peak locked_vm ${peak}${s.error ? `; could not complete (${s.error.kind}): ${s.error.message}` : ''}`);
  }
  if (c.firstDivergence === null) {
    lines.push(`the two profiles agree on all ${c.total} ioctl calls`);
    return lines;
  }
  lines.push(`${c.differing} of ${c.total} ioctl calls differ; first divergence at call #${c.firstDivergence + 1}`);
  const side = (x: ProfileCall | null): string => x ? `${x.op}(${x.args}) = ${x.result}${x.lockedVm !== null ? `  locked_vm ${x.lockedVm}` : ''}${x.line !== undefined ? `  L${x.line}` : ''}` : '(no call)';
  for (const r of c.rows) {
    if (!r.differs.length) continue;
    lines.push(`#${r.index + 1}${r.index === c.firstDivergence ? ' (first divergence)' : ''} differs in ${r.differs.join(', ')}`);
    lines.push(`  4.2       ${side(r.calls['4.2'])}`);
    lines.push(`  mainline  ${side(r.calls.mainline)}`);
  }
  if (c.omitted > 0) lines.push(`(${c.omitted} aligned rows not listed)`);
  return lines;
}
