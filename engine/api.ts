/**
 * Scenario API contract: models no kernel file.
 * The scenario API (scenario-api.md §1–§2) as TypeScript types. This is a contract: user scenario files and
 * outside test suites rely on every name here. Extend it; never rename or change what is here.
 *
 * The engine implements these interfaces directly (engine/facade.ts); the sandboxed runner proxies them
 * into the scenario's QuickJS realm.
 */

import type { KvmVmApi } from './kvm/api.ts';
export type {
  HcallCall,
  HcallResult,
  KvmHcallsApi,
  KvmVfioDeviceApi,
  KvmVmApi,
  QemuSpaprApi,
  QemuTceTableApi,
  QemuVfioCall,
  SpaprTceTableApi,
} from './kvm/api.ts';

import type { KernelName } from '../common/kernels.ts';

export type { KernelName };

/** Addresses and sizes: bigint, or a JavaScript number when it is a safe integer (scenario-api.md §1). */
export type BigIntLike = bigint | number;

export interface HostOptions {
  kernel?: KernelName;
  pageSize?: 4096 | 65536;
  ramSize?: BigIntLike;
  eeh?: boolean;
  /** largest page-allocator block (PAGE_SIZE << max order) in bytes; default 16 MiB (kernel-model.md §14.3) */
  maxAllocSize?: BigIntLike;
  /** the guest this host runs: the default `guest` of every process spawned without one */
  guest?: GuestOptions;
}

/**
 * The VM a QEMU process runs, as its libvirt domain XML describes it. Only memlock sizing reads it
 * (`dmawb size`, scenario-api.md §4.1): it computes the RLIMIT_MEMLOCK libvirt would set for the process
 * (qemuDomainGetMemLockLimitBytes, ppc64 formula) and compares it with what the run charged. It changes
 * nothing the emulated kernel does.
 */
export interface GuestOptions {
  /** <memory>: guest RAM the XML defines (initial RAM plus DIMMs listed in the XML), bytes */
  ram: BigIntLike;
  /** <maxMemory>: the hot-plug ceiling, bytes; default `ram` */
  maxRam?: BigIntLike;
  /** PCI host bridges (spapr-pci-host-bridge controllers, the default one included); default 1 */
  phbs?: number;
  /** VFIO PCI devices passed through (<hostdev>); default 0 */
  passthrough?: number;
  /** one of the passed-through devices is an NVLink2 GPU bridge (POWER9 + V100); default false */
  nvlink2?: boolean;
  /** <memtune><hard_limit>, bytes: libvirt then uses it as the limit, whatever the formula says */
  hardLimit?: BigIntLike;
  /** <memoryBacking><locked/>: libvirt sets the limit to unlimited */
  locked?: boolean;
  /** domain type: 'kvm' (default) or 'tcg' (libvirt sets no limit for a TCG guest) */
  accel?: 'kvm' | 'tcg';
}

export interface PhbOptions {
  model?: 'IODA2' | 'IODA1';
  tce32Start?: BigIntLike;
  tce32Size?: BigIntLike;
  pgsizes?: BigIntLike;
}

export interface SpawnOptions {
  name?: string;
  memlock?: BigIntLike;
  capIpcLock?: boolean;
  /** the VM this process runs (memlock sizing only); default the host's `guest` */
  guest?: GuestOptions;
}

export interface MmapOptions {
  size: BigIntLike;
  at?: BigIntLike;
  prot?: 'rw' | 'r';
  hugepage?: '16M';
}

export interface HostApi {
  readonly kernel: KernelName;
  readonly pageSize: number;
  addPhb(opts?: PhbOptions): PhbApi;
  spawn(opts?: SpawnOptions): ProcessApi;
}

export interface PhbApi {
  readonly id: number;
  addGroup(opts?: { devices?: string[]; kernelDma?: boolean }): IommuGroupApi;
}

export interface IommuGroupApi {
  readonly id: number;
  readonly name: string;
}

export interface RegionInfo {
  ua: bigint;
  size: bigint;
  entries: number;
  used: number;
  mapped: number;
  pageShift?: number;
}

