/**
 * The inspectable state of the emulated world at one point of a run: hosts, processes with their
 * locked_vm breakdown, pre-registered regions, groups, containers and windows with their TCE contents as
 * maximal linear runs. The same model is produced three ways:
 *   - captureState(): from the live kernels (end of a run, the command line's --snapshot);
 *   - Timeline.stateAt(seq): by folding the event deltas (time travel in the workbench);
 *   - parseSnapshot(): from a snapshot file (snapshot.ts).
 * so the inspector, the reports and the snapshot writer work on one shape.
 */
import { EventStore } from './event-store.ts';
import type {
  ContainerDelta,
  EventList,
  GroupDelta,
  KvmTableDelta,
  LockedVmBreakdown,
  RegionDelta,
  RunEvent,
  TceRun,
  WindowDelta,
} from './events.ts';
import type { Kernel } from './kernel.ts';
import { kvmOfHost } from './kvm/kvm-main.ts';
import { emptyBreakdown } from './memory.ts';
import { CHUNK_SIZE, type TceTable } from './tce-table.ts';

/** valid TCEs [start, start+count) holding value + i*step and ua + i*step (ua 0n: none, v1) */
export interface Run {
  start: number;
  count: number;
  value: bigint;
  ua: bigint;
  step: number;
}

/** a window as its event delta describes it, plus its contents */
export type WindowState = { container: number; slot: number; table: number } & NonNullable<
  WindowDelta['window']
> & { runs: Run[] };

export interface ProcessState {
  pid: number;
  host: number;
  name: string;
  memlock: bigint;
  capIpcLock: boolean;
  exited: boolean;
  lockedVm: number;
  breakdown: LockedVmBreakdown;
}

/** a region as its event delta describes it */
export type RegionState = { pid: number; id: number } & NonNullable<RegionDelta['region']>;

export type ContainerState = NonNullable<ContainerDelta['state']> & { id: number };
export type GroupState = GroupDelta;

export interface HostState {
  id: number;
  kernel: string;
  pageSize: number;
}

/** a KVM TCE table (kernel-model.md §13.1) with its guest-visible entries as runs (ua 0n) */
export type KvmTableState = { id: number; pid: number; vm: number } & NonNullable<KvmTableDelta['table']> & {
    runs: Run[];
  };

export interface WorldState {
  /** the event this state follows (0: before the first event) */
  seq: number;
  hosts: HostState[];
  processes: ProcessState[];
  regions: RegionState[];
  groups: GroupState[];
  containers: ContainerState[];
  windows: WindowState[];
  /** KVM TCE tables (guest views, by LIOBN); absent when the run used no KVM */
  kvmTables?: KvmTableState[];
}

// ------------------------------------------------------------------------------------------------
// runs

/** merges adjacent runs that continue each other linearly (the normal form of a window's contents) */
export function normalizeRuns(runs: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of runs) {
    if (r.count <= 0) continue;
    const last = out[out.length - 1];
    if (last && joins(last, r)) out[out.length - 1] = { ...last, count: last.count + r.count };
    else out.push({ ...r });
  }
  return out;
}

/** two runs that continue each other linearly can be one */
function joins(a: Run, b: Run): boolean {
  return (
    a.start + a.count === b.start &&
    a.step === b.step &&
    a.value + BigInt(a.count * a.step) === b.value &&
    ((a.ua === 0n && b.ua === 0n) || (a.ua !== 0n && a.ua + BigInt(a.count * a.step) === b.ua))
  );
}

