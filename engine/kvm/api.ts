/**
 * Scenario API contract: models no kernel file.
 * The KVM part of the scenario API (scenario-api.md §2.1) as TypeScript types. A contract like
 * engine/api.ts, which re-exports these: extend, never rename or change.
 */
import type { BigIntLike, ContainerApi, GroupFdApi, IoctlResult } from '../api.ts';

export interface KvmVmApi {
  checkExtension(cap: number): IoctlResult;
  enableHcall(hcall: number, enable?: boolean): IoctlResult;
  setUserMemoryRegion(args: {
    slot: number;
    guestPhysAddr: BigIntLike;
    memorySize: BigIntLike;
    userspaceAddr: BigIntLike;
    flags?: number;
  }): IoctlResult;
  createSpaprTce(args: { liobn: number; windowSize: BigIntLike }): IoctlResult<{ table: SpaprTceTableApi }>;
  createSpaprTce64(args: {
    liobn: number;
    pageShift: number;
    offset: BigIntLike;
    size: BigIntLike;
    flags?: number;
  }): IoctlResult<{ table: SpaprTceTableApi }>;
  createVfioDevice(): IoctlResult<{ device: KvmVfioDeviceApi }>;
  attachVfioGroup(group: GroupFdApi, table: SpaprTceTableApi): IoctlResult;
  readonly vfioDevice: KvmVfioDeviceApi | null;
  readonly hcall: KvmHcallsApi;
  readonly qemu: QemuSpaprApi;
  close(): void;
}

export interface SpaprTceTableApi {
  readonly liobn: number;
  readonly pageShift: number;
  readonly offset: bigint;
  readonly size: bigint;
  readonly chargedPages: number;
  tce(index: number): bigint;
  close(): void;
}

export interface KvmVfioDeviceApi {
  addGroup(group: GroupFdApi): IoctlResult;
  delGroup(group: GroupFdApi): IoctlResult;
  setSpaprTce(group: GroupFdApi, table: SpaprTceTableApi): IoctlResult;
  close(): void;
}

export interface KvmHcallsApi {
  putTce(liobn: number, ioba: BigIntLike, tce: BigIntLike): HcallResult;
  putTceIndirect(
    liobn: number,
    ioba: BigIntLike,
    tces: BigIntLike[],
    opts?: { listGpa?: BigIntLike; npages?: number },
  ): HcallResult;
  stuffTce(liobn: number, ioba: BigIntLike, value: BigIntLike, npages: number): HcallResult;
  getTce(liobn: number, ioba: BigIntLike): HcallResult;
}

export interface HcallCall {
  hcall: number;
  liobn: number;
  ioba: bigint;
  tce?: bigint;
  tces?: bigint[];
  listGpa?: bigint;
  npages?: number;
}

export interface HcallResult {
  ret: number;
  name: string;
  handledBy: 'kernel' | 'qemu';
  mode?: 'real' | 'virtual';
  value?: bigint;
  call: HcallCall;
  vfio?: QemuVfioCall[];
  explain?: string;
}

export interface QemuSpaprApi {
  addTable(opts: {
    liobn?: number;
    pageShift?: number;
    busOffset?: BigIntLike;
    entries?: number;
    kvm?: SpaprTceTableApi;
    container?: ContainerApi;
  }): QemuTceTableApi;
  handle(r: HcallResult): HcallResult;
}

export interface QemuTceTableApi {
  readonly liobn: number;
  readonly pageShift: number;
  readonly busOffset: bigint;
  readonly entries: number;
  readonly kvmBacked: boolean;
  tce(index: number): bigint;
}

export interface QemuVfioCall {
  op: 'VFIO_IOMMU_MAP_DMA' | 'VFIO_IOMMU_UNMAP_DMA';
  iova: bigint;
  size: bigint;
  vaddr?: bigint;
  flags?: number;
  result: IoctlResult;
}
