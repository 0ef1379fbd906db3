/**
 * What the inspector sees: the engine's events and WorldState turned into the contract's wire shapes
 * (common/contract.ts): EventRow, StateView, EntryRow, LockedVmSeries, and a window's CSV. Pure functions,
 * no Node or Electron: bigints become "0x…" strings here and nowhere else.
 *
 * Events of imported snapshots arrive JSON-safe (bigints already "0x…" strings, engine/snapshot.ts
 * jsonSafe); every function here accepts both forms.
 */
import {
  KVM_ROWS_MAX,
  type EntryRow,
  type EventRow,
  type LockedVmSeries,
  type ProcessRow,
  type StateView,
  type Wire,
  type WindowRow,
} from '../common/contract.ts';
import { formatRet } from '../engine/errno.ts';
import { CONTRIBUTOR_KEYS } from '../common/contributors.ts';
import { hcallBy } from '../engine/report.ts';
import { formatArgs, hex } from '../common/format.ts';
import { EventStore } from '../engine/event-store.ts';
import { Downsampler, pushPoint } from './downsample.ts';
import type { EventCite, EventList, LockedVmBreakdown, RunEvent } from '../engine/events.ts';
import { docPath } from '../engine/cite.ts';
import {
  regionOf,
  validEntries,
  type ContainerState,
  type Entry,
  type GroupState,
  type HostState,
  type ProcessState,
  type RegionState,
  type WindowState,
  type WorldState,
} from '../engine/state.ts';

/** a bigint field that may have travelled as a hex (or decimal) string */
export const big = (v: unknown): bigint =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : BigInt(String(v));

/**
 * An imported capture's scenario (`dmawb import`) labels each assertion "file:line …" with the capture
 * line; its expected value is what the real host recorded, its actual value what the emulated host gave.
 */
const CAPTURE_LABEL = /^(\S+:\d+) /;
function recordedOf(
  label: string,
  expected: string,
  actual: string,
  ok: boolean,
): { recorded?: { at: string; recorded: string; emulated: string; differs: boolean } } {
  const m = CAPTURE_LABEL.exec(label);
  if (!m) return {};
  return { recorded: { at: m[1]!, recorded: expected, emulated: actual, differs: !ok } };
}

/** one compact row of the event log */
/** an event's cite with the path of its reference section (docs/kernel/), for the detail pane's link */
function citeOf(c: EventCite | undefined): { cite?: EventRow['cite'] } {
  if (!c) return {};
  const doc = docPath(c);
  return { cite: { file: c.file, fn: c.fn, ...(doc ? { doc } : {}) } };
}

export function toEventRow(e: RunEvent): EventRow {
  const base = { seq: e.seq, ...(e.line !== undefined ? { line: e.line } : {}) };
  switch (e.kind) {
    case 'ioctl':
      return {
        ...base,
        kind: 'ioctl',
        pid: e.pid,
        op: e.op,
        args: formatArgs(e.args),
        result: formatRet(e.ret, e.errno),
        ...(e.errno ? { errno: e.errno } : {}),
        failed: e.ret < 0,
        lockedVm: { ...e.lockedVm },
        explain: e.explain,
        ...citeOf(e.cite),
      };
    case 'syscall':
      return {
        ...base,
        kind: 'syscall',
        pid: e.pid,
        op: e.op,
        args: formatArgs(e.args),
        result: formatRet(e.ret, e.errno),
        ...(e.errno ? { errno: e.errno } : {}),
        failed: e.ret < 0,
        lockedVm: { ...e.lockedVm },
        explain: e.explain,
        ...citeOf(e.cite),
      };
    case 'hcall':
      // names the hypercall, its LIOBN (in args) and who answered: KVM real/virtual mode or QEMU (§13.7)
      return {
        ...base,
        kind: 'hcall',
        pid: e.pid,
        op: e.op,
        args: formatArgs(e.args),
        result: `${e.name} [${hcallBy(e)}]${e.value !== undefined ? ` 0x${e.value.toString(16)}` : ''}`,
        failed: e.ret !== 0 && e.ret !== 9999,
        lockedVm: { ...e.lockedVm },
        explain: e.explain,
        ...citeOf(e.cite),
      };
    case 'action':
      return {
        ...base,
        kind: 'action',
        pid: e.pid,
        op: e.op,
        args: formatArgs(e.args),
        result: '',
        failed: false,
        lockedVm: { ...e.lockedVm },
        explain: e.explain,
        ...citeOf(e.cite),
      };
    case 'expect':
      return {
        ...base,
        kind: 'expect',
        op: 'expect',
        args: e.label,
        result: e.ok ? 'ok' : 'FAILED',
        failed: !e.ok,
        lockedVm: {},
        explain: e.ok ? `got ${e.actual}` : `expected ${e.expected}, got ${e.actual}`,
        ...recordedOf(e.label, e.expected, e.actual, e.ok),
      };
    case 'log':
      return {
        ...base,
        kind: 'log',
        op: 'log',
        args: '',
        result: '',
        failed: false,
        lockedVm: {},
        explain: e.text,
      };
  }
}