/** index of the first run ending after `index` (binary search over sorted, disjoint runs) */
function firstEndingAfter(runs: Run[], index: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (r.start + r.count <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Applies one event's TCE run (a write or a clear) to a window's runs, in place: the runs overlapping
 * the range are replaced by their uncovered remainders and the new run, and only the neighbours of the
 * change are merged. Run objects themselves are never mutated, so a shallow copy of the array is a
 * snapshot (Timeline checkpoints rely on that). O(log R) plus one splice.
 */
export function applyRun(
  runs: Run[],
  t: Pick<TceRun, 'start' | 'count' | 'step'> & { value: number | bigint; ua: number | bigint },
): Run[] {
  const start = t.start;
  const end = t.start + t.count;
  const i = firstEndingAfter(runs, start);
  let j = i;
  while (j < runs.length && runs[j]!.start < end) j++;
  const pieces: Run[] = [];
  const first = runs[i];
  if (first && i < j && first.start < start) pieces.push({ ...first, count: start - first.start });
  if (t.value) pieces.push({ start, count: t.count, value: BigInt(t.value), ua: BigInt(t.ua), step: t.step });
  const last = runs[j - 1];
  if (last && i < j && last.start + last.count > end) {
    const skip = end - last.start;
    pieces.push({
      start: end,
      count: last.start + last.count - end,
      step: last.step,
      value: last.value + BigInt(skip * last.step),
      ua: last.ua === 0n ? 0n : last.ua + BigInt(skip * last.step),
    });
  }
  runs.splice(i, j - i, ...pieces);
  // merge across the edges of what changed
  let k = Math.max(0, i - 1);
  let stop = i + pieces.length; // the run just after the new pieces
  while (k < stop && k + 1 < runs.length) {
    const a = runs[k]!;
    const b = runs[k + 1]!;
    if (joins(a, b)) {
      runs.splice(k, 2, { ...a, count: a.count + b.count });
      stop--;
    } else k++;
  }
  return runs;
}

/** the runs of a live table, scanning only allocated chunks */
export function runsOfTable(t: TceTable): Run[] {
  const runs: Run[] = [];
  const ps = t.pageSize;
  let cur: { start: number; count: number; value: number; ua: number } | null = null;
  const flush = (): void => {
    if (cur)
      runs.push({
        start: cur.start,
        count: cur.count,
        value: BigInt(cur.value),
        ua: BigInt(cur.ua),
        step: ps,
      });
    cur = null;
  };
  for (const [base, chunk] of t.allocatedChunks()) {
    if (chunk.valid === 0) continue;
    const tce = chunk.tce;
    const uas = chunk.ua;
    for (let o = 0; o < CHUNK_SIZE; o++) {
      const v = tce[o]!;
      if (v === 0) {
        flush();
        continue;
      }
      const idx = base + o;
      const u = uas[o]!;
      const c = cur as { start: number; count: number; value: number; ua: number } | null;
      if (
        c &&
        c.start + c.count === idx &&
        c.value + c.count * ps === v &&
        ((c.ua === 0 && u === 0) || (c.ua !== 0 && c.ua + c.count * ps === u))
      ) {
        c.count++;
      } else {
        flush();
        cur = { start: idx, count: 1, value: v, ua: u };
      }
    }
    // runs continue across chunk boundaries only when the next chunk starts where this one ended
  }
  flush();
  return normalizeRuns(runs);
}

// ------------------------------------------------------------------------------------------------
// capture from the live kernels

export function captureState(kernels: Kernel[], seq: number): WorldState {
  const s: WorldState = {
    seq,
    hosts: [],
    processes: [],
    regions: [],
    groups: [],
    containers: [],
    windows: [],
  };
  for (const k of kernels) {
    s.hosts.push({ id: k.hostId, kernel: k.profile.name, pageSize: k.pageSize });
    for (const p of k.procs) {
      s.processes.push({
        pid: p.pid,
        host: k.hostId,
        name: p.name,
        memlock: p.memlock,
        capIpcLock: p.capIpcLock,
        exited: p.exited,
        lockedVm: p.mm.lockedVm,
        breakdown: { ...p.mm.breakdown },
      });
      for (const r of [...p.mm.regions].reverse()) {
        s.regions.push({
          pid: p.pid,
          id: r.id,
          ua: BigInt(r.ua),
          size: BigInt(r.size),
          entries: r.entries,
          used: r.used,
          mapped: r.mapped,
          ...(r.pageShift !== undefined ? { pageShift: r.pageShift } : {}),
          containers: [...r.containers],
        });
      }
    }
    for (const g of k.groups)
      s.groups.push({ id: g.id, name: g.name, phb: g.phb.id, container: g.container, owner: g.owner });
    for (const c of k.containers) {
      if (c.dead) continue;
      const owner = k.procs.find((q) => q.fds.some((f) => f.kind === 'container' && f.container === c));
      s.containers.push({
        id: c.id,
        pid: owner?.pid ?? null,
        fdOpen: c.files > 0,
        iommu: c.driver ? (c.v2 ? 'v2' : 'v1') : 'none',
        enabled: c.enabled,
        defaultWindowPending: c.defWindowPending,
        groups: c.groups.map((g) => g.id),
        mm: c.mm ? c.mm.pid : null,
      });
      c.tables.forEach((t, slot) => {
        if (!t) return;
        s.windows.push({
          container: c.id,
          slot,
          table: t.id,
          startAddr: t.startAddr,
          pageShift: t.pageShift,
          size: t.windowSize,
          levels: t.levels,
          entries: t.size,
          offset: t.offset,
          borrowed: t.borrowed,
          runs: runsOfTable(t),
        });
      });
    }
    const kvm = kvmOfHost(k);
    for (const vm of kvm?.vms ?? []) {
      for (const t of vm.tables) {
        const step = 2 ** t.pageShift; // the normal form the event deltas use (changes.ts kvmTce)
        const runs = normalizeRuns(
          [...t.entries.keys()]
            .sort((a, b) => a - b)
            .map((i) => ({ start: i, count: 1, value: t.entries.get(i)!, ua: 0n, step })),
        );
        (s.kvmTables ??= []).push({
          id: t.id,
          pid: vm.proc.pid,
          vm: vm.id,
          liobn: t.liobn,
          pageShift: t.pageShift,
          offset: t.offset,
          size: t.size,
          chargedPages: t.chargedPages,
          links: t.links.map((l) => ({ container: l.container.id, slot: l.slot })),
          runs,
        });
      }
    }
  }
  s.kvmTables?.sort((a, b) => a.id - b.id);
  sortState(s);
  return s;
}

function sortState(s: WorldState): void {
  s.processes.sort((a, b) => a.pid - b.pid);
  s.regions.sort((a, b) => a.pid - b.pid || a.id - b.id);
  s.groups.sort((a, b) => a.id - b.id);
  s.containers.sort((a, b) => a.id - b.id);
  s.windows.sort((a, b) => a.container - b.container || a.slot - b.slot);
}

// ------------------------------------------------------------------------------------------------
// fold of the event log (time travel)

function cloneState(s: WorldState): WorldState {
  return {
    seq: s.seq,
    hosts: s.hosts.map((h) => ({ ...h })),
    processes: s.processes.map((p) => ({ ...p, breakdown: { ...p.breakdown } })),
    regions: s.regions.map((r) => ({ ...r, containers: [...r.containers] })),
    groups: s.groups.map((g) => ({ ...g })),
    containers: s.containers.map((c) => ({ ...c, groups: [...c.groups] })),
    windows: s.windows.map((w) => ({ ...w, runs: w.runs.slice() })), // runs are spliced in place; Run objects never change
    ...(s.kvmTables
      ? {
          kvmTables: s.kvmTables.map((t) => ({
            ...t,
            links: t.links.map((l) => ({ ...l })),
            runs: t.runs.slice(),
          })),
        }
      : {}),
  };
}

export function emptyState(): WorldState {
  return { seq: 0, hosts: [], processes: [], regions: [], groups: [], containers: [], windows: [] };
}

/** applies one event's deltas to a state (in place) */
export function applyEvent(s: WorldState, e: RunEvent): void {
  s.seq = e.seq;
  if (e.kind === 'expect' || e.kind === 'log') return;
  const d = e.deltas;
  for (const h of d.hosts ?? []) if (!s.hosts.some((x) => x.id === h.id)) s.hosts.push({ ...h });
  for (const p of d.processes ?? []) {
    const cur = s.processes.find((x) => x.pid === p.pid);
    if (cur) Object.assign(cur, p);
    else s.processes.push({ ...p, lockedVm: 0, breakdown: emptyBreakdown() });
  }
  for (const [pid, lv] of Object.entries(e.lockedVm)) {
    const cur = s.processes.find((x) => x.pid === Number(pid));
    if (cur) {
      cur.lockedVm = lv;
      cur.breakdown = { ...(e.breakdown[pid] ?? cur.breakdown) };
    }
  }
  for (const r of d.regions ?? []) {
    const i = s.regions.findIndex((x) => x.pid === r.pid && x.id === r.id);
    if (r.region === null) {
      if (i >= 0) s.regions.splice(i, 1);
    } else {
      const v: RegionState = { pid: r.pid, id: r.id, ...r.region, containers: [...r.region.containers] };
      if (i >= 0) s.regions[i] = v;
      else s.regions.push(v);
    }
  }
  for (const g of d.groups ?? []) {
    const i = s.groups.findIndex((x) => x.id === g.id);
    if (i >= 0) s.groups[i] = { ...g };
    else s.groups.push({ ...g });
  }
  for (const c of d.containers ?? []) {
    const i = s.containers.findIndex((x) => x.id === c.id);
    if (c.state === null) {
      if (i >= 0) s.containers.splice(i, 1);
      s.windows = s.windows.filter((w) => w.container !== c.id);
    } else {
      const v: ContainerState = { id: c.id, ...c.state, groups: [...c.state.groups] };
      if (i >= 0) s.containers[i] = v;
      else s.containers.push(v);
    }
  }
  for (const w of d.windows ?? []) {
    const i = s.windows.findIndex((x) => x.container === w.container && x.slot === w.slot);
    if (w.window === null) {
      if (i >= 0) s.windows.splice(i, 1);
    } else if (i < 0 || s.windows[i]!.table !== w.table) {
      const v: WindowState = { container: w.container, slot: w.slot, table: w.table, ...w.window, runs: [] };
      if (i >= 0) s.windows[i] = v;
      else s.windows.push(v);
    }
  }
  for (const t of d.tces ?? []) {
    const w = s.windows.find((x) => x.table === t.table);
    if (w) applyRun(w.runs, t);
  }
  for (const k of d.kvmTables ?? []) {
    const list = (s.kvmTables ??= []);
    const i = list.findIndex((x) => x.id === k.id);
    if (k.table === null) {
      if (i >= 0) list.splice(i, 1);
    } else if (i >= 0) list[i] = { ...list[i]!, ...k.table, links: k.table.links.map((l) => ({ ...l })) };
    else
      list.push({
        id: k.id,
        pid: k.pid,
        vm: k.vm,
        ...k.table,
        links: k.table.links.map((l) => ({ ...l })),
        runs: [],
      });
    list.sort((a, b) => a.id - b.id);
    if (list.length === 0) delete s.kvmTables; // the same shape captureState gives: absent, not empty
  }
  for (const r of d.kvmTces ?? []) {
    const t = s.kvmTables?.find((x) => x.id === r.kvmTable);
    if (t) applyRun(t.runs, { start: r.start, count: r.count, step: r.step, value: r.value, ua: 0 });
  }
  if (d.hosts || d.processes || d.regions || d.groups || d.containers || d.windows) sortState(s);
}

/** how much a checkpoint of this state costs to keep: its TCE runs and other records */
function weightOf(s: WorldState): number {
  let n = s.processes.length + s.regions.length + s.groups.length + s.containers.length;
  for (const w of s.windows) n += w.runs.length;
  return n;
}

/**
 * Random access to the state after any event: folds the deltas from the nearest checkpoint before it.
 * A checkpoint is taken once at least `interval` events were folded since the last one *and* at least as
 * many events as the state has records (TCE runs, regions, …), so checkpoints never cost more than about
 * one array slot per event however fragmented the windows get, and any step is at most max(interval,
 * records) folds away. The events themselves stay in the run's log (an EventStore is read through its
 * light foldView); a Timeline built without one keeps its own.
 */
export class Timeline {
  private readonly checkpoints: WorldState[] = [emptyState()];
  /** how many events each checkpoint has folded */
  private readonly folded: number[] = [0];
  private readonly log: EventList;
  private readonly ownLog: boolean;
  private head = emptyState();
  private count = 0;
  private since = 0;

  constructor(
    private readonly interval = 4096,
    hosts: HostState[] = [],
    log?: EventList,
  ) {
    this.head.hosts = hosts.map((h) => ({ ...h }));
    this.checkpoints[0]!.hosts = hosts.map((h) => ({ ...h }));
    this.log = log ?? new EventStore();
    this.ownLog = log === undefined;
  }

  get length(): number {
    return this.count;
  }

  /**
   * Folds the next event of the run (events must arrive in seq order). With a log of its own the
   * Timeline records the event too; otherwise the event must already be the log's next one.
   */
  push(e: RunEvent): void {
    if (this.ownLog) (this.log as EventStore).push(e);
    applyEvent(this.head, e);
    this.count++;
    this.since++;
    if (this.since >= this.interval && this.since >= weightOf(this.head)) {
      this.checkpoints.push(cloneState(this.head));
      this.folded.push(this.count);
      this.since = 0;
    }
  }

  addHost(h: HostState): void {
    for (const s of [this.head, ...this.checkpoints])
      if (!s.hosts.some((x) => x.id === h.id)) s.hosts.push({ ...h });
  }

  /** the state after the event with this seq (0: before the first event) */
  stateAt(seq: number): WorldState {
    const n = Math.max(0, Math.min(seq, this.count));
    if (n === this.count) return cloneState(this.head);
    // the last checkpoint at or before n
    let lo = 0;
    let hi = this.folded.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.folded[mid]! <= n) lo = mid;
      else hi = mid - 1;
    }
    const s = cloneState(this.checkpoints[lo]!);
    const store = this.log instanceof EventStore ? this.log : null;
    for (let i = this.folded[lo]!; i < n; i++) applyEvent(s, store ? store.foldView(i) : this.log.at(i)!);
    return s;
  }
}

