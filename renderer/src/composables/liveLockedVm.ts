/**
 * locked_vm per process while a run streams, from the event rows alone (each row carries locked_vm per
 * pid; spawn and setrlimit rows carry RLIMIT_MEMLOCK in pages). The contributor breakdown needs the
 * engine (inspect.lockedVm), so a live series has one stack, `total`, until the run ends.
 *
 * Cheap for 100,000-event runs: a batch costs O(rows), and a series keeps only the points where its
 * total or limit changes, the failed calls, and the last row seen (the graph draws steps that hold a
 * value until the next point, so that is exact). Publishing to the view is throttled: `publish` runs at most once per `intervalMs`, plus once
 * after the last batch.
 */
import type { EventRow, LockedVmSeries } from '../../../common/contract';

export const LIVE_INTERVAL_MS = 250;
/** the one stack a live series has */
export const LIVE_STACK = 'total';

interface Track {
  seq: number[];
  total: number[];
  limit: number[];
  failed: number[];
  /** locked_vm and limit of the last row seen for this pid */
  lastTotal: number;
  lastLimit: number;
  /** whether the last stored point only marks "unchanged up to here" (it moves with each row) */
  trailing: boolean;
}

export class LiveLockedVm {
  private tracks = new Map<number, Track>();
  private limits = new Map<number, number>();
  private lastPid: number | null = null;

  /** folds a batch of rows in (rows in seq order) */
  add(rows: readonly EventRow[]): void {
    for (const row of rows) {
      if (row.memlockPages)
        for (const k in row.memlockPages) this.limits.set(Number(k), row.memlockPages[k]!);
      if (row.kind === 'expect') {
        if (row.failed && this.lastPid !== null) this.point(this.lastPid, row.seq, null, true);
        continue;
      }
      if (row.pid !== undefined) this.lastPid = row.pid;
      for (const k in row.lockedVm) {
        const pid = Number(k);
        this.point(pid, row.seq, row.lockedVm[k]!, row.failed && row.kind === 'ioctl' && row.pid === pid);
      }
    }
  }

  private point(pid: number, seq: number, total: number | null, failed: boolean): void {
    let t = this.tracks.get(pid);
    if (!t) {
      if (total === null) return;
      t = { seq: [], total: [], limit: [], failed: [], lastTotal: total, lastLimit: -1, trailing: false };
      this.tracks.set(pid, t);
    }
    const v = total ?? t.lastTotal;
    const limit = this.limits.get(pid) ?? 0;
    const changed = !t.seq.length || v !== t.lastTotal || limit !== t.lastLimit;
    if (changed || failed) {
      // a trailing point only marked "unchanged so far"; a new point replaces it
      if (t.trailing) {
        t.seq.pop();
        t.total.pop();
        t.limit.pop();
        t.trailing = false;
      }
      t.seq.push(seq);
      t.total.push(v);
      t.limit.push(limit);
      if (failed) t.failed.push(seq);
    } else {
      // unchanged: move the trailing point along
      if (t.trailing) {
        t.seq[t.seq.length - 1] = seq;
      } else {
        t.seq.push(seq);
        t.total.push(v);
        t.limit.push(limit);
        t.trailing = true;
      }
    }
    t.lastTotal = v;
    t.lastLimit = limit;
  }

  /** the series so far, in the shape inspect.lockedVm answers (one stack, `total`); fresh arrays */
  series(): Record<number, LockedVmSeries> {
    const out: Record<number, LockedVmSeries> = {};
    for (const [pid, t] of this.tracks) {
      out[pid] = {
        pid,
        seq: t.seq.slice(),
        total: t.total.slice(),
        limit: t.limit.slice(),
        stacks: { [LIVE_STACK]: t.total.slice() },
        failed: t.failed.slice(),
      };
    }
    return out;
  }

  /** points stored over all processes (for tests and budgets) */
  get points(): number {
    let n = 0;
    for (const t of this.tracks.values()) n += t.seq.length;
    return n;
  }
}

/**
 * Runs `publish` at most once per `intervalMs` while `poke` is called: the first poke publishes at once,
 * later ones within the interval are folded into one trailing call at its end. `cancel` drops a pending one.
 */
export function throttle(
  publish: () => void,
  intervalMs = LIVE_INTERVAL_MS,
): { poke(): void; flush(): void; cancel(): void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    timer = null;
    last = Date.now();
    publish();
  };
  return {
    poke() {
      if (timer) return;
      const wait = last + intervalMs - Date.now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    flush() {
      if (timer) {
        clearTimeout(timer);
        fire();
      }
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
