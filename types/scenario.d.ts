/**
 * DMA Workbench scenario API — the globals a scenario file sees (scenario-api.md §1–§3).
 *
 * A scenario drives an emulated POWER host through the ioctl sequence a VMM issues. Addresses and sizes
 * are bigint (a safe-integer number is accepted too); counts are numbers. Every ioctl returns an
 * IoctlResult: `ret` is what the kernel handler returns (0, a positive value, or -errno), `errno` names
 * the error, `explain` says which rule decided it.
 *
 * This file is self-contained (the editor loads it as is); test/engine/api-types.test.ts checks that it
 * matches engine/api.ts.
 */

export {};

declare global {
  /** Behaviour profile: the 4.2 driver (v2 + DDW as merged) or current mainline. */
  type DmawbKernel = '4.2' | 'mainline';

  /** bigint, or a JavaScript number that is a safe integer */
  type DmawbBig = bigint | number;

  interface IoctlResult<Out = undefined> {
    /** what the kernel handler returns: 0, a positive value, or -errno */
    ret: number;
    /** 'EBUSY' … when ret < 0 */
    errno?: string;
    /** output fields, when the call succeeded */
    out?: Out;
    /** one line: why this result (the rule that decided it, with its § reference) */
    explain?: string;
  }

  interface Host {
    readonly kernel: DmawbKernel;
    /** system PAGE_SIZE in bytes */
    readonly pageSize: number;
    /** Adds a PowerNV PHB. IODA2 (default) is DDW-capable; IODA1 is a non-DDW PHB. */
    addPhb(opts?: {
      model?: 'IODA2' | 'IODA1';
      /** default 0n */
      tce32Start?: DmawbBig;
      /** default 2 GiB */
      tce32Size?: DmawbBig;
      /** supported IOMMU page sizes bitmap; default per kernel profile (4.2: 4K|64K|16M) */
      pgsizes?: DmawbBig;
    }): Phb;
    /** Starts a process. memlock = soft RLIMIT_MEMLOCK in bytes (default 64 KiB). */
    spawn(opts?: { name?: string; memlock?: DmawbBig; capIpcLock?: boolean }): Process;
  }

  interface Phb {
    readonly id: number;
    /** Adds a PE with its IOMMU group. kernelDma (IODA1 only): the host kernel still has DMA mappings in it. */
    addGroup(opts?: { devices?: string[]; kernelDma?: boolean }): IommuGroup;
  }

  interface IommuGroup {
    readonly id: number;
    readonly name: string;
  }

  interface Region {
    ua: bigint;
    size: bigint;
    /** system pages */
    entries: number;
    /** registration references */
    used: number;
    /** 1 + the number of TCEs pointing into the region */
    mapped: number;
    /** mainline only: largest IOMMU page shift the region can back */
    pageShift?: number;
  }

  interface Process {
    readonly pid: number;
    readonly name: string;
    /** mm->locked_vm in system pages */
    readonly lockedVm: number;
    readonly lockedVmBytes: bigint;
    /** soft RLIMIT_MEMLOCK in bytes (settable: setrlimit) */
    memlock: bigint;
    /** settable */
    capIpcLock: boolean;
    /** Anonymous memory; returns its address. With `at` the mapping is placed there. */
    mmap(opts: { size: DmawbBig; at?: DmawbBig; prot?: 'rw' | 'r'; hugepage?: '16M' }): bigint;
    munmap(vaddr: DmawbBig, size: DmawbBig): void;
    /** host physical address backing vaddr (deterministic per run) */
    hpa(vaddr: DmawbBig): bigint;
    /** page references held on the system page containing vaddr (v1 MAP pins, v2 REGISTER pins) */
    pins(vaddr: DmawbBig): number;
    /** this mm's pre-registered regions, newest first */
    regions(): Region[];
    /** open("/dev/vfio/vfio") */
    openContainer(): Container;
    /** open("/dev/vfio/<group>") */
    openGroup(group: IommuGroup): GroupFd;
    /** the same open container used from this process (fd passing) */
    adopt(container: Container): Container;
    /** process exit: mm teardown, then its fds are closed */
    exit(): void;
  }

  interface GroupFd {
    getStatus(): IoctlResult<{ flags: number }>;
    setContainer(container: Container): IoctlResult;
    unsetContainer(): IoctlResult;
    /** VFIO_GROUP_GET_DEVICE_FD */
    openDevice(name?: string): DeviceFd;
    close(): void;
  }

  interface DeviceFd {
    close(): void;
  }

  interface DmawbWindow {
    slot: number;
    startAddr: bigint;
    pageShift: number;
    size: bigint;
    levels: number;
    entries: number;
  }

  interface Tce {
    value: bigint;
    hpa: bigint;
    perm: number;
    /** it_userspace (0n if none) */
    ua: bigint;
  }

  interface Container {
    getApiVersion(): IoctlResult;
    /** ret is the answer (0 or 1) */
    checkExtension(ext: number): IoctlResult;
    setIommu(type: number): IoctlResult;
    getInfo(args?: { argsz?: number }): IoctlResult<{
      flags: number;
      dma32WindowStart: bigint;
      dma32WindowSize: bigint;
      ddw: { pgsizes: bigint; maxDynamicWindowsSupported: number; levels: number };
    }>;
    /** v1: charges the 32-bit window to locked_vm */
    enable(): IoctlResult;
    disable(): IoctlResult;
    /** flags default RW */
    mapDma(args: {
      vaddr: DmawbBig;
      iova: DmawbBig;
      size: DmawbBig;
      flags?: number;
      argsz?: number;
    }): IoctlResult;
    unmapDma(args: { iova: DmawbBig; size: DmawbBig; flags?: number; argsz?: number }): IoctlResult;
    /** v2: pins and charges the range (system-page aligned) */
    registerMemory(args: { vaddr: DmawbBig; size: DmawbBig; flags?: number; argsz?: number }): IoctlResult;
    /** v2: the range must match a registration exactly */
    unregisterMemory(args: { vaddr: DmawbBig; size: DmawbBig; flags?: number; argsz?: number }): IoctlResult;
    /** v2 DDW: the platform chooses start_addr (slot 0 → tce32_start, slot 1 → 1 << 59) */
    createWindow(args: {
      pageShift: number;
      windowSize: DmawbBig;
      levels: number;
      flags?: number;
      argsz?: number;
    }): IoctlResult<{ startAddr: bigint }>;
    /** v2 DDW: any bus address inside the window */
    removeWindow(args: { startAddr: DmawbBig; flags?: number; argsz?: number }): IoctlResult;
    eehPeOp(args: { op: number; flags?: number; argsz?: number }): IoctlResult;
    /** raw form: uAPI name ('VFIO_IOMMU_MAP_DMA') or request number */
    ioctl(request: string | number, args?: Record<string, unknown>): IoctlResult<unknown>;
    close(): void;
    /** inspection (no ioctl): mainline's lazily created default window is still pending */
    readonly defaultWindowPending: boolean;
    /** inspection: the window in a slot, or null */
    window(slot: 0 | 1): DmawbWindow | null;
    /** inspection: TCE at index (entry - it_offset) of a window */
    tce(slot: 0 | 1, index: number): Tce;
  }

  /** Creates an emulated host. kernel defaults to the run's setting (--kernel / the selector), else 'mainline'. */
  function createHost(opts?: {
    kernel?: DmawbKernel;
    /** system PAGE_SIZE; default 65536 */
    pageSize?: 4096 | 65536;
    /** host RAM; default 64 GiB (4.2 refuses DDW windows larger than this) */
    ramSize?: DmawbBig;
    /** host has EEH enabled; default true */
    eeh?: boolean;
  }): Host;

  /** passes iff r.ret === 0 */
  function expectOk(r: IoctlResult<any>, label?: string): void;
  /** passes iff the call failed with this errno ('EBUSY', …) */
  function expectErrno(r: IoctlResult<any>, errno: string, label?: string): void;
  /** passes iff r.ret === ret */
  function expectRet(r: IoctlResult<any>, ret: number, label?: string): void;
  /** numbers and bigints compare by value (3 equals 3n); everything else with Object.is */
  function expectEq(actual: unknown, expected: unknown, label?: string): void;
  function log(...values: unknown[]): void;

  const KiB: bigint;
  const MiB: bigint;
  const GiB: bigint;
  const TiB: bigint;
  /** VFIO_DMA_MAP_FLAG_READ */
  const READ: 1;
  /** VFIO_DMA_MAP_FLAG_WRITE */
  const WRITE: 2;
  const RW: 3;
  const VFIO_TYPE1_IOMMU: 1;
  /** sPAPR TCE v1 */
  const VFIO_SPAPR_TCE_IOMMU: 2;
  const VFIO_TYPE1v2_IOMMU: 3;
  const VFIO_DMA_CC_IOMMU: 4;
  const VFIO_EEH: 5;
  /** sPAPR TCE v2 (memory pre-registration, DDW) */
  const VFIO_SPAPR_TCE_v2_IOMMU: 7;
  /** Linux/powerpc errno numbers */
  const errno: {
    readonly EPERM: 1;
    readonly ENOENT: 2;
    readonly ESRCH: 3;
    readonly ENXIO: 6;
    readonly EBADF: 9;
    readonly ENOMEM: 12;
    readonly EFAULT: 14;
    readonly EBUSY: 16;
    readonly ENODEV: 19;
    readonly EINVAL: 22;
    readonly ENOTTY: 25;
    readonly ENOSPC: 28;
    readonly EBADFD: 77;
  };
}
