/**
 * Sources of inspectable state held by the engine worker: runs ("run-3") and imported snapshots
 * ("snap-1"). A run keeps its event log (a columnar EventStore, engine/event-store.ts) and a Timeline
 * (engine/state.ts) folding it, so that the state after any event can be rebuilt (time travel); a snapshot
 * holds one state, the one after its `seq`, and optionally the event log it was exported with. Only the
 * last few of each are kept in memory, and all logs together within a byte budget.
 */
import type { KernelName } from '../common/kernels.ts';
import type { RunSummary } from '../common/contract.ts';
import { EventStore } from '../engine/event-store.ts';
import type { SnapshotMeta } from '../engine/snapshot.ts';
import type { WorldState } from '../engine/state.ts';
import { Timeline } from '../engine/timeline.ts';

export interface RunSource {
  kind: 'run';
  id: string;
  filename: string;
  kernel: KernelName;
  /** the scenario's text (for the snapshot's scenario hash) */
  text: string;
  sha256: string;
  /** the run's event log: the session records into it (runner option `events`) */
  events: EventStore;
  timeline: Timeline;
  /** 'queued' until the runner starts it, 'running', then 'done' */
  status: 'queued' | 'running' | 'done';
  summary: RunSummary | null;
}

export interface SnapshotSource {
  kind: 'snapshot';
  id: string;
  meta: SnapshotMeta;
  state: WorldState;
  /** the event log exported with it (JSON-safe form: bigints are "0x…" strings), if any */
  events: EventStore;
}

export type Source = RunSource | SnapshotSource;

export class SourceError extends Error {
  override name = 'SourceError';
}

/** How many runs and how many imported snapshots stay in memory. */
export const KEEP_RUNS = 5;
export const KEEP_SNAPSHOTS = 5;
/**
 * and how many bytes of event log all of them may hold together (EventStore.byteSize: about 100 bytes an
 * event, so this is several runs of a million events); older sources go first when the total passes it.
 * A single run is never capped by this: the newest source always stays.
 */
export const KEEP_EVENT_BYTES = 768 * 1024 * 1024;

export class SourceStore {
  private readonly sources = new Map<string, Source>();
  private nextRun = 0;
  private nextSnap = 0;
  /** a few recently built states per source: scrolling a window rebuilds nothing */
  private readonly cache = new Map<string, Map<number, WorldState>>();

  constructor(
    private readonly keepRuns = KEEP_RUNS,
    private readonly keepSnapshots = KEEP_SNAPSHOTS,
    private readonly keepEventBytes = KEEP_EVENT_BYTES,
  ) {}

  /** a new run source (evicts the oldest finished runs beyond the limit) */
  addRun(init: Omit<RunSource, 'kind' | 'id' | 'events' | 'timeline' | 'status' | 'summary'>): RunSource {
    const id = `run-${++this.nextRun}`;
    const events = new EventStore();
    const src: RunSource = {
      kind: 'run',
      id,
      ...init,
      events,
      timeline: new Timeline(undefined, [], events),
      status: 'queued',
      summary: null,
    };
    this.sources.set(id, src);
    this.evict('run', this.keepRuns);
    return src;
  }

  addSnapshot(init: Omit<SnapshotSource, 'kind' | 'id'>): SnapshotSource {
    const id = `snap-${++this.nextSnap}`;
    const src: SnapshotSource = { kind: 'snapshot', id, ...init };
    this.sources.set(id, src);
    this.evict('snapshot', this.keepSnapshots);
    this.trim();
    return src;
  }

  get(id: string): Source {
    const s = this.sources.get(id);
    if (s) return s;
    const kept = id.startsWith('snap-')
      ? `${this.keepSnapshots} imported snapshots`
      : `${this.keepRuns} runs`;
    throw new SourceError(
      `unknown source "${id}": it does not exist or is no longer in memory (the last ${kept} are kept)`,
    );
  }

  has(id: string): boolean {
    return this.sources.has(id);
  }

  ids(): string[] {
    return [...this.sources.keys()];
  }

  /** the state after event `seq` (a snapshot has one state: the one after its own seq) */
  stateAt(src: Source, seq: number): WorldState {
    if (src.kind === 'snapshot') return src.state;
    const stable = src.status === 'done' || seq < src.timeline.length;
    const key = Math.min(seq, src.timeline.length);
    let per = this.cache.get(src.id);
    const hit = stable ? per?.get(key) : undefined;
    if (hit) return hit;
    const s = src.timeline.stateAt(seq);
    if (stable) {
      if (!per) this.cache.set(src.id, (per = new Map()));
      per.set(key, s);
      if (per.size > 4) per.delete(per.keys().next().value!);
    }
    return s;
  }

  /** bytes of event log all sources hold (what a host memory budget applies to) */
  byteSize(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.events.byteSize();
    return n;
  }

  /**
   * Drops the oldest finished runs and imported snapshots while all sources together hold more than
   * keepEventBytes of event log; the newest source always stays.
   */
  trim(): void {
    const all = [...this.sources.values()];
    let total = this.byteSize();
    for (const s of all.slice(0, -1)) {
      if (total <= this.keepEventBytes) break;
      if (s.kind === 'run' && s.status !== 'done') continue;
      total -= s.events.byteSize();
      this.sources.delete(s.id);
      this.cache.delete(s.id);
    }
  }

  private evict(kind: Source['kind'], keep: number): void {
    const ofKind = [...this.sources.values()].filter((s) => s.kind === kind);
    for (const s of ofKind.slice(0, Math.max(0, ofKind.length - keep))) {
      // a run still queued or running is never dropped under the user's feet
      if (s.kind === 'run' && s.status !== 'done') continue;
      this.sources.delete(s.id);
      this.cache.delete(s.id);
    }
  }
}