/**
 * Event rows with `memlockPages` (RLIMIT_MEMLOCK in pages of each process whose limit the event set or
 * changed), so a streaming view can draw the limit line before the run ends. Follows the host and
 * process deltas the way lockedVmSeries does; feed it every event in order (skip() for events whose row
 * is not needed).
 */
export class EventRows {
  private readonly pageSizeOfHost = new Map<number, number>();
  private readonly hostOfPid = new Map<number, number>();
  private readonly pagesOfPid = new Map<number, number>();

  /** follows the event's deltas; returns the limits it changed, or null */
  skip(e: RunEvent): Record<string, number> | null {
    if (e.kind === 'expect' || e.kind === 'log') return null;
    for (const h of e.deltas?.hosts ?? []) this.pageSizeOfHost.set(h.id, h.pageSize);
    let out: Record<string, number> | null = null;
    for (const p of e.deltas?.processes ?? []) {
      this.hostOfPid.set(p.pid, p.host);
      const shift = BigInt(Math.log2(pageSizeOr(this.pageSizeOfHost.get(p.host))));
      const pages = Number(big(p.memlock) >> shift);
      if (this.pagesOfPid.get(p.pid) === pages) continue;
      this.pagesOfPid.set(p.pid, pages);
      (out ??= {})[String(p.pid)] = pages;
    }
    return out;
  }

  row(e: RunEvent): EventRow {
    const limits = this.skip(e);
    const row = toEventRow(e);
    return limits ? { ...row, memlockPages: limits } : row;
  }
}

export function validCount(w: WindowState): number {
  let n = 0;
  for (const r of w.runs) n += r.count;
  return n;
}

export function toWindowRow(w: WindowState): WindowRow {
  return {
    container: w.container,
    slot: w.slot,
    table: w.table,
    startAddr: hex(w.startAddr),
    pageShift: w.pageShift,
    size: hex(w.size),
    levels: w.levels,
    entries: w.entries,
    valid: validCount(w),
    borrowed: w.borrowed,
  };
}

