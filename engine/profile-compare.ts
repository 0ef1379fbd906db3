/**
 * Engine infrastructure: models no kernel file.
 * Compare profiles (product.md workflow 7): the same scenario run under two profiles (any two of 4.2, 5.x
 * and mainline; by default 4.2 and mainline), its ioctl
 * calls aligned as a diff (Myers' shortest edit script over the key op + arguments + scenario line), so
 * that a call both runs make pairs up even after one profile made an extra call or skipped one; a call
 * only one run makes is a one-sided row. Each row is flagged with the fields that differ (result, the
 * caller's locked_vm after the call; "missing" for a one-sided row). Huge or wildly different runs fall
 * back to index alignment (the n-th ioctl against the n-th), and the comparison says so. Pure: the
 * workbench's engine service and the command line both feed it two runs' events.
 *
 * The wire shapes are common/contract.ts's (ProfileComparison); this module imports only their types.
 */
import type {
  ProfileCall,
  ProfileComparison,
  ProfileCompareRow,
  ProfileName,
  ProfileRunSummary,
} from '../common/contract.ts';
import { formatRet } from './errno.ts';
import type { EventList, RunEvent } from './events.ts';
import { formatArgs } from '../common/format.ts';

/** at most this many aligned rows are returned; beyond it, only the differing ones (up to the same cap) */
export const ROWS_MAX = 10_000;
/** above this many ioctl calls in either run, calls are aligned by index */
export const DIFF_MAX_CALLS = 20_000;
/** above this many unpaired calls (the edit distance), calls are aligned by index (bounds time and memory) */
export const DIFF_MAX_EDITS = 2_000;

/** the pair compared when none is named (`--kernel both`, the workbench's default) */
export const PROFILES: readonly [ProfileName, ProfileName] = ['4.2', 'mainline'];

/** what compareProfiles needs of one run (runner/run.ts RunResult fits) */
export interface ProfileRunInput {
  ok: boolean;
  expectations: { passed: number; failed: number };
  events: EventList;
  peakLockedVm: Record<string, number>;
  error: { message: string; line: number | null; column: number | null; kind: string } | null;
  /** runner/run.ts's session: createHost({ kernel }) calls that pinned the profile */
  session?: { pinned: readonly { kernel: string; line: number | undefined }[] };
}

export function callOf(e: RunEvent & { kind: 'ioctl' }): ProfileCall {
  const lv = e.lockedVm[String(e.pid)];
  return {
    seq: e.seq,
    ...(e.line !== undefined ? { line: e.line } : {}),
    pid: e.pid,
    op: e.op,
    args: formatArgs(e.args),
    result: formatRet(e.ret, e.errno),
    errno: e.errno ?? null,
    lockedVm: lv === undefined ? null : lv,
  };
}

function summaryOf(kernel: ProfileName, r: ProfileRunInput, calls: ProfileCall[]): ProfileRunSummary {
  return {
    kernel,
    ok: r.ok,
    expectations: { ...r.expectations },
    events: r.events.length,
    ioctls: calls.length,
    failedCalls: calls.filter((c) => c.errno !== null || c.result.startsWith('-')).length,
    peakLockedVm: { ...r.peakLockedVm },
    error: r.error
      ? {
          message: r.error.message,
          kind: r.error.kind,
          ...(r.error.line !== null ? { line: r.error.line } : {}),
          ...(r.error.column !== null ? { column: r.error.column } : {}),
        }
      : null,
    ...pinnedOf(r),
  };
}

function pinnedOf(r: ProfileRunInput): { pinned?: { kernel: string; line?: number } } {
  const p = r.session?.pinned[0];
  return p ? { pinned: { kernel: p.kernel, ...(p.line !== undefined ? { line: p.line } : {}) } } : {};
}

const FIELDS = ['op', 'args', 'result', 'lockedVm'] as const;

/** a pair of positions, one per side; -1: no call on that side */
export type Pair = [number, number];

/**
 * Myers' shortest edit script between two sequences of keys: the pairs of equal elements of a longest
 * common subsequence and the unpaired elements as one-sided pairs, in order (at a change, the first
 * side's extra elements before the second side's). Null when more than `maxEdits` elements are
 * unpaired. Time O((N+M)·D), memory O(D²) for D unpaired elements, after the common prefix and
 * suffix are taken off.
 */
