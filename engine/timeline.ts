/**
 * Engine infrastructure: models no kernel file.
 * Time travel: the state after any event of a run, rebuilt by folding the events' deltas (events.ts) onto
 * the nearest checkpoint before it. applyEvent is the fold step; Timeline keeps the checkpoints.
 */
import { EventStore } from './event-store.ts';
import type { EventList, RunEvent } from './events.ts';
import { emptyBreakdown } from './memory.ts';
import {
  sortState,
  type ContainerState,
  type HostState,
  type RegionState,
  type WindowState,
  type WorldState,
} from './state.ts';
import { applyRun, type Run } from './tce-runs.ts';

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
  // records are kept sorted by id; only an added one can break the order
  let grew = false;
  for (const h of d.hosts ?? [])
    if (!s.hosts.some((x) => x.id === h.id)) {
      s.hosts.push({ ...h });
      grew = true;
    }
  for (const p of d.processes ?? []) {
    const cur = s.processes.find((x) => x.pid === p.pid);
    if (cur) Object.assign(cur, p);
    else {
      s.processes.push({ ...p, lockedVm: 0, breakdown: emptyBreakdown() });
      grew = true;
    }
  }
  for (const pid in e.lockedVm) {
    const n = Number(pid);
    const cur = s.processes.find((x) => x.pid === n);
    if (cur) {
      cur.lockedVm = e.lockedVm[pid]!;
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
      else grew = s.regions.push(v) > 0;
    }
  }
  for (const g of d.groups ?? []) {
    const i = s.groups.findIndex((x) => x.id === g.id);
    if (i >= 0) s.groups[i] = { ...g };
    else grew = s.groups.push({ ...g }) > 0;
  }
  for (const c of d.containers ?? []) {
    const i = s.containers.findIndex((x) => x.id === c.id);
    if (c.state === null) {
      if (i >= 0) s.containers.splice(i, 1);
      s.windows = s.windows.filter((w) => w.container !== c.id);
    } else {
      const v: ContainerState = { id: c.id, ...c.state, groups: [...c.state.groups] };
      if (i >= 0) s.containers[i] = v;
      else grew = s.containers.push(v) > 0;
    }
  }
  for (const w of d.windows ?? []) {
    const i = s.windows.findIndex((x) => x.container === w.container && x.slot === w.slot);
    if (w.window === null) {
      if (i >= 0) s.windows.splice(i, 1);
    } else if (i < 0 || s.windows[i]!.table !== w.table) {
      const v: WindowState = { container: w.container, slot: w.slot, table: w.table, ...w.window, runs: [] };
      if (i >= 0) s.windows[i] = v;
      else grew = s.windows.push(v) > 0;
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
  if (grew) sortState(s);
}

/**
 * A window's (or KVM table's) runs in a checkpoint, packed into typed arrays: 24 bytes a run (start, count,
 * value, ua) where a Run object and its two bigints cost about 100, so checkpoints can be four times
 * denser for the same memory. Runs that do not fit (a step that varies, an index past 2^32, a value
 * outside 64 bits) stay as they are.
 */
interface PackedRuns {
  start: Uint32Array;
  count: Uint32Array;
  value: BigUint64Array;
  ua: BigUint64Array;
  step: number;
}

const U64 = 1n << 64n;
const RUN_BYTES = 24;
/** what a checkpoint costs per record other than a run (objects of a few fields), roughly */
const RECORD_BYTES = 256;

function packRuns(runs: Run[]): PackedRuns | Run[] {
  const n = runs.length;
  if (n === 0) return [];
  const step = runs[0]!.step;
  for (const r of runs)
    if (
      r.step !== step ||
      r.start + r.count > 0xffffffff ||
      r.value < 0n ||
      r.value >= U64 ||
      r.ua < 0n ||
      r.ua >= U64
    )
      return runs.slice();
  const p: PackedRuns = {
    start: new Uint32Array(n),
    count: new Uint32Array(n),
    value: new BigUint64Array(n),
    ua: new BigUint64Array(n),
    step,
  };
  for (let i = 0; i < n; i++) {
    const r = runs[i]!;
    p.start[i] = r.start;
    p.count[i] = r.count;
    p.value[i] = r.value;
    p.ua[i] = r.ua;
  }
  return p;
}

function unpackRuns(p: PackedRuns | Run[]): Run[] {
  if (Array.isArray(p)) return p.slice(); // runs are spliced in place; Run objects never change
  const out = new Array<Run>(p.start.length);
  for (let i = 0; i < out.length; i++)
    out[i] = { start: p.start[i]!, count: p.count[i]!, value: p.value[i]!, ua: p.ua[i]!, step: p.step };
  return out;
}

/** a checkpoint: the state without its runs, and the runs of its windows and KVM tables packed */
interface Checkpoint {
  /** how many events it has folded */
  folded: number;
  state: WorldState;
  windows: (PackedRuns | Run[])[];
  kvm: (PackedRuns | Run[])[];
}

function checkpointOf(s: WorldState, folded: number): Checkpoint {
  const state = cloneState({
    ...s,
    windows: s.windows.map((w) => ({ ...w, runs: [] })),
    ...(s.kvmTables ? { kvmTables: s.kvmTables.map((t) => ({ ...t, runs: [] })) } : {}),
  });
  return {
    folded,
    state,
    windows: s.windows.map((w) => packRuns(w.runs)),
    kvm: (s.kvmTables ?? []).map((t) => packRuns(t.runs)),
  };
}

function stateOf(c: Checkpoint): WorldState {
  const s = cloneState(c.state);
  s.windows.forEach((w, i) => (w.runs = unpackRuns(c.windows[i]!)));
  s.kvmTables?.forEach((t, i) => (t.runs = unpackRuns(c.kvm[i]!)));
  return s;
}

/** what a checkpoint of this state costs to keep, in bytes (about) */
function weightOf(s: WorldState): number {
  let runs = 0;
  for (const w of s.windows) runs += w.runs.length;
  for (const t of s.kvmTables ?? []) runs += t.runs.length;
  const records = s.processes.length + s.regions.length + s.groups.length + s.containers.length;
  return RUN_BYTES * runs + RECORD_BYTES * (records + s.windows.length);
}

/** checkpoints cost at most about this many bytes per event folded, amortised */
export const CHECKPOINT_BYTES_PER_EVENT = 48;

/**
 * Random access to the state after any event: folds the deltas from the nearest checkpoint before it.
 * A checkpoint is taken once at least `interval` events were folded since the last one *and* enough
 * events that its cost (runs packed at 24 bytes, other records about 256) comes to at most
 * CHECKPOINT_BYTES_PER_EVENT a folded event, so checkpoints stay within the memory budget however
 * fragmented the windows get, and any step is at most max(interval, cost / 48) folds away (1,024 for a
 * window of up to about 2,000 runs: time travel's worst case is bounded by that fold, not by the run's
 * length). The events themselves stay in the run's log (an EventStore is read through its light
 * foldView); a Timeline built without one keeps its own.
 */
export class Timeline {
  private readonly checkpoints: Checkpoint[] = [checkpointOf(emptyState(), 0)];
  private readonly log: EventList;
  private readonly ownLog: boolean;
  private head = emptyState();
  private count = 0;
  private since = 0;
  private longest = 0;
  private bytes = 0;

  constructor(
    private readonly interval = 1024,
    hosts: HostState[] = [],
    log?: EventList,
  ) {
    this.head.hosts = hosts.map((h) => ({ ...h }));
    this.checkpoints[0]!.state.hosts = hosts.map((h) => ({ ...h }));
    this.log = log ?? new EventStore();
    this.ownLog = log === undefined;
  }

  get length(): number {
    return this.count;
  }

  /**
   * How the checkpoints are spread: how many, the most events any step is from the checkpoint it folds
   * from, and their estimated bytes (packed runs at 24 bytes, other records at 256).
   */
  stats(): { checkpoints: number; longestFold: number; bytes: number } {
    return {
      checkpoints: this.checkpoints.length,
      longestFold: Math.max(this.longest, this.since),
      bytes: this.bytes,
    };
  }

  /** how many events each checkpoint has folded, in order (the first is 0); the steps just before them are the farthest from one */
  checkpointSteps(): number[] {
    return this.checkpoints.map((c) => c.folded);
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
    if (this.since >= this.interval) {
      const w = weightOf(this.head);
      if (this.since * CHECKPOINT_BYTES_PER_EVENT >= w) {
        this.checkpoints.push(checkpointOf(this.head, this.count));
        this.bytes += w;
        // the longest fold is to the step just before the next checkpoint
        this.longest = Math.max(this.longest, this.since - 1);
        this.since = 0;
      }
    }
  }

  addHost(h: HostState): void {
    for (const s of [this.head, ...this.checkpoints.map((c) => c.state)])
      if (!s.hosts.some((x) => x.id === h.id)) s.hosts.push({ ...h });
  }

  /** the state after the event with this seq (0: before the first event) */
  stateAt(seq: number): WorldState {
    const n = Math.max(0, Math.min(seq, this.count));
    if (n === this.count) return cloneState(this.head);
    // the last checkpoint at or before n
    let lo = 0;
    let hi = this.checkpoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.checkpoints[mid]!.folded <= n) lo = mid;
      else hi = mid - 1;
    }
    const c = this.checkpoints[lo]!;
    const s = stateOf(c);
    const store = this.log instanceof EventStore ? this.log : null;
    for (let i = c.folded; i < n; i++) applyEvent(s, store ? store.foldView(i) : this.log.at(i)!);
    return s;
  }
}