/**
 * The contract's state rows (common/contract.ts) restate engine fields because common/ may not name
 * engine types. These checks derive each shared field's wire form from the engine's state (Wire<T>: bigint
 * → hex string) and require the contract to say exactly that, so an engine field whose type changes is a
 * compile error here until the contract follows. Fields only the view has (valid counts, breakdown as a
 * plain record, …) are left out.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;
type Shared<E, R, K extends keyof E & keyof R> = Same<Wire<Pick<E, K>>, Pick<R, K>>;
export type WireRowChecks = [
  Check<Same<Wire<HostState>, StateView['hosts'][number]>>,
  Check<Shared<ProcessState, ProcessRow, 'pid' | 'name' | 'host' | 'lockedVm' | 'memlock' | 'exited'>>,
  Check<
    Shared<
      RegionState,
      StateView['regions'][number],
      'pid' | 'id' | 'ua' | 'size' | 'entries' | 'used' | 'mapped' | 'pageShift' | 'containers'
    >
  >,
  Check<Shared<GroupState, StateView['groups'][number], 'id' | 'name' | 'phb' | 'container' | 'owner'>>,
  Check<
    Shared<
      ContainerState,
      StateView['containers'][number],
      'id' | 'pid' | 'iommu' | 'enabled' | 'defaultWindowPending' | 'groups' | 'mm' | 'fdOpen'
    >
  >,
  Check<
    Shared<
      WindowState,
      WindowRow,
      'container' | 'slot' | 'table' | 'startAddr' | 'pageShift' | 'size' | 'levels' | 'entries' | 'borrowed'
    >
  >,
];

/** the state after an event, without TCE contents (windows carry their valid counts) */
export function toStateView(s: WorldState): StateView {
  return {
    seq: s.seq,
    hosts: s.hosts.map((h) => ({ ...h })),
    processes: s.processes.map((p) => ({
      pid: p.pid,
      name: p.name,
      host: p.host,
      lockedVm: p.lockedVm,
      memlock: hex(p.memlock),
      exited: p.exited,
      breakdown: { ...p.breakdown } as unknown as Record<string, number>,
    })),
    regions: s.regions.map((r) => ({
      pid: r.pid,
      id: r.id,
      ua: hex(r.ua),
      size: hex(r.size),
      entries: r.entries,
      used: r.used,
      mapped: r.mapped,
      ...(r.pageShift !== undefined ? { pageShift: r.pageShift } : {}),
      containers: [...r.containers],
    })),
    groups: s.groups.map((g) => ({
      id: g.id,
      name: g.name,
      phb: g.phb,
      container: g.container,
      owner: g.owner,
    })),
    containers: s.containers.map((c) => ({
      id: c.id,
      pid: c.pid,
      iommu: c.iommu,
      enabled: c.enabled,
      defaultWindowPending: c.defaultWindowPending,
      groups: [...c.groups],
      mm: c.mm,
      fdOpen: c.fdOpen,
    })),
    windows: s.windows.map(toWindowRow),
    ...(s.kvmTables?.length
      ? {
          kvmTables: s.kvmTables.map((t) => ({
            id: t.id,
            pid: t.pid,
            vm: t.vm,
            liobn: hex(t.liobn),
            pageShift: t.pageShift,
            startAddr: hex(t.offset << BigInt(t.pageShift)),
            entries: t.size.toString(),
            chargedPages: t.chargedPages,
            links: t.links.map((l) => ({ ...l })),
            valid: t.runs.reduce((n, r) => n + r.count, 0),
            runs: t.runs
              .slice(0, KVM_ROWS_MAX)
              .map((r) => ({ start: r.start, count: r.count, value: hex(r.value), step: r.step })),
          })),
        }
      : {}),
  };
}

/** the process whose pre-registered regions back a container's TCEs (its mm, else its owner) */
export function regionPidOf(s: WorldState, container: number): number | null {
  const c = s.containers.find((x) => x.id === container);
  return c ? (c.mm ?? c.pid) : null;
}

export function toEntryRow(s: WorldState, pid: number | null, e: Entry): EntryRow {
  const region = e.ua === 0n ? undefined : regionOf(s, pid, e.ua);
  return {
    index: e.index,
    iova: hex(e.iova),
    value: hex(e.value),
    hpa: hex(e.hpa),
    perm: e.perm,
    ua: hex(e.ua),
    region: region ? region.id : null,
  };
}

/** the contributors in stacking order (common/contributors.ts) */
export const CONTRIBUTORS = CONTRIBUTOR_KEYS;