export function diffAlign(
  a: readonly number[],
  b: readonly number[],
  maxEdits = DIFF_MAX_EDITS,
): Pair[] | null {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const n = a.length - pre - suf;
  const m = b.length - pre - suf;
  const A = (i: number) => a[pre + i]!;
  const B = (j: number) => b[pre + j]!;
  const middle: Pair[] = [];
  if (n === 0 || m === 0) {
    if (n + m > maxEdits) return null;
    for (let i = 0; i < n; i++) middle.push([pre + i, -1]);
    for (let j = 0; j < m; j++) middle.push([-1, pre + j]);
  } else {
    // forward pass: v[k] = furthest x on diagonal k (x - y = k) with d edits; keep each d's v for the way back
    const max = Math.min(n + m, maxEdits);
    const off = max + 1;
    let v = new Int32Array(2 * max + 3);
    const trace: Int32Array[] = [];
    let found = -1;
    for (let d = 0; d <= max && found < 0; d++) {
      trace.push(v.slice(off - d - 1, off + d + 2));
      const next = v.slice();
      for (let k = -d; k <= d; k += 2) {
        let x =
          k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
        let y = x - k;
        while (x < n && y < m && A(x) === B(y)) {
          x++;
          y++;
        }
        next[off + k] = x;
        if (x >= n && y >= m) {
          found = d;
          break;
        }
      }
      v = next;
    }
    if (found < 0) return null;
    // the way back: from (n, m), one edit per d, snakes of equal elements in between
    let x = n;
    let y = m;
    const rev: Pair[] = [];
    for (let d = found; d > 0; d--) {
      const pv = trace[d]!; // v before step d, window [-d-1, d+1]
      const at = (k: number) => pv[k + d + 1]!;
      const k = x - y;
      const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
      const pk = down ? k + 1 : k - 1;
      const px = at(pk);
      const py = px - pk;
      const sx = down ? px : px + 1;
      while (x > sx) rev.push([pre + --x, pre + --y]);
      if (down) rev.push([-1, pre + py]);
      else rev.push([pre + px, -1]);
      x = px;
      y = py;
    }
    while (x > 0) rev.push([pre + --x, pre + --y]);
    rev.reverse();
    // within a run of one-sided pairs, the first side's first
    for (let i = 0; i < rev.length;) {
      if (rev[i]![0] >= 0 && rev[i]![1] >= 0) {
        middle.push(rev[i++]!);
        continue;
      }
      let j = i;
      while (j < rev.length && (rev[j]![0] < 0 || rev[j]![1] < 0)) j++;
      const block = rev.slice(i, j);
      middle.push(...block.filter((p) => p[0] >= 0), ...block.filter((p) => p[1] >= 0));
      i = j;
    }
  }
  const out: Pair[] = [];
  for (let i = 0; i < pre; i++) out.push([i, i]);
  out.push(...middle);
  for (let i = 0; i < suf; i++) out.push([a.length - suf + i, b.length - suf + i]);
  return out;
}

/** the key two calls must share to pair up: what was called, with what, from where */
const keyOf = (c: ProfileCall): string => `${c.op}\u0000${c.args}\u0000${c.line ?? ''}`;

/**
 * Aligns the ioctl calls of the two runs (a diff over op + arguments + scenario line; by index for huge
 * or wildly different runs) and says where they diverge: the first row whose results, locked_vm or
 * presence differ.
 */
export function compareProfiles(
  filename: string,
  runs: Partial<Record<ProfileName, ProfileRunInput>>,
  max = ROWS_MAX,
  limits: { calls?: number; edits?: number } = {},
  profiles: readonly [ProfileName, ProfileName] = PROFILES,
): ProfileComparison {
  const [ka, kb] = profiles;
  const runA = runs[ka];
  const runB = runs[kb];
  if (!runA || !runB) throw new Error(`compareProfiles: no run for ${runA ? kb : ka}`);
  const callsOf = (r: ProfileRunInput): ProfileCall[] => {
    // one event at a time: a million-event log is never materialised as a whole
    const list: ProfileCall[] = [];
    for (const e of r.events) if (e.kind === 'ioctl') list.push(callOf(e));
    return list;
  };
  const A = callsOf(runA);
  const B = callsOf(runB);
  const maxCalls = limits.calls ?? DIFF_MAX_CALLS;
  const maxEdits = limits.edits ?? DIFF_MAX_EDITS;
  let pairs: Pair[] | null = null;
  let note: string | undefined;
  if (A.length > maxCalls || B.length > maxCalls) {
    note = `more than ${maxCalls.toLocaleString('en-US')} ioctl calls in a run: calls aligned by index`;
  } else {
    const ids = new Map<string, number>();
    const intern = (c: ProfileCall): number => {
      const key = keyOf(c);
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      return id;
    };
    pairs = diffAlign(A.map(intern), B.map(intern), maxEdits);
    if (!pairs)
      note = `more than ${maxEdits.toLocaleString('en-US')} calls made by only one profile: calls aligned by index`;
  }
  if (!pairs) {
    pairs = [];
    for (let i = 0; i < Math.max(A.length, B.length); i++)
      pairs.push([i < A.length ? i : -1, i < B.length ? i : -1]);
  }
  const all: ProfileCompareRow[] = [];
  let differing = 0;
  let paired = 0;
  let firstDivergence: number | null = null;
  for (const [i, j] of pairs) {
    const a = i >= 0 ? A[i]! : null;
    const b = j >= 0 ? B[j]! : null;
    const differs = a && b ? FIELDS.filter((f) => a[f] !== b[f]) : ['missing'];
    if (a && b) paired++;
    const index = all.length;
    if (differs.length) {
      differing++;
      firstDivergence ??= index;
    }
    all.push({ index, calls: { [ka]: a, [kb]: b }, differs });
  }
  const total = all.length;
  const rows = total <= max ? all : all.filter((r) => r.differs.length > 0).slice(0, max);
  return {
    filename,
    rows,
    total,
    differing,
    firstDivergence,
    omitted: total - rows.length,
    summaries: { [ka]: summaryOf(ka, runA, A), [kb]: summaryOf(kb, runB, B) },
    profiles: [ka, kb],
    alignment: {
      method: note ? 'index' : 'diff',
      paired,
      only: { [ka]: A.length - paired, [kb]: B.length - paired },
      ...(note ? { note } : {}),
    },
  };
}

