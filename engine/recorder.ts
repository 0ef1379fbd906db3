/**
 * Turns kernel calls into events (events.ts): result, locked_vm per process and its breakdown, and the
 * deltas collected by Changes during the call.
 */
import type { IoctlResult } from './api.ts';
import type { Changes } from './changes.ts';
import { errnoName } from './errno.ts';
import type { ActionEvent, IoctlEvent, LockedVmBreakdown, RunEvent, StateDeltas } from './events.ts';
import type { Kernel, Proc, Res } from './kernel.ts';

export class BudgetError extends Error {
  override name = 'BudgetError';
}

export interface RecorderHooks {
  line(): number | undefined;
  push(e: RunEvent): void;
}

export class Recorder {
  readonly kernels: Kernel[] = [];
  seq = 0;
  /** hosts already announced in an event's deltas */
  private announced = 0;
  constructor(readonly changes: Changes, private readonly hooks: RecorderHooks) {}

  ioctl<Out>(k: Kernel, p: Proc, fd: IoctlEvent['fd'], op: string, args: IoctlEvent['args'], r: Res<Out>, result: IoctlResult<Out>): IoctlResult<Out> {
    const { lockedVm, breakdown } = this.accounting(k);
    const e: IoctlEvent = {
      seq: ++this.seq, kind: 'ioctl', pid: p.pid, fd, op, args, ret: r.ret,
      errno: r.ret < 0 ? (errnoName(r.ret) ?? `E${-r.ret}`) : null,
      lockedVm, breakdown, explain: r.explain, deltas: this.drain(),
    };
    const line = this.hooks.line();
    if (line !== undefined) e.line = line;
    if (r.ret >= 0 && r.out !== undefined) e.out = r.out as Record<string, unknown>;
    this.hooks.push(e);
    return result;
  }

  action(k: Kernel, p: Proc, op: string, args: ActionEvent['args'], explain: string): ActionEvent {
    const { lockedVm, breakdown } = this.accounting(k);
    const e: ActionEvent = { seq: ++this.seq, kind: 'action', pid: p.pid, op, args, lockedVm, breakdown, explain, deltas: this.drain() };
    const line = this.hooks.line();
    if (line !== undefined) e.line = line;
    this.hooks.push(e);
    return e;
  }

  private accounting(k: Kernel): { lockedVm: Record<string, number>; breakdown: Record<string, LockedVmBreakdown> } {
    const lockedVm: Record<string, number> = {};
    const breakdown: Record<string, LockedVmBreakdown> = {};
    for (const q of k.procs) {
      lockedVm[q.pid] = q.mm.lockedVm;
      breakdown[q.pid] = { ...q.mm.breakdown };
    }
    return { lockedVm, breakdown };
  }

  /** the deltas of everything touched since the last event */
  private drain(): StateDeltas {
    const ch = this.changes;
    const d: StateDeltas = {};
    if (this.announced < this.kernels.length) {
      d.hosts = this.kernels.slice(this.announced).map((k) => ({ id: k.hostId, kernel: k.profile.name, pageSize: k.pageSize }));
      this.announced = this.kernels.length;
    }
    if (ch.empty) return d;
    if (ch.tces.length) d.tces = ch.tces;
    for (const key of ch.windows) {
      const [cid, slot] = key.split(':').map(Number) as [number, number];
      const c = this.findContainer(cid);
      const t = c?.tables[slot] ?? null;
      (d.windows ??= []).push({
        container: cid, slot, table: t ? t.id : 0,
        window: t ? {
          startAddr: t.startAddr, pageShift: t.pageShift, size: t.windowSize, levels: t.levels, entries: t.size,
          offset: t.offset, borrowed: t.borrowed,
        } : null,
      });
    }
    for (const key of ch.regions) {
      const [pid, id] = key.split(':').map(Number) as [number, number];
      const r = this.findProc(pid)?.mm.regions.find((x) => x.id === id);
      (d.regions ??= []).push({
        pid, id,
        region: r ? {
          ua: BigInt(r.ua), size: BigInt(r.size), entries: r.entries, used: r.used, mapped: r.mapped,
          ...(r.pageShift !== undefined ? { pageShift: r.pageShift } : {}), containers: [...r.containers],
        } : null,
      });
    }
    for (const id of ch.containers) {
      const c = this.findContainer(id);
      if (!c) continue;
      const owner = this.kernels.flatMap((k) => k.procs).find((q) => q.fds.some((f) => f.kind === 'container' && f.container === c));
      (d.containers ??= []).push({
        id,
        state: c.dead ? null : {
          pid: owner?.pid ?? null, fdOpen: c.files > 0, iommu: c.driver ? (c.v2 ? 'v2' : 'v1') : 'none', enabled: c.enabled,
          defaultWindowPending: c.defWindowPending, groups: c.groups.map((g) => g.id), mm: c.mm ? c.mm.pid : null,
        },
      });
    }
    for (const id of ch.groups) {
      const g = this.kernels.flatMap((k) => k.groups).find((x) => x.id === id);
      if (g) (d.groups ??= []).push({ id, name: g.name, phb: g.phb.id, container: g.container, owner: g.owner });
    }
    for (const pid of ch.processes) {
      const p = this.findProc(pid);
      const k = this.kernels.find((x) => x.procs.includes(p!));
      if (p && k) (d.processes ??= []).push({ pid, host: k.hostId, name: p.name, memlock: p.memlock, capIpcLock: p.capIpcLock, exited: p.exited });
    }
    ch.clear();
    return d;
  }

  private findContainer(id: number) {
    for (const k of this.kernels) {
      const c = k.containers.find((x) => x.id === id);
      if (c) return c;
    }
    return undefined;
  }

  private findProc(pid: number): Proc | undefined {
    for (const k of this.kernels) {
      const p = k.procs.find((x) => x.pid === pid);
      if (p) return p;
    }
    return undefined;
  }
}