/** what lockedVmSeries reads of an event: columns of an EventStore, or the event itself */
interface SeriesEvent {
  kind: string | undefined;
  seq: number;
  pid?: number | undefined;
  ret?: number | undefined;
  /** the refused charge of an ENOMEM call (only refusals are materialised for it) */
  memlock?: { pid: number; lockedVm: number; charge: number; limitPages: number } | undefined;
  ok?: boolean;
  lockedVm?: Record<string, number>;
  breakdown?: Record<string, LockedVmBreakdown> | undefined;
  deltas?: {
    hosts?: { id: number; pageSize: number }[];
    processes?: { pid: number; host: number; memlock: unknown }[];
  };
}

/** the events as lockedVmSeries reads them; from a store, only host/process and expect events materialise */
function* seriesEvents(events: EventList): Generator<SeriesEvent> {
  if (!(events instanceof EventStore)) {
    yield* events as Iterable<SeriesEvent>;
    return;
  }
  const structural = new Set(events.hostOrProcessEventsBefore(events.length));
  for (let i = 0; i < events.length; i++) {
    const kind = events.kindAt(i);
    if (structural.has(i) || kind === 'expect' || kind === undefined) {
      yield events.at(i) as SeriesEvent;
      continue;
    }
    // an ENOMEM may be a refused RLIMIT_MEMLOCK charge: its facts are on the event (few: materialise it)
    if ((kind === 'ioctl' || kind === 'syscall') && events.retAt(i) === -12) {
      yield events.at(i) as SeriesEvent;
      continue;
    }
    const a = events.accountingAt(i);
    yield {
      kind,
      seq: events.seqAt(i),
      pid: events.pidAt(i),
      ret: events.retAt(i),
      ...(a ? { lockedVm: a.lockedVm, breakdown: a.breakdown } : {}),
    };
  }
}

/**
 * locked_vm of one process over the run, stacked by contributor, with RLIMIT_MEMLOCK in pages (followed
 * through the process deltas, so setrlimit moves the line) and the seqs of its failed calls and failed
 * expectations (an expectation belongs to the process of the call before it). One point per event that
 * reports it, except inside a stretch where nothing changes: there only the stretch's two ends (and its
 * failures) are kept, which draws the same lines and keeps a million-call run's series small. Without
 * events (an imported snapshot without its log), one point from the state.
 */