export interface ProcessApi {
  readonly pid: number;
  readonly name: string;
  readonly lockedVm: number;
  readonly lockedVmBytes: bigint;
  memlock: bigint;
  capIpcLock: boolean;
  mmap(opts: MmapOptions): bigint;
  munmap(vaddr: BigIntLike, size: BigIntLike): void;
  hpa(vaddr: BigIntLike): bigint;
  pins(vaddr: BigIntLike): number;
  regions(): RegionInfo[];
  openContainer(): ContainerApi;
  openGroup(group: IommuGroupApi): GroupFdApi;
  adopt(container: ContainerApi): ContainerApi;
  exit(): void;
  /** open("/dev/kvm") + KVM_CREATE_VM(0): a KVM-HV VM bound to this process's mm (§2.1.2) */
  openKvm(): KvmVmApi;
  /** mlock(2): ret 0 / -errno (kernel-model.md §13.10.3) */
  mlock(args: { addr: BigIntLike; size: BigIntLike }): IoctlResult;
  /** munlock(2) */
  munlock(args: { addr: BigIntLike; size: BigIntLike }): IoctlResult;
}

export interface IoctlResult<Out = undefined> {
  ret: number;
  errno?: string;
  out?: Out;
  explain?: string;
}

export interface GroupFdApi {
  getStatus(): IoctlResult<{ flags: number }>;
  setContainer(container: ContainerApi): IoctlResult;
  unsetContainer(): IoctlResult;
  openDevice(name?: string): DeviceFdApi;
  close(): void;
}

export interface DeviceFdApi {
  close(): void;
}

export interface InfoOut {
  flags: number;
  dma32WindowStart: bigint;
  dma32WindowSize: bigint;
  ddw: { pgsizes: bigint; maxDynamicWindowsSupported: number; levels: number };
}

export interface MapArgs {
  vaddr: BigIntLike;
  iova: BigIntLike;
  size: BigIntLike;
  flags?: number;
  argsz?: number;
}
export interface UnmapArgs {
  iova: BigIntLike;
  size: BigIntLike;
  flags?: number;
  argsz?: number;
}
export interface RegisterArgs {
  vaddr: BigIntLike;
  size: BigIntLike;
  flags?: number;
  argsz?: number;
}
export interface CreateArgs {
  pageShift: number;
  windowSize: BigIntLike;
  levels: number;
  flags?: number;
  argsz?: number;
}
export interface RemoveArgs {
  startAddr: BigIntLike;
  flags?: number;
  argsz?: number;
}
export interface EehArgs {
  op: number;
  flags?: number;
  argsz?: number;
}

export interface ContainerApi {
  getApiVersion(): IoctlResult;
  checkExtension(ext: number): IoctlResult;
  setIommu(type: number): IoctlResult;
  getInfo(args?: { argsz?: number }): IoctlResult<InfoOut>;
  enable(): IoctlResult;
  disable(): IoctlResult;
  mapDma(args: MapArgs): IoctlResult;
  unmapDma(args: UnmapArgs): IoctlResult;
  registerMemory(args: RegisterArgs): IoctlResult;
  unregisterMemory(args: RegisterArgs): IoctlResult;
  createWindow(args: CreateArgs): IoctlResult<{ startAddr: bigint }>;
  removeWindow(args: RemoveArgs): IoctlResult;
  eehPeOp(args: EehArgs): IoctlResult;
  ioctl(request: string | number, args?: Record<string, unknown>): IoctlResult<unknown>;
  close(): void;
  readonly defaultWindowPending: boolean;
  window(slot: 0 | 1): WindowInfo | null;
  tce(slot: 0 | 1, index: number): TceInfo;
}

export interface WindowInfo {
  slot: number;
  startAddr: bigint;
  pageShift: number;
  size: bigint;
  levels: number;
  entries: number;
}

export interface TceInfo {
  value: bigint;
  hpa: bigint;
  perm: number;
  ua: bigint;
}

/** An error the scenario made that the kernel could not see (bad option, unsafe number, …). */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}