// ------------------------------------------------------------------------------------------------
// queries used by the inspector

export interface Entry {
  index: number;
  iova: bigint;
  value: bigint;
  hpa: bigint;
  perm: number;
  ua: bigint;
}

function runAt(runs: Run[], index: number): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (index < r.start) hi = mid - 1;
    else if (index >= r.start + r.count) lo = mid + 1;
    else return mid;
  }
  return -1 - lo; // insertion point encoded
}

function entryOf(w: WindowState, index: number, r: Run | undefined): Entry {
  const iova = w.startAddr + (BigInt(index) << BigInt(w.pageShift));
  if (!r) return { index, iova, value: 0n, hpa: 0n, perm: 0, ua: 0n };
  const k = BigInt((index - r.start) * r.step);
  const value = r.value + k;
  return {
    index,
    iova,
    value,
    hpa: value & ~0xfffn,
    perm: Number(value & 3n),
    ua: r.ua === 0n ? 0n : r.ua + k,
  };
}

/** entries [from, from+count) of a window (empty ones included) */
export function entries(w: WindowState, from: number, count: number): Entry[] {
  const out: Entry[] = [];
  const end = Math.min(w.entries, from + count);
  const i = runAt(w.runs, from);
  let ri = i >= 0 ? i : -1 - i;
  for (let idx = Math.max(0, from); idx < end; idx++) {
    while (ri < w.runs.length && w.runs[ri]!.start + w.runs[ri]!.count <= idx) ri++;
    const r = w.runs[ri];
    out.push(entryOf(w, idx, r && r.start <= idx ? r : undefined));
  }
  return out;
}

