/**
 * Engine infrastructure: models no kernel file.
 * Turns kernel calls into events (events.ts): result, locked_vm per process and its breakdown, and the
 * deltas collected by Changes during the call.
 */
import { whyText, type Cite } from './cite.ts';
import type { IoctlResult } from './api.ts';
import type { Changes } from './changes.ts';
import { errnoName } from './errno.ts';
import type {
  ActionEvent,
  HcallEvent,
  IoctlEvent,
  LockedVmBreakdown,
  RunEvent,
  StateDeltas,
  SyscallEvent,
} from './events.ts';
import type { Container, Kernel, Proc, Res } from './kernel.ts';
import type { KvmTceTable } from './kvm/book3s-64-vio.ts';
import type { GuestSpec } from './memlock.ts';
import type { MemlockOverride, MemlockRefusal } from './memory.ts';

/** the refused charge of the call just made (Mm.refusal), cleared everywhere so none is seen twice */
function takeRefusal(kernels: readonly Kernel[]): MemlockRefusal | undefined {
  let found: MemlockRefusal | undefined;
  for (const k of kernels)
    for (const q of k.procs)
      if (q.mm.refusal) {
        found ??= q.mm.refusal;
        q.mm.refusal = null;
      }
  return found;
}

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
  private readonly accountingCache = new Map<
    Kernel,
    {
      version: number;
      procs: number;
      lockedVm: Record<string, number>;
      breakdown: Record<string, LockedVmBreakdown>;
    }
  >();
  /** memlock sizing: how RLIMIT_MEMLOCK is checked for a newly spawned process (null: as the kernel does) */
  memlockOverride: ((pid: number) => MemlockOverride) | null = null;
  /** the guest each process runs, as the scenario described it (memlock sizing only) */
  readonly guests = new Map<number, GuestSpec>();
  /** per pid: the seq of the event during which locked_vm reached its peak so far (memlock sizing) */
  readonly peakSeq = new Map<number, number>();
  private readonly peakSeen = new Map<number, number>();
  private peakVersion = -1;
  constructor(
    readonly changes: Changes,
    private readonly hooks: RecorderHooks,
  ) {}

  ioctl<Out>(
    k: Kernel,
    p: Proc,
    fd: IoctlEvent['fd'],
    op: string,
    args: IoctlEvent['args'],
    r: Res<Out>,
    result: IoctlResult<Out>,
  ): IoctlResult<Out> {
    const { lockedVm, breakdown } = this.accounting(k);
    const e: IoctlEvent = {
      seq: ++this.seq,
      kind: 'ioctl',
      pid: p.pid,
      fd,
      op,
      args,
      ret: r.ret,
      errno: r.ret < 0 ? (errnoName(r.ret) ?? `E${-r.ret}`) : null,
      lockedVm,
      breakdown,
      explain: whyText(r.explain, r.cite),
      cite: { file: r.cite.file, fn: r.cite.fn },
      deltas: this.drain(),
    };
    this.stampLine(e);
    if (r.ret >= 0 && r.out !== undefined) e.out = r.out as Record<string, unknown>;
    this.finish(e, r.ret);
    return result;
  }

  action(
    k: Kernel,
    p: Proc,
    op: string,
    args: ActionEvent['args'],
    explain: string,
    cite?: Cite,
  ): ActionEvent {
    const { lockedVm, breakdown } = this.accounting(k);
    const e: ActionEvent = {
      seq: ++this.seq,
      kind: 'action',
      pid: p.pid,
      op,
      args,
      lockedVm,
      breakdown,
      explain: whyText(explain, cite),
      ...citeField(cite),
      deltas: this.drain(),
    };
    this.stampLine(e);
    this.finish(e, 0);
    return e;
  }

  /** a guest hypercall and who answered it (scenario-api.md §2.1.5) */
  hcall(
    k: Kernel,
    p: Proc,
    vm: number,
    op: string,
    args: HcallEvent['args'],
    r: {
      ret: number;
      name: string;
      handledBy: 'kernel' | 'qemu';
      mode?: 'real' | 'virtual';
      value?: bigint;
      explain?: string;
    },
    cite?: Cite,
  ): HcallEvent {
    const { lockedVm, breakdown } = this.accounting(k);
    const e: HcallEvent = {
      seq: ++this.seq,
      kind: 'hcall',
      pid: p.pid,
      vm,
      op,
      args,
      ret: r.ret,
      name: r.name,
      handledBy: r.handledBy,
      lockedVm,
      breakdown,
      explain: whyText(r.explain ?? '', cite),
      ...citeField(cite),
      deltas: this.drain(),
    };
    if (r.mode) e.mode = r.mode;
    if (r.value !== undefined) e.value = r.value;
    this.stampLine(e);
    this.finish(e, 0);
    return e;
  }

  /** mlock / munlock (scenario-api.md §2.1.5) */
  syscall(
    k: Kernel,
    p: Proc,
    op: string,
    args: SyscallEvent['args'],
    ret: number,
    explain: string,
    cite?: Cite,
  ): SyscallEvent {
    const { lockedVm, breakdown } = this.accounting(k);
    const e: SyscallEvent = {
      seq: ++this.seq,
      kind: 'syscall',
      pid: p.pid,
      op,
      args,
      ret,
      errno: ret < 0 ? (errnoName(ret) ?? `E${-ret}`) : null,
      lockedVm,
      breakdown,
      explain: whyText(explain, cite),
      ...citeField(cite),
      deltas: this.drain(),
    };
    this.stampLine(e);
    this.finish(e, ret);
    return e;
  }

  /** the scenario line of the call being recorded, when the runner knows it */
  private stampLine(e: { line?: number }): void {
    const line = this.hooks.line();
    if (line !== undefined) e.line = line;
  }

  /** the end of every event: an ENOMEM's RLIMIT_MEMLOCK refusal attached, peaks noted, the event pushed */
  private finish(e: RunEvent & { memlock?: unknown }, ret: number): void {
    if (ret === -12) {
      const refusal = takeRefusal(this.kernels);
      if (refusal) e.memlock = refusal;
    }
    this.notePeaks(e.seq);
    this.hooks.push(e);
  }

  /** after a call that may have charged: remember which event raised a process's peak */
  private notePeaks(seq: number): void {
    if (this.peakVersion === this.changes.accountingVersion) return;
    this.peakVersion = this.changes.accountingVersion;
    for (const k of this.kernels)
      for (const q of k.procs) {
        if (q.mm.peak > (this.peakSeen.get(q.pid) ?? 0)) {
          this.peakSeen.set(q.pid, q.mm.peak);
          this.peakSeq.set(q.pid, seq);
        }
      }
  }

  /** locked_vm per pid and its breakdown; the previous objects are reused while nothing was charged */
  private accounting(k: Kernel): {
    lockedVm: Record<string, number>;
    breakdown: Record<string, LockedVmBreakdown>;
  } {
    const cached = this.accountingCache.get(k);
    if (cached && cached.version === this.changes.accountingVersion && cached.procs === k.procs.length)
      return cached;
    const lockedVm: Record<string, number> = {};
    const breakdown: Record<string, LockedVmBreakdown> = {};
    for (const q of k.procs) {
      lockedVm[q.pid] = q.mm.lockedVm;
      breakdown[q.pid] = { ...q.mm.breakdown };
    }
    const fresh = { version: this.changes.accountingVersion, procs: k.procs.length, lockedVm, breakdown };
    this.accountingCache.set(k, fresh);
    return fresh;
  }

  /** the deltas of everything touched since the last event */
  private drain(): StateDeltas {
    const ch = this.changes;
    const d: StateDeltas = {};
    if (this.announced < this.kernels.length) {
      d.hosts = this.kernels
        .slice(this.announced)
        .map((k) => ({ id: k.hostId, kernel: k.profile.name, pageSize: k.pageSize }));
      this.announced = this.kernels.length;
    }
    if (ch.empty) return d;
    if (ch.tces.length) d.tces = ch.tces;
    for (const { container, slot } of ch.windows.values()) {
      const t = (container as Container).tables[slot] ?? null;
      (d.windows ??= []).push({
        container: container.id,
        slot,
        table: t ? t.id : 0,
        window: t
          ? {
              startAddr: t.startAddr,
              pageShift: t.pageShift,
              size: t.windowSize,
              levels: t.levels,
              entries: t.size,
              offset: t.offset,
              borrowed: t.borrowed,
            }
          : null,
      });
    }
    for (const r of ch.regions) {
      (d.regions ??= []).push({
        pid: r.mm.pid,
        id: r.id,
        region: r.released
          ? null
          : {
              ua: r.uaBig,
              size: r.sizeBig,
              entries: r.entries,
              used: r.used,
              mapped: r.mapped,
              ...(r.pageShift !== undefined ? { pageShift: r.pageShift } : {}),
              containers: [...r.containers],
            },
      });
    }
    for (const cl of ch.containers) {
      const c = cl as Container;
      const owner = c.dead
        ? undefined
        : this.kernels
            .flatMap((k) => k.procs)
            .find((q) => q.fds.some((f) => f.kind === 'container' && f.container === c));
      (d.containers ??= []).push({
        id: c.id,
        state: c.dead
          ? null
          : {
              pid: owner?.pid ?? null,
              fdOpen: c.files > 0,
              iommu: c.driver ? (c.v2 ? 'v2' : 'v1') : 'none',
              enabled: c.enabled,
              defaultWindowPending: c.defWindowPending,
              groups: c.groups.map((g) => g.id),
              mm: c.mm ? c.mm.pid : null,
            },
      });
    }
    for (const tl of ch.kvmTables) {
      const t = tl as KvmTceTable;
      (d.kvmTables ??= []).push({
        id: t.id,
        pid: t.vm.proc.pid,
        vm: t.vm.id,
        table: t.open
          ? {
              liobn: t.liobn,
              pageShift: t.pageShift,
              offset: t.offset,
              size: t.size,
              chargedPages: t.chargedPages,
              links: t.links.map((l) => ({ container: l.container.id, slot: l.slot })),
            }
          : null,
      });
    }
    if (ch.kvmTces.length) d.kvmTces = ch.kvmTces;
    for (const g of ch.groups)
      (d.groups ??= []).push({
        id: g.id,
        name: g.name,
        phb: g.phb.id,
        container: g.container,
        owner: g.owner,
      });
    for (const pid of ch.processes) {
      const p = this.findProc(pid);
      const k = p && this.kernels.find((x) => x.procs.includes(p));
      if (p && k)
        (d.processes ??= []).push({
          pid,
          host: k.hostId,
          name: p.name,
          memlock: p.memlock,
          capIpcLock: p.capIpcLock,
          exited: p.exited,
        });
    }
    ch.clear();
    return d;
  }

  private findProc(pid: number): Proc | undefined {
    for (const k of this.kernels) {
      const p = k.procs.find((x) => x.pid === pid);
      if (p) return p;
    }
    return undefined;
  }
}

/** an event's cite field, when the call has one (the why text names it too: whyText) */
function citeField(cite: Cite | undefined): { cite?: Cite } {
  return cite ? { cite: { file: cite.file, fn: cite.fn } } : {};
}