/** "12 paired, 1 only in 4.2, 5 only in mainline" */
export function alignmentText(c: ProfileComparison): string {
  const a = c.alignment;
  if (!a) return '';
  const [ka, kb] = c.profiles;
  return `${a.paired} paired, ${a.only[ka]} only in ${ka}, ${a.only[kb]} only in ${kb}`;
}

/** the comparison as text: a header per profile, then each differing row (the command line's --kernel both) */
export function profileComparisonText(c: ProfileComparison): string[] {
  const lines: string[] = [];
  const [ka, kb] = c.profiles;
  for (const k of c.profiles) {
    const s = c.summaries[k];
    if (!s) continue;
    const peak =
      Object.entries(s.peakLockedVm)
        .map(([pid, n]) => `pid ${pid} ${n}`)
        .join(', ') || 'none';
    lines.push(
      `${k.padEnd(8)} ${s.ioctls} ioctls, ${s.failedCalls} failed; expectations ${s.expectations.passed} passed, ${s.expectations.failed} failed; peak locked_vm ${peak}${s.error ? `; could not complete (${s.error.kind}): ${s.error.message}` : ''}`,
    );
  }
  if (c.firstDivergence === null) {
    lines.push(pinnedVerdict(c) ?? `the two profiles agree on all ${c.total} ioctl calls`);
    return lines;
  }
  const how = alignmentText(c);
  lines.push(
    `${c.differing} of ${c.total} aligned rows differ${how ? ` (${how})` : ''}; first divergence at row #${c.firstDivergence + 1}`,
  );
  if (c.alignment?.note) lines.push(`(${c.alignment.note})`);
  const side = (x: ProfileCall | null): string =>
    x
      ? `${x.op}(${x.args}) = ${x.result}${x.lockedVm !== null ? `  locked_vm ${x.lockedVm}` : ''}${x.line !== undefined ? `  L${x.line}` : ''}`
      : '(no call)';
  for (const r of c.rows) {
    if (!r.differs.length) continue;
    const a = r.calls[ka] ?? null;
    const b = r.calls[kb] ?? null;
    const what = a && b ? `differs in ${r.differs.join(', ')}` : `only in ${a ? ka : kb}`;
    lines.push(`#${r.index + 1}${r.index === c.firstDivergence ? ' (first divergence)' : ''} ${what}`);
    if (a) lines.push(`  ${ka.padEnd(9)} ${side(a)}`);
    if (b) lines.push(`  ${kb.padEnd(9)} ${side(b)}`);
  }
  if (c.omitted > 0) lines.push(`(${c.omitted} aligned rows not listed)`);
  return lines;
}

/**
 * When the scenario pins its kernel in createHost({ kernel }), both runs used that profile: identical
 * results say nothing about the profiles. The verdict says so instead of "the profiles agree".
 */
export function pinnedVerdict(c: ProfileComparison): string | null {
  const pins = Object.values(c.summaries)
    .map((s) => s.pinned)
    .filter((p): p is { kernel: string; line?: number } => !!p);
  if (!pins.length) return null;
  const p = pins[0]!;
  const kernels = [...new Set(pins.map((x) => x.kernel))].join(' / ');
  return `the scenario pins its kernel (createHost({ kernel: '${p.kernel}' })${p.line ? ` at line ${p.line}` : ''}): both runs used ${kernels}, so the profiles were not compared — remove the pin to compare them`;
}
