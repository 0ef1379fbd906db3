/**
 * The scenario API surface as the sandbox boundary sees it (scenario-api.md §2): which classes exist in the
 * guest, which members each has, and what comes back. The guest prelude (prelude.ts) is generated from this
 * table and the host dispatcher (bridge.ts) serves it, so the two cannot disagree, and the host only ever
 * touches members named here — never a property name chosen by the scenario.
 *
 * Every member gets a small integer op code (its index in OPS); a guest call is
 * `hostCall(op, handleId, encodedArgs, callSite)`.
 */

import type {
  ContainerApi,
  DeviceFdApi,
  GroupFdApi,
  HostApi,
  IommuGroupApi,
  KvmHcallsApi,
  KvmVfioDeviceApi,
  KvmVmApi,
  PhbApi,
  ProcessApi,
  QemuSpaprApi,
  QemuTceTableApi,
  SpaprTceTableApi,
} from '../engine/api.ts';

export type ClassName =
  | 'Host'
  | 'Phb'
  | 'IommuGroup'
  | 'Process'
  | 'GroupFd'
  | 'DeviceFd'
  | 'Container'
  | 'KvmVm'
  | 'SpaprTceTable'
  | 'KvmVfioDevice'
  | 'KvmHcalls'
  | 'QemuSpapr'
  | 'QemuTceTable';

/**
 * What a member returns:
 * - 'value': any value; the host encodes it by its runtime type (codec.ts)
 * - 'ioctl': an IoctlResult (fast path for results without `out`)
 * - a ClassName: a host object, which the guest sees as a handle of that class
 */
export type Returns = 'value' | 'ioctl' | ClassName;

export interface OpSpec {
  cls: ClassName | 'global';
  name: string;
  type: 'method' | 'get' | 'set';
  returns: Returns;
  /** how many arguments the guest passes on (missing ones arrive as undefined, like omitted ones) */
  arity?: 0 | 1 | 2 | 3 | 4;
  /** an ioctl result whose `out` holds host objects (KVM fd-creating ioctls): field → class of the handle */
  outHandles?: Readonly<Record<string, ClassName>>;
  /** a class-returning member that may return null (KvmVm.vfioDevice) */
  nullable?: boolean;
  /**
   * The fields of an options-object argument that the guest encodes without a generic walk (hot ioctls).
   * The engine reads exactly these fields, so passing only them changes nothing it can see.
   */
  fields?: readonly string[];
  /**
   * Inspection: reads emulator state and records no event (scenario-api.md §2 "Inspection"), so the guest
   * skips the call-site lookup. Everything else may record events and carries its line.
   */
  inspect?: boolean;
}

const m = <N extends string>(
  name: N,
  returns: Returns,
  extra: Partial<Omit<OpSpec, 'cls' | 'name'>> = {},
) => ({
  name,
  type: 'method' as const,
  returns,
  arity: 1 as const,
  ...extra,
});
const m0 = <N extends string>(name: N, returns: Returns, extra: Partial<Omit<OpSpec, 'cls' | 'name'>> = {}) =>
  m(name, returns, { arity: 0, ...extra });
const io = <N extends string>(name: N, fields?: readonly string[]) =>
  m(name, 'ioctl', fields ? { fields } : {});
const get = <N extends string>(name: N, returns: Returns = 'value') => ({
  name,
  type: 'get' as const,
  returns,
  inspect: true,
});
const set = <N extends string>(name: N) => ({ name, type: 'set' as const, returns: 'value' as const });

type Member = Omit<OpSpec, 'cls'>;

/** the engine API interface (engine/api.ts, the scenario API contract) each guest class proxies */
interface ApiOf {
  Host: HostApi;
  Phb: PhbApi;
  IommuGroup: IommuGroupApi;
  Process: ProcessApi;
  GroupFd: GroupFdApi;
  DeviceFd: DeviceFdApi;
  Container: ContainerApi;
  KvmVm: KvmVmApi;
  SpaprTceTable: SpaprTceTableApi;
  KvmVfioDevice: KvmVfioDeviceApi;
  KvmHcalls: KvmHcallsApi;
  QemuSpapr: QemuSpaprApi;
  QemuTceTable: QemuTceTableApi;
}

/** members the sandbox serves beyond the API interfaces: GroupFd/DeviceFd open() results (engine/facade.ts) */
type Extensions = { GroupFd: 'ret' | 'errno'; DeviceFd: 'ret' | 'errno' };
type ExtensionOf<C extends ClassName> = C extends keyof Extensions ? Extensions[C] : never;

/** a member of class C: named after a member of its API interface (or a listed extension) */
type MemberOf<C extends ClassName> = Member & { name: (keyof ApiOf[C] & string) | ExtensionOf<C> };

