/**
 * Snapshot infrastructure: models no kernel file. The comparison of two states of a run or two imported
 * snapshots (product.md workflow 6: "compare two snapshots (what changed)"): one line per added, removed
 * or changed object, the fields that changed, and the TCE ranges of a window that were mapped, cleared
 * or rewritten.
 */
import { jsonSafe } from './snapshot-format.ts';
import type { Run, WindowState, WorldState } from './state.ts';

export interface SnapshotDiff {
  lines: string[];
}

/** at most this many TCE range lines under one changed window */
export const DIFF_MAX_RANGES = 20;

/**
 * What changed from state a to state b, one line per added (+), removed (-) or changed (~) object.
 * Under a changed object, indented lines name each field that changed ("  locked_vm: 0 → 128"); under
 * a changed window, the TCE ranges that were mapped, cleared or rewritten.
 */
export function diffStates(a: WorldState, b: WorldState): SnapshotDiff {
  const lines: string[] = [];
  const key = <T>(xs: T[], k: (x: T) => string): Map<string, T> => new Map(xs.map((x) => [k(x), x]));
  const text = (x: unknown): string => JSON.stringify(jsonSafe(x));
  const same = (x: unknown, y: unknown): boolean => text(x) === text(y);
  const cmp = <T>(
    what: string,
    xs: T[],
    ys: T[],
    k: (x: T) => string,
    show: (x: T) => string,
    detail?: (x: T, y: T) => string[],
  ): void => {
    const A = key(xs, k);
    const B = key(ys, k);
    for (const [id, x] of A) {
      const y = B.get(id);
      if (!y) lines.push(`- ${what} ${show(x)}`);
      else if (!same(x, y)) {
        lines.push(`~ ${what} ${show(x)} → ${show(y)}`);
        if (detail) lines.push(...detail(x, y).map((l) => `    ${l}`));
      }
    }
    for (const [id, y] of B) if (!A.has(id)) lines.push(`+ ${what} ${show(y)}`);
  };
  /** the top-level (and one nested level of) fields that differ, except those named in skip */
  const fields = (x: object, y: object, skip: string[] = []): string[] => {
    const out: string[] = [];
    const X = jsonSafe(x) as Record<string, unknown>;
    const Y = jsonSafe(y) as Record<string, unknown>;
    for (const f of new Set([...Object.keys(X), ...Object.keys(Y)])) {
      if (skip.includes(f) || same(X[f], Y[f])) continue;
      const xv = X[f];
      const yv = Y[f];
      if (
        xv &&
        yv &&
        typeof xv === 'object' &&
        typeof yv === 'object' &&
        !Array.isArray(xv) &&
        !Array.isArray(yv)
      ) {
        for (const g of new Set([...Object.keys(xv), ...Object.keys(yv)])) {
          const xg = (xv as Record<string, unknown>)[g];
          const yg = (yv as Record<string, unknown>)[g];
          if (!same(xg, yg)) out.push(`${f}.${g}: ${fieldText(xg)} → ${fieldText(yg)}`);
        }
      } else out.push(`${f}: ${fieldText(xv)} → ${fieldText(yv)}`);
    }
    return out;
  };
  cmp(
    'process',
    a.processes,
    b.processes,
    (p) => String(p.pid),
    (p) => `${p.pid} (${p.name}) locked_vm ${p.lockedVm}${p.exited ? ' exited' : ''}`,
    (x, y) => fields(x, y),
  );
  cmp(
    'region',
    a.regions,
    b.regions,
    (r) => `${r.pid}:${r.id}`,
    (r) => `pid ${r.pid} 0x${r.ua.toString(16)}+0x${r.size.toString(16)} used ${r.used} mapped ${r.mapped}`,
    (x, y) => fields(x, y, ['used', 'mapped']),
  );
  cmp(
    'group',
    a.groups,
    b.groups,
    (g) => String(g.id),
    (g) => `${g.name} container ${g.container ?? '-'} owner ${g.owner}`,
  );
  cmp(
    'container',
    a.containers,
    b.containers,
    (c) => String(c.id),
    (c) =>
      `${c.id} ${c.iommu}${c.enabled ? ' enabled' : ''}${c.defaultWindowPending ? ' default-window-pending' : ''} groups [${c.groups.join(',')}]`,
    (x, y) => fields(x, y, ['iommu', 'enabled', 'defaultWindowPending', 'groups']),
  );
  cmp(
    'window',
    a.windows,
    b.windows,
    (w) => `${w.container}:${w.slot}:${w.table}`,
    (w) => {
      const valid = w.runs.reduce((n, r) => n + r.count, 0);
      return `container ${w.container} slot ${w.slot} 0x${w.startAddr.toString(16)} 2^${w.pageShift} × ${w.entries}: ${valid} valid TCEs in ${w.runs.length} runs`;
    },
    (x, y) => [...fields(x, y, ['runs']), ...tceRangeLines(x, y)],
  );
  return { lines };
}

function fieldText(v: unknown): string {
  if (v === undefined) return '(none)';
  if (v === null) return '-';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** the TCE ranges of a window whose entries differ between a and b: "mapped", "cleared" or "rewritten" */
export function tceRangeLines(a: WindowState, b: WindowState, max = DIFF_MAX_RANGES): string[] {
  type Kind = 'mapped' | 'cleared' | 'rewritten';
  const cuts = new Set<number>();
  for (const r of [...a.runs, ...b.runs]) {
    cuts.add(r.start);
    cuts.add(r.start + r.count);
  }
  const points = [...cuts].sort((x, y) => x - y);
  const cover = (runs: Run[]): ((at: number) => Run | undefined) => {
    let i = 0;
    return (at) => {
      while (i < runs.length && runs[i]!.start + runs[i]!.count <= at) i++;
      const r = runs[i];
      return r && r.start <= at ? r : undefined;
    };
  };
  const inA = cover(a.runs);
  const inB = cover(b.runs);
  const ranges: { from: number; to: number; kind: Kind }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i]!;
    const to = points[i + 1]!;
    const x = inA(from);
    const y = inB(from);
    let kind: Kind | null = null;
    if (x && !y) kind = 'cleared';
    else if (!x && y) kind = 'mapped';
    else if (x && y) {
      const off = (r: Run): bigint => BigInt(from - r.start) * BigInt(r.step);
      const equal =
        x.value + off(x) === y.value + off(y) &&
        x.ua + off(x) === y.ua + off(y) &&
        (to - from === 1 || x.step === y.step);
      if (!equal) kind = 'rewritten';
    }
    if (!kind) continue;
    const last = ranges[ranges.length - 1];
    if (last && last.kind === kind && last.to === from) last.to = to;
    else ranges.push({ from, to, kind });
  }
  const pageSize = 1n << BigInt(b.pageShift);
  const startAddr = b.startAddr;
  const out = ranges.slice(0, max).map((r) => {
    const n = r.to - r.from;
    const lo = startAddr + BigInt(r.from) * pageSize;
    const hi = startAddr + BigInt(r.to) * pageSize - 1n;
    return `TCE ${n === 1 ? `${r.from}` : `${r.from}..${r.to - 1}`} (iova 0x${lo.toString(16)}..0x${hi.toString(16)}, ${n} ${n === 1 ? 'entry' : 'entries'}): ${r.kind}`;
  });
  if (ranges.length > max) out.push(`… and ${ranges.length - max} more changed ranges`);
  return out;
}
