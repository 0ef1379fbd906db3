/**
 * Scenario-API layer: models no kernel file. The Container object of the scenario API (scenario-api.md
 * §2): the container fd's ioctls with their arguments checked, the VFIO core's dispatch (closed fd →
 * EBADF, no driver yet → EINVAL), the kernel call (vfio-container.ts, spapr-tce*.ts, spapr-eeh.ts) and
 * one event per call; plus the read-only inspection of its windows and TCEs.
 */
import { SYS_IOCTL } from './cite.ts';
import { closeFd } from './vfio-group.ts';
import { vfioGetApiVersion, vfioIoctlCheckExtension, vfioIoctlSetIommu } from './vfio-container.ts';
import type { ContainerFile } from './vfio-container.ts';
import { tceIommuDisable, tceIommuEnable, tceIommuIoctlDefault, tceIommuIoctlGetInfo } from './spapr-tce.ts';
import { tceIommuIoctlTceCreate, tceIommuRemoveWindow } from './spapr-tce-ddw.ts';
import { tceIommuRegisterPages, tceIommuUnregisterPages } from './spapr-tce-prereg.ts';
import { vfioSpaprIommuEehIoctl } from './spapr-eeh.ts';
import { tceIommuIoctlMapDma, tceIommuIoctlUnmapDma } from './spapr-tce-map.ts';
import {
  ScenarioError,
  type ContainerApi,
  type CreateArgs,
  type EehArgs,
  type InfoOut,
  type IoctlResult,
  type MapArgs,
  type RegisterArgs,
  type RemoveArgs,
  type TceInfo,
  type UnmapArgs,
  type WindowInfo,
} from './api.ts';
import type { IoctlEvent } from './events.ts';
import { ioctlByRequest, type IoctlName } from './ioctls.ts';
import type { Kernel, Res } from './kernel.ts';
import { need, req, toResult, toU32 } from './facade-args.ts';
import type { HostFacade, ProcessFacade } from './facade.ts';

type Args = Record<string, unknown>;

export class ContainerFacade implements ContainerApi {
  constructor(
    readonly host: HostFacade,
    readonly proc: ProcessFacade,
    readonly f: ContainerFile,
  ) {}

  private get k(): Kernel {
    return this.host.k;
  }

  /** VFIO core dispatch (§3): closed fd → EBADF; no driver → EINVAL for driver ioctls */
  private call<Out>(
    op: IoctlName,
    args: IoctlEvent['args'],
    driverIoctl: boolean,
    fn: () => Res<Out>,
  ): IoctlResult<Out> {
    const p = this.proc.p;
    if (p.exited) throw new ScenarioError(`${op}: process ${p.pid} has exited`);
    const c = this.f.container;
    let r: Res<Out>;
    if (!this.f.open) r = { ret: -9, explain: `${op}: the container fd is closed (EBADF)`, cite: SYS_IOCTL };
    else if (driverIoctl && !c.driver)
      r = {
        ret: -22,
        explain: `${op}: the container has no IOMMU driver yet (VFIO_SET_IOMMU), the VFIO core answers EINVAL (§3 item 1)`,
        cite: this.k.profile.src.containerIoctl,
      };
    else r = fn();
    return this.host.rec.ioctl(this.k, p, { type: 'container', id: c.id }, op, args, r, toResult(r));
  }

  getApiVersion(): IoctlResult {
    return this.call('VFIO_GET_API_VERSION', {}, false, () => vfioGetApiVersion(this.k));
  }

  checkExtension(ext: number): IoctlResult {
    const e = toU32(ext, 'checkExtension: ext');
    return this.call('VFIO_CHECK_EXTENSION', { ext: e }, false, () => vfioIoctlCheckExtension(this.k, e));
  }

  setIommu(type: number): IoctlResult {
    const t = toU32(type, 'setIommu: type');
    return this.call('VFIO_SET_IOMMU', { type: t }, false, () =>
      vfioIoctlSetIommu(this.k, this.proc.p, this.f.container, t),
    );
  }

  getInfo(args: { argsz?: number } = {}): IoctlResult<InfoOut> {
    const a = need(args, 'getInfo');
    const argsz = toU32(a.argsz, 'getInfo: argsz', 32);
    return this.call('VFIO_IOMMU_SPAPR_TCE_GET_INFO', { argsz }, true, () =>
      tceIommuIoctlGetInfo(this.k, this.proc.p, this.f.container, argsz),
    );
  }

