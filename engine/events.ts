/**
 * Engine infrastructure: models no kernel file.
 * The event log of a run (scenario-api.md §4 "events"). Every ioctl and every other state-changing step
 * (close, exit, mmap, …) yields one event; expectations and log() calls yield events too. Events carry
 * enough deltas (TCE runs, regions, windows, locked_vm breakdown) that the state after any event can be
 * rebuilt by folding the log (engine/timeline.ts), which is what time travel in the workbench uses.
 *
 * Everything here is plain JSON-safe data except bigint fields, which the JSON writers encode as strings.
 */
import type { Contributor } from '../common/contributors.ts';
import type { RegionInfo, WindowInfo } from './api.ts';
import type { MemlockRefusal } from './memory.ts';

/**
 * The kernel function that decided an event's result (engine/cite.ts): `file` is a source path such as
 * drivers/vfio/vfio_iommu_spapr_tce.c, `fn` the function; docs/kernel/ has a section per function.
 * Events of runs recorded before cites existed have none.
 */
export interface EventCite {
  file: string;
  fn: string;
}

/**
 * locked_vm of one process split by contributor (product.md §5, kernel-model.md §5.1), in system pages: one
 * number per row of common/contributors.ts.
 */
export type LockedVmBreakdown = Record<Contributor, number>;

/** One contiguous run of TCE slots written by one event. Values are linear in the slot index. */
export interface TceRun {
  container: number;
  slot: number;
  /** window generation: a new id every time a table is created in a container slot */
  table: number;
  /** first slot index (entry - it_offset) */
  start: number;
  count: number;
  /** TCE value of the first slot (0: cleared); slot start+i holds value + i*step (perm bits kept). Below 2^53. */
  value: number;
  /** userspace address (it_userspace) of the first slot, 0 if none; advances by step like value */
  ua: number;
  /** bytes between consecutive slots' hpa/ua (the IOMMU page size), 0 for a cleared run */
  step: number;
}

export interface WindowDelta {
  container: number;
  slot: number;
  table: number;
  /** null: the window was removed/freed */
  window:
    | (Omit<WindowInfo, 'slot'> & {
        /** it_offset: absolute number of the first entry */
        offset: number;
        /** borrowed kernel table of an IODA1 group (4.2) rather than a VFIO-created one */
        borrowed: boolean;
      })
    | null;
}

export interface RegionDelta {
  pid: number;
  /** stable id of the region within the run */
  id: number;
  /** null: the region was released */
  region:
    | (RegionInfo & {
        /** containers whose prereg_list holds it (mainline); empty when orphaned (§4.9) */
        containers: number[];
      })
    | null;
}

/** A KVM TCE table (kernel-model.md §13.1): created, linked/unlinked, or released (null). */
export interface KvmTableDelta {
  /** stable id of the KVM table within the run */
  id: number;
  pid: number;
  vm: number;
  table: {
    liobn: bigint;
    pageShift: number;
    /** first entry (bus address >> pageShift) */
    offset: bigint;
    /** entries */
    size: bigint;
    chargedPages: number;
    /** the VFIO hardware windows it feeds (SET_SPAPR_TCE links) */
    links: { container: number; slot: number }[];
  } | null;
}

/** Guest-visible entries [start, start+count) of a KVM table now hold value + i*step (0: cleared). */
export interface KvmTceRun {
  /** KvmTableDelta id */
  kvmTable: number;
  start: number;
  count: number;
  value: bigint;
  step: number;
}

export interface ContainerDelta {
  id: number;
  /** null: the container's IOMMU state was released (fd closed and no group left) */
  state: {
    pid: number | null;
    fdOpen: boolean;
    iommu: 'none' | 'v1' | 'v2';
    enabled: boolean;
    defaultWindowPending: boolean;
    groups: number[];
    mm: number | null;
  } | null;
}

export interface GroupDelta {
  id: number;
  name: string;
  phb: number;
  container: number | null;
  /** who owns the PE's DMA: the host kernel or VFIO */
  owner: 'kernel' | 'vfio';
}

interface EventBase {
  seq: number;
  /** 1-based line of the scenario that caused it, when known */
  line?: number;
}