/** the n-th valid entry and the following ones (valid-only view), with the total number of valid entries */
export function validEntries(w: WindowState, nth: number, count: number): { total: number; rows: Entry[] } {
  let total = 0;
  for (const r of w.runs) total += r.count;
  const rows: Entry[] = [];
  let skip = nth;
  for (const r of w.runs) {
    if (rows.length >= count) break;
    if (skip >= r.count) {
      skip -= r.count;
      continue;
    }
    for (let i = skip; i < r.count && rows.length < count; i++) rows.push(entryOf(w, r.start + i, r));
    skip = 0;
  }
  return { total, rows };
}

/** fraction of valid entries in each of `buckets` equal slices of the window */
export function occupancy(w: WindowState, buckets: number): number[] {
  const out = new Array<number>(buckets).fill(0);
  const per = w.entries / buckets;
  for (const r of w.runs) {
    let s = r.start;
    const e = r.start + r.count;
    while (s < e) {
      const b = Math.min(buckets - 1, Math.floor(s / per));
      const bEnd = Math.min(e, Math.ceil((b + 1) * per));
      const n = Math.max(1, bEnd - s);
      out[b]! += n;
      s += n;
    }
  }
  return out.map((n, b) => n / Math.max(1, Math.ceil((b + 1) * per) - Math.ceil(b * per)));
}