  enable(): IoctlResult {
    return this.call('VFIO_IOMMU_ENABLE', {}, true, () =>
      tceIommuEnable(this.k, this.proc.p, this.f.container),
    );
  }

  disable(): IoctlResult {
    return this.call('VFIO_IOMMU_DISABLE', {}, true, () =>
      tceIommuDisable(this.k, this.proc.p, this.f.container),
    );
  }

  mapDma(args: MapArgs): IoctlResult {
    const a = need(args, 'mapDma') as Args;
    const m = {
      argsz: toU32(a.argsz, 'mapDma: argsz', 32),
      flags: toU32(a.flags, 'mapDma: flags', 3),
      vaddr: req(a, 'vaddr', 'mapDma'),
      iova: req(a, 'iova', 'mapDma'),
      size: req(a, 'size', 'mapDma'),
    };
    return this.call('VFIO_IOMMU_MAP_DMA', m, true, () =>
      tceIommuIoctlMapDma(this.k, this.proc.p, this.f.container, m),
    );
  }

  unmapDma(args: UnmapArgs): IoctlResult {
    const a = need(args, 'unmapDma') as Args;
    const m = {
      argsz: toU32(a.argsz, 'unmapDma: argsz', 24),
      flags: toU32(a.flags, 'unmapDma: flags', 0),
      iova: req(a, 'iova', 'unmapDma'),
      size: req(a, 'size', 'unmapDma'),
    };
    return this.call('VFIO_IOMMU_UNMAP_DMA', m, true, () =>
      tceIommuIoctlUnmapDma(this.k, this.proc.p, this.f.container, m),
    );
  }

  registerMemory(args: RegisterArgs): IoctlResult {
    const m = this.regArgs(args, 'registerMemory');
    return this.call('VFIO_IOMMU_SPAPR_REGISTER_MEMORY', m, true, () =>
      tceIommuRegisterPages(this.k, this.proc.p, this.f.container, m),
    );
  }

  unregisterMemory(args: RegisterArgs): IoctlResult {
    const m = this.regArgs(args, 'unregisterMemory');
    return this.call('VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY', m, true, () =>
      tceIommuUnregisterPages(this.k, this.proc.p, this.f.container, m),
    );
  }

  private regArgs(
    args: RegisterArgs,
    op: string,
  ): { argsz: number; flags: number; vaddr: bigint; size: bigint } {
    const a = need(args, op) as Args;
    return {
      argsz: toU32(a.argsz, `${op}: argsz`, 24),
      flags: toU32(a.flags, `${op}: flags`, 0),
      vaddr: req(a, 'vaddr', op),
      size: req(a, 'size', op),
    };
  }

  createWindow(args: CreateArgs): IoctlResult<{ startAddr: bigint }> {
    const a = need(args, 'createWindow') as Args;
    if (a.pageShift === undefined) throw new ScenarioError('createWindow: missing pageShift');
    if (a.levels === undefined) throw new ScenarioError('createWindow: missing levels');
    const m = {
      argsz: toU32(a.argsz, 'createWindow: argsz', 40),
      flags: toU32(a.flags, 'createWindow: flags', 0),
      pageShift: toU32(a.pageShift, 'createWindow: pageShift'),
      windowSize: req(a, 'windowSize', 'createWindow'),
      levels: toU32(a.levels, 'createWindow: levels'),
    };
    return this.call('VFIO_IOMMU_SPAPR_TCE_CREATE', m, true, () =>
      tceIommuIoctlTceCreate(this.k, this.proc.p, this.f.container, m),
    );
  }

  removeWindow(args: RemoveArgs): IoctlResult {
    const a = need(args, 'removeWindow') as Args;
    const m = {
      argsz: toU32(a.argsz, 'removeWindow: argsz', 16),
      flags: toU32(a.flags, 'removeWindow: flags', 0),
      startAddr: req(a, 'startAddr', 'removeWindow'),
    };
    return this.call('VFIO_IOMMU_SPAPR_TCE_REMOVE', m, true, () =>
      tceIommuRemoveWindow(this.k, this.proc.p, this.f.container, m),
    );
  }

  eehPeOp(args: EehArgs): IoctlResult {
    const a = need(args, 'eehPeOp') as Args;
    if (a.op === undefined) throw new ScenarioError('eehPeOp: missing op');
    const m = {
      argsz: toU32(a.argsz, 'eehPeOp: argsz', 40),
      flags: toU32(a.flags, 'eehPeOp: flags', 0),
      op: toU32(a.op, 'eehPeOp: op'),
    };
    return this.call('VFIO_EEH_PE_OP', m, true, () =>
      vfioSpaprIommuEehIoctl(this.k, this.proc.p, this.f.container, m),
    );
  }