export const CLASSES = {
  Host: [get('kernel'), get('pageSize'), m('addPhb', 'Phb'), m('spawn', 'Process')],
  Phb: [get('id'), m('addGroup', 'IommuGroup')],
  IommuGroup: [get('id'), get('name')],
  Process: [
    get('pid'),
    get('name'),
    get('lockedVm'),
    get('lockedVmBytes'),
    get('memlock'),
    set('memlock'),
    get('capIpcLock'),
    set('capIpcLock'),
    m('mmap', 'value'),
    m('munmap', 'value', { arity: 2 }),
    m('hpa', 'value', { inspect: true }),
    m('pins', 'value', { inspect: true }),
    m0('regions', 'value', { inspect: true }),
    m0('openContainer', 'Container'),
    m('openGroup', 'GroupFd'),
    m('adopt', 'Container'),
    m0('exit', 'value'),
    // scenario-api.md §2.1.2
    m0('openKvm', 'KvmVm'),
    io('mlock', ['addr', 'size']),
    io('munlock', ['addr', 'size']),
  ],
  GroupFd: [
    // extension (engine/facade.ts): the result of open(); non-zero when the open failed
    get('ret'),
    get('errno'),
    m0('getStatus', 'ioctl'),
    m('setContainer', 'ioctl'),
    m0('unsetContainer', 'ioctl'),
    m('openDevice', 'DeviceFd'),
    m0('close', 'value'),
  ],
  DeviceFd: [get('ret'), get('errno'), m0('close', 'value')],
  Container: [
    m0('getApiVersion', 'ioctl'),
    io('checkExtension'),
    io('setIommu'),
    io('getInfo', ['argsz']),
    m0('enable', 'ioctl'),
    m0('disable', 'ioctl'),
    io('mapDma', ['vaddr', 'iova', 'size', 'flags', 'argsz']),
    io('unmapDma', ['iova', 'size', 'flags', 'argsz']),
    io('registerMemory', ['vaddr', 'size', 'flags', 'argsz']),
    io('unregisterMemory', ['vaddr', 'size', 'flags', 'argsz']),
    io('createWindow', ['pageShift', 'windowSize', 'levels', 'flags', 'argsz']),
    io('removeWindow', ['startAddr', 'flags', 'argsz']),
    io('eehPeOp', ['op', 'flags', 'argsz']),
    m('ioctl', 'ioctl', { arity: 2 }),
    m0('close', 'value'),
    get('defaultWindowPending'),
    m('window', 'value', { inspect: true }),
    m('tce', 'value', { inspect: true, arity: 2 }),
  ],
  // scenario-api.md §2.1
  KvmVm: [
    io('checkExtension'),
    m('enableHcall', 'ioctl', { arity: 2 }),
    io('setUserMemoryRegion', ['slot', 'guestPhysAddr', 'memorySize', 'userspaceAddr', 'flags']),
    m('createSpaprTce', 'ioctl', { outHandles: { table: 'SpaprTceTable' } }),
    m('createSpaprTce64', 'ioctl', { outHandles: { table: 'SpaprTceTable' } }),
    m0('createVfioDevice', 'ioctl', { outHandles: { device: 'KvmVfioDevice' } }),
    m('attachVfioGroup', 'ioctl', { arity: 2 }),
    { ...get('vfioDevice', 'KvmVfioDevice'), nullable: true },
    get('hcall', 'KvmHcalls'),
    get('qemu', 'QemuSpapr'),
    m0('close', 'value'),
  ],
  SpaprTceTable: [
    get('liobn'),
    get('pageShift'),
    get('offset'),
    get('size'),
    get('chargedPages'),
    m('tce', 'value', { inspect: true }),
    m0('close', 'value'),
  ],
  KvmVfioDevice: [
    m('addGroup', 'ioctl'),
    m('delGroup', 'ioctl'),
    m('setSpaprTce', 'ioctl', { arity: 2 }),
    m0('close', 'value'),
  ],
  KvmHcalls: [
    m('putTce', 'value', { arity: 3 }),
    m('putTceIndirect', 'value', { arity: 4 }),
    m('stuffTce', 'value', { arity: 4 }),
    m('getTce', 'value', { arity: 2 }),
  ],
  QemuSpapr: [m('addTable', 'QemuTceTable'), m('handle', 'value')],
  QemuTceTable: [
    get('liobn'),
    get('pageShift'),
    get('busOffset'),
    get('entries'),
    get('kvmBacked'),
    m('tce', 'value', { inspect: true }),
  ],
} satisfies { [C in ClassName]: MemberOf<C>[] };

/**
 * Every member of every API interface is in the table: a member added to engine/api.ts (or
 * engine/kvm/api.ts) and not here is a compile error naming it, e.g. for a new `ProcessApi.fork()`:
 * `Type '"fork"' is not assignable to type 'never'` at Process. (test/runner/schema-types.test.ts shows
 * it with a deliberately incomplete table.)
 */
export type MissingMembers<T extends { [C in ClassName]: readonly { name: string }[] }> = {
  [C in ClassName]: Exclude<keyof ApiOf[C] & string, T[C][number]['name']>;
};
/** the sandbox's table serves the whole API: a missing member fails here */
export type SandboxComplete = ServesAll<MissingMembers<typeof CLASSES>>;
/** accepts only a MissingMembers with nothing missing */
export type ServesAll<M extends { [C in ClassName]: never }> = M;

/** Global functions served by the host (the expect functions and log are guest functions calling these). */
export const OPS: readonly OpSpec[] = [
  { cls: 'global', name: 'createHost', type: 'method', returns: 'Host', arity: 1 },
  // expect(kind, actual, expected, label, sameObject) and log(values): see prelude.ts
  { cls: 'global', name: 'expect', type: 'method', returns: 'value' },
  { cls: 'global', name: 'log', type: 'method', returns: 'value' },
  // explain(token): the `explain` text of an ioctl result that crossed as a number (bridge.ts)
  { cls: 'global', name: 'explain', type: 'method', returns: 'value', inspect: true },
  ...Object.entries(CLASSES).flatMap(([cls, members]) =>
    members.map((mm) => ({ cls: cls as ClassName, ...mm })),
  ),
];

export const OP_CREATE_HOST = 0;
export const OP_EXPECT = 1;
export const OP_LOG = 2;
export const OP_EXPLAIN = 3;

/** The op code of a member (throws on a name that is not in the table: a bug in the runner). */
export function opOf(cls: ClassName | 'global', name: string, type: OpSpec['type'] = 'method'): number {
  const i = OPS.findIndex((o) => o.cls === cls && o.name === name && o.type === type);
  if (i < 0) throw new Error(`no op ${cls}.${name} (${type})`);
  return i;
}