/** slot index of an IOVA, or of the first entry whose userspace address page contains ua; -1 if none */
export function findEntry(w: WindowState, q: { iova?: bigint; ua?: bigint }): number {
  if (q.iova !== undefined) {
    const rel = q.iova - w.startAddr;
    if (rel < 0n || rel >= w.size) return -1;
    return Number(rel >> BigInt(w.pageShift));
  }
  if (q.ua !== undefined) {
    for (const r of w.runs) {
      if (r.ua === 0n) continue;
      const end = r.ua + BigInt(r.count * r.step);
      if (q.ua >= r.ua && q.ua < end) return r.start + Number((q.ua - r.ua) / BigInt(r.step));
    }
  }
  return -1;
}

/**
 * Position of slot `index` in the valid-only list of a window (the entries of its runs, in slot order),
 * or -1 if that entry is empty. O(runs): a binary search for the run, then the sizes of the runs before it.
 */
export function validIndexOf(w: WindowState, index: number): number {
  if (index < 0) return -1;
  const i = runAt(w.runs, index);
  if (i < 0) return -1;
  let before = 0;
  for (let k = 0; k < i; k++) before += w.runs[k]!.count;
  return before + (index - w.runs[i]!.start);
}

/** the region (of any process) whose range contains ua */
export function regionOf(s: WorldState, pid: number | null, ua: bigint): RegionState | undefined {
  return s.regions.find((r) => (pid === null || r.pid === pid) && ua >= r.ua && ua < r.ua + r.size);
}
