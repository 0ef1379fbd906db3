/**
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
import { applyRun } from './tce-runs.ts';

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