  /** raw form: uAPI name or request number (generic or powerpc encoding), same argument objects */
  ioctl(request: string | number, args: Record<string, unknown> = {}): IoctlResult<unknown> {
    if (typeof request !== 'string' && typeof request !== 'number')
      throw new ScenarioError('ioctl: request must be a uAPI name or a number');
    const name = ioctlByRequest(request);
    const a = need(args, 'ioctl');
    switch (name) {
      case 'VFIO_GET_API_VERSION':
        return this.getApiVersion();
      case 'VFIO_CHECK_EXTENSION':
        return this.checkExtension((a.ext ?? a.arg) as number);
      case 'VFIO_SET_IOMMU':
        return this.setIommu((a.type ?? a.arg) as number);
      case 'VFIO_IOMMU_SPAPR_TCE_GET_INFO':
        return this.getInfo(a as { argsz?: number });
      case 'VFIO_IOMMU_ENABLE':
        return this.enable();
      case 'VFIO_IOMMU_DISABLE':
        return this.disable();
      case 'VFIO_IOMMU_MAP_DMA':
        return this.mapDma(a as unknown as MapArgs);
      case 'VFIO_IOMMU_UNMAP_DMA':
        return this.unmapDma(a as unknown as UnmapArgs);
      case 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY':
        return this.registerMemory(a as unknown as RegisterArgs);
      case 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY':
        return this.unregisterMemory(a as unknown as RegisterArgs);
      case 'VFIO_IOMMU_SPAPR_TCE_CREATE':
        return this.createWindow(a as unknown as CreateArgs);
      case 'VFIO_IOMMU_SPAPR_TCE_REMOVE':
        return this.removeWindow(a as unknown as RemoveArgs);
      case 'VFIO_EEH_PE_OP':
        return this.eehPeOp(a as unknown as EehArgs);
      default: {
        // group/device ioctls and unknown numbers reach the IOMMU driver, which answers ENOTTY (§3 item 6)
        const label = typeof request === 'number' ? `0x${request.toString(16)}` : request;
        return this.call((name ?? 'VFIO_UNKNOWN') as IoctlName, { request: label }, true, () =>
          tceIommuIoctlDefault(this.k, this.proc.p, this.f.container, label),
        );
      }
    }
  }

  close(): void {
    const p = this.proc.p;
    if (p.exited) throw new ScenarioError(`close: process ${p.pid} has exited`);
    if (!this.f.open) return;
    const c = this.f.container;
    closeFd(this.k, p, this.f);
    this.host.rec.action(
      this.k,
      p,
      'close',
      { container: c.id },
      c.dead
        ? `container ${c.id} closed and released`
        : c.files > 0
          ? `container ${c.id} fd closed; another fd keeps it open`
          : `container ${c.id} fd closed; ${c.groups.length} attached group(s) keep its IOMMU state (windows, TCEs, registrations, accounting) alive (§3 item 5)`,
    );
  }

  // ---- inspection: reads state, issues no ioctl, records no event ----

  get defaultWindowPending(): boolean {
    return this.f.container.defWindowPending;
  }

  window(slot: 0 | 1): WindowInfo | null {
    if (slot !== 0 && slot !== 1) throw new ScenarioError(`window: slot must be 0 or 1, got ${String(slot)}`);
    const t = this.f.container.tables[slot];
    if (!t) return null;
    return {
      slot,
      startAddr: t.startAddr,
      pageShift: t.pageShift,
      size: t.windowSize,
      levels: t.levels,
      entries: t.size,
    };
  }

  tce(slot: 0 | 1, index: number): TceInfo {
    if (slot !== 0 && slot !== 1) throw new ScenarioError(`tce: slot must be 0 or 1, got ${String(slot)}`);
    const t = this.f.container.tables[slot];
    if (!t) return { value: 0n, hpa: 0n, perm: 0, ua: 0n }; // no window: no TCE
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= t.size) {
      throw new ScenarioError(
        `tce: index ${String(index)} is outside window slot ${slot} (0 .. ${t.size - 1})`,
      );
    }
    const { value, ua } = t.get(index);
    const v = BigInt(value);
    return { value: v, hpa: v & ~0xfffn, perm: Number(v & 3n), ua: BigInt(ua) };
  }
}
