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
  type DmawbKernel = '4.2' | '5.x' | 'mainline';

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
    /**
     * Starts a process. memlock = soft RLIMIT_MEMLOCK in bytes (default 64 KiB). guest = the VM it runs
     * (memlock sizing only; default the host's guest).
     */
    spawn(opts?: { name?: string; memlock?: DmawbBig; capIpcLock?: boolean; guest?: DmawbGuest }): Process;
  }

  /**
   * The VM a QEMU process runs, as its libvirt domain XML describes it. Only memlock sizing reads it
   * (`dmawb size`, the Memlock panel): the RLIMIT_MEMLOCK libvirt would set for the process (its ppc64
   * formula) side by side with what the run charged. It changes nothing the emulated kernel does.
   */
  interface DmawbGuest {
    /** <memory>: guest RAM the XML defines (initial RAM plus DIMMs listed in the XML), bytes */
    ram: DmawbBig;
    /** <maxMemory>: the hot-plug ceiling, bytes; default ram */
    maxRam?: DmawbBig;
    /** PCI host bridges (spapr-pci-host-bridge controllers, the default one included); default 1 */
    phbs?: number;
    /** VFIO PCI devices passed through (<hostdev>); default 0 */
    passthrough?: number;
    /** one of the passed-through devices is an NVLink2 GPU bridge (POWER9 + V100); default false */
    nvlink2?: boolean;
    /** <memtune><hard_limit>, bytes: libvirt then uses it as the limit, whatever the formula says */
    hardLimit?: DmawbBig;
    /** <memoryBacking><locked/>: libvirt sets the limit to unlimited */
    locked?: boolean;
    /** domain type: 'kvm' (default) or 'tcg' (libvirt sets no limit for a TCG guest) */
    accel?: 'kvm' | 'tcg';
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
    /** process exit: mm teardown, then its fds are closed (also its VMs, KVM tables and kvm-vfio devices) */
    exit(): void;
    /** open("/dev/kvm") + KVM_CREATE_VM(0): a KVM-HV VM bound to this process's mm; locked_vm unchanged */
    openKvm(): KvmVm;
    /** mlock(2): ret 0 / -errno. VM_LOCKED pages count in locked_vm next to REGISTER (the double count) */
    mlock(args: { addr: DmawbBig; size: DmawbBig }): IoctlResult;
    /** munlock(2) */
    munlock(args: { addr: DmawbBig; size: DmawbBig }): IoctlResult;
  }

  /** A KVM-HV VM (kernel-model.md §13). Its guest issues hypercalls through `hcall`; QEMU's side is `qemu`. */
  interface KvmVm {
    /** KVM_CHECK_EXTENSION on the VM fd; ret = the answer */
    checkExtension(cap: number): IoctlResult;
    /** KVM_ENABLE_CAP(KVM_CAP_PPC_ENABLE_HCALL, [hcall, enable ? 1 : 0]); a new VM has H_GET_TCE and H_PUT_TCE on */
    enableHcall(hcall: number, enable?: boolean): IoctlResult;
    /** KVM_SET_USER_MEMORY_REGION; memorySize 0 deletes the slot */
    setUserMemoryRegion(args: {
      slot: number;
      guestPhysAddr: DmawbBig;
      memorySize: DmawbBig;
      userspaceAddr: DmawbBig;
      flags?: number;
    }): IoctlResult;
    /** KVM_CREATE_SPAPR_TCE (4 KiB TCEs at bus 0); ret 0 and the table in out */
    createSpaprTce(args: { liobn: number; windowSize: DmawbBig }): IoctlResult<{ table: SpaprTceTable }>;
    /** KVM_CREATE_SPAPR_TCE_64; offset and size in IOMMU pages */
    createSpaprTce64(args: {
      liobn: number;
      pageShift: number;
      offset: DmawbBig;
      size: DmawbBig;
      flags?: number;
    }): IoctlResult<{ table: SpaprTceTable }>;
    /** KVM_CREATE_DEVICE(KVM_DEV_TYPE_VFIO) */
    createVfioDevice(): IoctlResult<{ device: KvmVfioDevice }>;
    /** what QEMU does: create the kvm-vfio device on first use, GROUP_ADD unless added, then SET_SPAPR_TCE */
    attachVfioGroup(group: GroupFd, table: SpaprTceTable): IoctlResult;
    readonly vfioDevice: KvmVfioDevice | null;
    /** the guest's TCE hypercalls */
    readonly hcall: KvmHcalls;
    /** QEMU's userspace side (hw/ppc/spapr_iommu.c) */
    readonly qemu: QemuSpapr;
    /** close the VM fd; hypercalls after it throw */
    close(): void;
  }

  /** A KVM TCE table fd ("kvm-spapr-tce") */
  interface SpaprTceTable {
    readonly liobn: number;
    readonly pageShift: number;
    /** first entry (bus address >> pageShift) */
    readonly offset: bigint;
    /** entries */
    readonly size: bigint;
    /** locked_vm pages charged for it (kvmppc_stt_pages); 0 in 4.2 */
    readonly chargedPages: number;
    /** inspection: guest-visible entry, index = (ioba >> pageShift) - offset; 0n if never written */
    tce(index: number): bigint;
    /** release: LIOBN forgotten, links dropped, charge refunded; hardware TCEs untouched */
    close(): void;
  }

  /** The kvm-vfio pseudo device fd */
  interface KvmVfioDevice {
    /** KVM_DEV_VFIO_GROUP_ADD */
    addGroup(group: GroupFd): IoctlResult;
    /** KVM_DEV_VFIO_GROUP_DEL */
    delGroup(group: GroupFd): IoctlResult;
    /** KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE */
    setSpaprTce(group: GroupFd, table: SpaprTceTable): IoctlResult;
    close(): void;
  }

  /** The guest's TCE hypercalls */
  interface KvmHcalls {
    /** H_PUT_TCE */
    putTce(liobn: number, ioba: DmawbBig, tce: DmawbBig): HcallResult;
    /** H_PUT_TCE_INDIRECT: the guest writes `tces` at listGpa (default 0n) and passes npages (default tces.length) */
    putTceIndirect(
      liobn: number,
      ioba: DmawbBig,
      tces: DmawbBig[],
      opts?: { listGpa?: DmawbBig; npages?: number },
    ): HcallResult;
    /** H_STUFF_TCE */
    stuffTce(liobn: number, ioba: DmawbBig, value: DmawbBig, npages: number): HcallResult;
    /** H_GET_TCE */
    getTce(liobn: number, ioba: DmawbBig): HcallResult;
  }

  interface HcallCall {
    hcall: number;
    liobn: number;
    ioba: bigint;
    tce?: bigint;
    tces?: bigint[];
    listGpa?: bigint;
    npages?: number;
  }

  interface HcallResult {
    /** the H_* value the guest gets; H_TOO_HARD (9999) when KVM exited to userspace */
    ret: number;
    /** 'H_SUCCESS', 'H_PARAMETER', 'H_TOO_HARD', … */
    name: string;
    /** 'kernel': KVM answered; 'qemu': KVM exited (pass the result to vm.qemu.handle()) or QEMU answered */
    handledBy: 'kernel' | 'qemu';
    /** kernel answers: 'real' (4.2, POWER8) or 'virtual' (5.x, mainline) */
    mode?: 'real' | 'virtual';
    /** H_GET_TCE: the TCE returned in r4 */
    value?: bigint;
    call: HcallCall;
    /** vm.qemu.handle() only: the VFIO ioctls QEMU issued */
    vfio?: QemuVfioCall[];
    explain?: string;
  }

  interface QemuSpapr {
    /** a QEMU TCE table; with kvm it is that KVM table's mmap; with container its IOMMU notifier maps through VFIO */
    addTable(opts: {
      liobn?: number;
      pageShift?: number;
      busOffset?: DmawbBig;
      entries?: number;
      kvm?: SpaprTceTable;
      container?: Container;
    }): QemuTceTable;
    /** runs QEMU's handler for an exit; returns r unchanged when KVM handled it */
    handle(r: HcallResult): HcallResult;
  }

  interface QemuTceTable {
    readonly liobn: number;
    readonly pageShift: number;
    readonly busOffset: bigint;
    readonly entries: number;
    readonly kvmBacked: boolean;
    tce(index: number): bigint;
  }

  interface QemuVfioCall {
    op: 'VFIO_IOMMU_MAP_DMA' | 'VFIO_IOMMU_UNMAP_DMA';
    iova: bigint;
    size: bigint;
    vaddr?: bigint;
    flags?: number;
    result: IoctlResult;
  }

  /** passes iff r.ret === ret and, when given, r.handledBy === handledBy */
  function expectHcall(r: HcallResult, ret: number, handledBy?: 'kernel' | 'qemu', label?: string): void;

  const H_SUCCESS: 0;
  const H_BUSY: 1;
  const H_CLOSED: 2;
  const H_HARDWARE: -1;
  const H_FUNCTION: -2;
  const H_PRIVILEGE: -3;
  const H_PARAMETER: -4;
  /** KVM-internal: exit to userspace; a guest never receives it */
  const H_TOO_HARD: 9999;
  const H_GET_TCE: 0x1c;
  const H_PUT_TCE: 0x20;
  const H_STUFF_TCE: 0x138;
  const H_PUT_TCE_INDIRECT: 0x13c;
  const KVM_CAP_SPAPR_TCE: 63;
  const KVM_CAP_SPAPR_MULTITCE: 94;
  const KVM_CAP_PPC_ENABLE_HCALL: 104;
  const KVM_CAP_SPAPR_TCE_64: 125;
  const KVM_CAP_SPAPR_TCE_VFIO: 142;

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
    /** largest page-allocator block (PAGE_SIZE << max order): a TCE table level above it fails with ENOMEM; default 16 MiB */
    maxAllocSize?: DmawbBig;
    /** the guest this host runs: the default guest of every process spawned without one */
    guest?: DmawbGuest;
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
    readonly EIO: 5;
    readonly ENXIO: 6;
    readonly EBADF: 9;
    readonly ENOMEM: 12;
    readonly EFAULT: 14;
    readonly EBUSY: 16;
    readonly EEXIST: 17;
    readonly ENODEV: 19;
    readonly EINVAL: 22;
    readonly ENOTTY: 25;
    readonly ENOSPC: 28;
    readonly EBADFD: 77;
  };
}