export interface IoctlEvent extends EventBase {
  kind: 'ioctl';
  pid: number;
  /** the fd the ioctl was issued on (kvm: /dev/kvm, vm: a VM fd, kvm-device: the VM's kvm-vfio device) */
  fd: { type: 'container' | 'group' | 'kvm' | 'vm' | 'kvm-device'; id: number };
  op: string;
  /** decoded arguments as passed (bigint for addresses and sizes) */
  args: Record<string, bigint | number | string | boolean>;
  ret: number;
  errno: string | null;
  out?: Record<string, unknown>;
  lockedVm: Record<string, number>;
  breakdown: Record<string, LockedVmBreakdown>;
  explain: string;
  /** the kernel function that decided the result (absent in files written before cites existed) */
  cite?: EventCite;
  /** set when RLIMIT_MEMLOCK refused a charge of this call (ENOMEM, §1.5): the facts advice is built from */
  memlock?: MemlockRefusal;
  deltas: StateDeltas;
}

/** Non-ioctl state changes: close(), exit(), mmap, munmap, setrlimit, openGroup, openContainer, … */
export interface ActionEvent extends EventBase {
  kind: 'action';
  pid: number;
  op: string;
  args: Record<string, bigint | number | string | boolean>;
  lockedVm: Record<string, number>;
  breakdown: Record<string, LockedVmBreakdown>;
  explain: string;
  /** the kernel function that decided the result (absent in files written before cites existed) */
  cite?: EventCite;
  deltas: StateDeltas;
}

export interface ExpectEvent extends EventBase {
  kind: 'expect';
  ok: boolean;
  label: string;
  actual: string;
  expected: string;
}

export interface LogEvent extends EventBase {
  kind: 'log';
  text: string;
}

/** A guest hypercall (kernel-model.md §13.7) answered by KVM or, after an exit, by QEMU (scenario-api.md §2.1.5). */
export interface HcallEvent extends EventBase {
  kind: 'hcall';
  pid: number;
  /** the VM whose guest issued it */
  vm: number;
  /** the hcall name: 'H_PUT_TCE', … */
  op: string;
  /** the call: liobn, ioba and the hcall's own fields */
  args: Record<string, bigint | number | string | boolean>;
  /** the H_* value (H_TOO_HARD 9999 = KVM exited to userspace) */
  ret: number;
  name: string;
  handledBy: 'kernel' | 'qemu';
  /** kernel answers only: the real-mode (POWER8) or virtual-mode handler */
  mode?: 'real' | 'virtual';
  /** H_GET_TCE: the TCE returned */
  value?: bigint;
  lockedVm: Record<string, number>;
  breakdown: Record<string, LockedVmBreakdown>;
  explain: string;
  /** the kernel function that decided the result (absent in files written before cites existed) */
  cite?: EventCite;
  deltas: StateDeltas;
}

/** A system call other than ioctl: mlock / munlock (kernel-model.md §13.10.3). */
export interface SyscallEvent extends EventBase {
  kind: 'syscall';
  pid: number;
  op: string;
  args: Record<string, bigint | number | string | boolean>;
  ret: number;
  errno: string | null;
  lockedVm: Record<string, number>;
  breakdown: Record<string, LockedVmBreakdown>;
  explain: string;
  /** the kernel function that decided the result (absent in files written before cites existed) */
  cite?: EventCite;
  /** set when RLIMIT_MEMLOCK refused mlock's charge (ENOMEM, §1.5) */
  memlock?: MemlockRefusal;
  deltas: StateDeltas;
}

export type RunEvent = IoctlEvent | ActionEvent | HcallEvent | SyscallEvent | ExpectEvent | LogEvent;

/**
 * A run's event log as its readers see it: a plain array, or the columnar EventStore (event-store.ts)
 * that materialises events on demand. Index with at(i), never [i].
 */
export interface EventList extends Iterable<RunEvent> {
  readonly length: number;
  at(index: number): RunEvent | undefined;
  slice(start?: number, end?: number): RunEvent[];
  filter<S extends RunEvent>(pred: (e: RunEvent, i: number) => e is S): S[];
  filter(pred: (e: RunEvent, i: number) => unknown): RunEvent[];
  map<T>(fn: (e: RunEvent, i: number) => T): T[];
  find(pred: (e: RunEvent, i: number) => unknown): RunEvent | undefined;
}

export interface StateDeltas {
  tces?: TceRun[];
  windows?: WindowDelta[];
  regions?: RegionDelta[];
  containers?: ContainerDelta[];
  groups?: GroupDelta[];
  /** KVM TCE tables and their guest-visible entries (§13) */
  kvmTables?: KvmTableDelta[];
  kvmTces?: KvmTceRun[];
  /** host-level facts a fold needs: hosts and processes created */
  hosts?: { id: number; kernel: string; pageSize: number }[];
  processes?: {
    pid: number;
    host: number;
    name: string;
    memlock: bigint;
    capIpcLock: boolean;
    exited: boolean;
  }[];
}
