/**
 * Scenario-API layer: models no kernel file. The GroupFd and DeviceFd objects of the scenario API
 * (scenario-api.md §2): the group fd's ioctls with their arguments checked, the kernel call
 * (vfio-group.ts), one event per call, and what closing a group or device fd records.
 */
import { SYS_IOCTL } from './cite.ts';
import {
  closeFd,
  DeviceFile,
  type GroupFile,
  vfioGroupIoctlGetDeviceFd,
  vfioGroupIoctlGetStatus,
  vfioGroupIoctlSetContainer,
  vfioGroupIoctlUnsetContainer,
} from './vfio-group.ts';
import {
  ScenarioError,
  type ContainerApi,
  type DeviceFdApi,
  type GroupFdApi,
  type IoctlResult,
} from './api.ts';
import type { IoctlEvent } from './events.ts';
import type { IoctlName } from './ioctls.ts';
import type { Res } from './kernel.ts';
import type { Group } from './pci-ioda.ts';
import { toResult } from './facade-args.ts';
import { ContainerFacade } from './facade-container.ts';
import type { HostFacade, ProcessFacade } from './facade.ts';

export class GroupFdFacade implements GroupFdApi {
  /** extension: the result of open(), non-zero when the open failed (e.g. EBUSY: already open) */
  ret = 0;
  errno: string | undefined;
  constructor(
    readonly host: HostFacade,
    readonly proc: ProcessFacade,
    readonly group: Group,
    readonly f: GroupFile | null,
  ) {}

  private call<Out>(op: IoctlName, args: IoctlEvent['args'], fn: () => Res<Out>): IoctlResult<Out> {
    const p = this.proc.p;
    if (p.exited) throw new ScenarioError(`${op}: process ${p.pid} has exited`);
    const r: Res<Out> =
      this.f && this.f.open
        ? fn()
        : { ret: -9, explain: `${op}: the group fd is not open (EBADF)`, cite: SYS_IOCTL };
    return this.host.rec.ioctl(
      this.host.k,
      p,
      { type: 'group', id: this.group.id },
      op,
      args,
      r,
      toResult(r),
    );
  }

  getStatus(): IoctlResult<{ flags: number }> {
    return this.call('VFIO_GROUP_GET_STATUS', {}, () => vfioGroupIoctlGetStatus(this.host.k, this.group));
  }

  setContainer(container: ContainerApi): IoctlResult {
    if (!(container instanceof ContainerFacade) || container.host !== this.host)
      throw new ScenarioError('setContainer: not a container of this host');
    return this.call('VFIO_GROUP_SET_CONTAINER', { container: container.f.container.id }, () =>
      vfioGroupIoctlSetContainer(
        this.host.k,
        this.proc.p,
        this.group,
        container.f.proc === this.proc.p ? container.f : null,
      ),
    );
  }

  unsetContainer(): IoctlResult {
    return this.call('VFIO_GROUP_UNSET_CONTAINER', {}, () =>
      vfioGroupIoctlUnsetContainer(this.host.k, this.proc.p, this.group),
    );
  }

  openDevice(name?: string): DeviceFdApi {
    if (name !== undefined && typeof name !== 'string')
      throw new ScenarioError('openDevice: name must be a string');
    let dev: DeviceFile | null = null;
    const res = this.call('VFIO_GROUP_GET_DEVICE_FD', { name: name ?? this.group.devices[0]! }, () => {
      const r = vfioGroupIoctlGetDeviceFd(this.host.k, this.proc.p, this.group, name);
      if (r instanceof DeviceFile) {
        dev = r;
        return {
          ret: 0,
          explain: `device ${r.device} of ${this.group.name} opened; the group cannot leave its container while it is open (§3 item 4)`,
          cite: this.host.k.profile.src.groupGetDeviceFd,
        };
      }
      return r;
    });
    return new DeviceFdFacade(this.host, this.proc, dev, res);
  }

  close(): void {
    const p = this.proc.p;
    if (p.exited) throw new ScenarioError(`close: process ${p.pid} has exited`);
    if (!this.f || !this.f.open) return;
    const wasIn = this.group.container;
    closeFd(this.host.k, p, this.f);
    const left = wasIn !== null && this.group.container === null;
    this.host.rec.action(
      this.host.k,
      p,
      'close',
      { group: this.group.id },
      `group ${this.group.name} fd closed${left ? `; it left container ${wasIn} (as UNSET_CONTAINER, §3 item 4)` : this.group.devicesOpen ? '; device fds keep it in its container' : ''}`,
    );
  }
}

export class DeviceFdFacade implements DeviceFdApi {
  readonly ret: number;
  readonly errno: string | undefined;
  constructor(
    readonly host: HostFacade,
    readonly proc: ProcessFacade,
    readonly f: DeviceFile | null,
    res: IoctlResult<unknown>,
  ) {
    this.ret = res.ret;
    this.errno = res.errno;
  }
  close(): void {
    const p = this.proc.p;
    if (p.exited) throw new ScenarioError(`close: process ${p.pid} has exited`);
    if (!this.f || !this.f.open) return;
    const g = this.f.group;
    const wasIn = g.container;
    closeFd(this.host.k, p, this.f);
    this.host.rec.action(
      this.host.k,
      p,
      'close',
      { device: this.f.device },
      `device ${this.f.device} closed${wasIn !== null && g.container === null ? `; ${g.name} left container ${wasIn}` : ''}`,
    );
  }
}