export function lockedVmSeries(
  events: EventList,
  pid: number,
  fallback: WorldState | null,
  buckets?: number,
): LockedVmSeries | null {
  const out: LockedVmSeries = { pid, limit: [], seq: [], total: [], stacks: {}, failed: [], refusals: [] };
  for (const c of CONTRIBUTORS) out.stacks[c] = [];
  const pageShiftOfHost = new Map<number, number>();
  const hostOfPid = new Map<number, number>();
  let memlock: bigint | null = null;
  let lastPid: number | null = null;
  let seen = false;
  /** the last point seen, kept only if the next one differs (the end of a flat stretch) */
  let pending: { seq: number; total: number; limit: number; b: LockedVmBreakdown | undefined } | null = null;
  let prevKey = '';
  const failed = new Set<number>();
  const pageShift = (): number => Math.log2(pageSizeOr(pageShiftOfHost.get(hostOfPid.get(pid) ?? -1)));
  // with buckets, the points go through a Downsampler (host/downsample.ts) on their way out
  const lastIndex = events.length - 1;
  const maxSeq =
    lastIndex < 0 ? 0 : events instanceof EventStore ? events.seqAt(lastIndex) : events.at(lastIndex)!.seq;
  const thin =
    buckets === undefined ? null : new Downsampler(maxSeq, buckets, (p) => pushPoint(out, CONTRIBUTORS, p));
  let failedPoint = false;
  const emit = (p: { seq: number; total: number; limit: number; b: LockedVmBreakdown | undefined }): void => {
    const point = { ...p, b: p.b as unknown as Record<string, number> | undefined, failed: failedPoint };
    if (thin) thin.add(point);
    else pushPoint(out, CONTRIBUTORS, point);
  };
  for (const e of seriesEvents(events)) {
    if (e.kind !== 'expect' && e.kind !== 'log') {
      for (const h of e.deltas?.hosts ?? []) pageShiftOfHost.set(h.id, h.pageSize);
      for (const p of e.deltas?.processes ?? []) {
        hostOfPid.set(p.pid, p.host);
        if (p.pid === pid) memlock = big(p.memlock);
      }
      lastPid = e.pid ?? null;
      const m = e.memlock;
      if (m && m.pid === pid && (e.ret ?? 0) < 0)
        out.refusals!.push({ seq: e.seq, lockedVm: m.lockedVm, charge: m.charge, limit: m.limitPages });
      const isFailed = (e.kind === 'ioctl' || e.kind === 'syscall') && e.pid === pid && (e.ret ?? 0) < 0;
      if (isFailed) {
        out.failed.push(e.seq);
        failed.add(e.seq);
      }
      const lv = e.lockedVm?.[pid];
      if (lv === undefined) continue;
      const b = e.breakdown?.[pid];
      const limit = memlock === null ? 0 : Number(memlock >> BigInt(pageShift()));
      const key = `${lv},${limit}${b ? CONTRIBUTORS.map((c) => ',' + b[c]).join('') : ''}`;
      const point = { seq: e.seq, total: lv, limit, b };
      if (!seen || key !== prevKey || isFailed) {
        failedPoint = false;
        if (pending) emit(pending);
        failedPoint = isFailed;
        emit(point);
        pending = null;
      } else pending = point;
      seen = true;
      prevKey = key;
    } else if (e.kind === 'expect' && !e.ok && lastPid === pid) {
      out.failed.push(e.seq);
    }
  }
  failedPoint = false;
  if (pending) emit(pending);
  if (thin) {
    thin.flush();
    out.downsampled = { buckets: thin.buckets, points: thin.points };
  }
  if (seen) return out;
  const p = fallback?.processes.find((x) => x.pid === pid);
  if (!p || !fallback) return null;
  const ps = fallback.hosts.find((h) => h.id === p.host)?.pageSize ?? 65536;
  out.seq.push(fallback.seq);
  out.total.push(p.lockedVm);
  out.limit.push(Number(p.memlock >> BigInt(Math.log2(ps))));
  for (const c of CONTRIBUTORS) out.stacks[c]!.push(p.breakdown[c]);
  return out;
}

function pageSizeOr(v: number | undefined): number {
  return v ?? 65536;
}

const PERM = ['', 'R', 'W', 'RW'];

/** largest number of rows export.csv writes (about 90 bytes each); larger windows: export a snapshot */
export const CSV_MAX_ROWS = 2_000_000;

/** a window's valid entries as CSV: index, iova, tce, hpa, perm, ua, region */
export function windowCsv(s: WorldState, w: WindowState): string {
  const total = validCount(w);
  if (total > CSV_MAX_ROWS) {
    throw new Error(
      `the window holds ${total} valid entries, more than the ${CSV_MAX_ROWS} a CSV export writes; export a snapshot instead (it stores them as runs)`,
    );
  }
  const pid = regionPidOf(s, w.container);
  const lines = ['index,iova,tce,hpa,perm,ua,region'];
  const PAGE = 65536;
  for (let from = 0; from < total; from += PAGE) {
    for (const e of validEntries(w, from, PAGE).rows) {
      const r = e.ua === 0n ? undefined : regionOf(s, pid, e.ua);
      lines.push(
        `${e.index},${hex(e.iova)},${hex(e.value)},${hex(e.hpa)},${PERM[e.perm]},${e.ua === 0n ? '' : hex(e.ua)},${r ? r.id : ''}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
