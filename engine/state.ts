/**
 * Engine infrastructure: models no kernel file.
 * The inspectable state of the emulated world at one point of a run: hosts, processes with their
 * locked_vm breakdown, pre-registered regions, groups, containers and windows with their TCE contents as
 * maximal linear runs. The same model is produced three ways:
 *   - captureState(): from the live kernels (end of a run, the command line's --snapshot);
 *   - Timeline.stateAt(seq): by folding the event deltas (timeline.ts: time travel in the workbench);
 *   - parseSnapshot(): from a snapshot file (snapshot.ts).
 * so the inspector, the reports and the snapshot writer work on one shape. A window's contents are runs
 * (tce-runs.ts, re-exported here).
 */
import type {
  ContainerDelta,
  GroupDelta,
  KvmTableDelta,
  LockedVmBreakdown,
  RegionDelta,
  WindowDelta,
} from './events.ts';
import type { Kernel } from './kernel.ts';
import { kvmOfHost } from './kvm/kvm-main.ts';
import { normalizeRuns, runsOfTable, type Run } from './tce-runs.ts';

export * from './tce-runs.ts';

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

export function sortState(s: WorldState): void {
  s.processes.sort((a, b) => a.pid - b.pid);
  s.regions.sort((a, b) => a.pid - b.pid || a.id - b.id);
  s.groups.sort((a, b) => a.id - b.id);
  s.containers.sort((a, b) => a.id - b.id);
  s.windows.sort((a, b) => a.container - b.container || a.slot - b.slot);
}

/** the region (of any process) whose range contains ua */
export function regionOf(s: WorldState, pid: number | null, ua: bigint): RegionState | undefined {
  return s.regions.find((r) => (pid === null || r.pid === pid) && ua >= r.ua && ua < r.ua + r.size);
}
