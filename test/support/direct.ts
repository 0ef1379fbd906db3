/**
 * Runs a scenario file against the engine in this realm, without the sandbox: the engine tests use it to
 * check kernel behaviour independently of the runner. Types are stripped with sucrase (lines preserved).
 */
import { transform } from 'sucrase';
import { errno } from '../../engine/errno.ts';
import { checkEq, checkErrno, checkHcall, checkOk, checkRet, type Check } from '../../engine/expect.ts';
import { KVM_GLOBALS } from '../../engine/kvm/era.ts';
import type { EventList, RunEvent } from '../../engine/events.ts';
import { Session } from '../../engine/session.ts';
import type { KernelName } from '../../engine/api.ts';

export interface DirectRun {
  session: Session;
  failures: RunEvent[];
  events: EventList;
}

export function runDirect(
  source: string,
  kernel: KernelName = 'mainline',
  onSession?: (s: Session) => void,
  onEvent?: (e: RunEvent) => void,
): DirectRun {
  const session = new Session({ kernel, ...(onEvent ? { onEvent } : {}) });
  onSession?.(session);
  const js = transform(source, { transforms: ['typescript'], disableESTransforms: true }).code;
  const record = (c: Check, label?: unknown): void =>
    session.expect(c.ok, String(label ?? ''), c.actual, c.expected);
  const globals: Record<string, unknown> = {
    KiB: 1024n,
    MiB: 1024n ** 2n,
    GiB: 1024n ** 3n,
    TiB: 1024n ** 4n,
    READ: 1,
    WRITE: 2,
    RW: 3,
    VFIO_TYPE1_IOMMU: 1,
    VFIO_SPAPR_TCE_IOMMU: 2,
    VFIO_TYPE1v2_IOMMU: 3,
    VFIO_DMA_CC_IOMMU: 4,
    VFIO_EEH: 5,
    VFIO_SPAPR_TCE_v2_IOMMU: 7,
    ...KVM_GLOBALS,
    errno,
    createHost: (o?: object) => session.createHost(o),
    expectOk: (r: unknown, l?: string) => record(checkOk(r), l),
    expectErrno: (r: unknown, e: unknown, l?: string) => record(checkErrno(r, e), l),
    expectRet: (r: unknown, n: unknown, l?: string) => record(checkRet(r, n), l),
    expectEq: (a: unknown, b: unknown, l?: string) => record(checkEq(a, b), l),
    expectHcall: (r: unknown, ret: unknown, by?: unknown, l?: string) => record(checkHcall(r, ret, by), l),
    log: (...v: unknown[]) => session.log(v.map(String).join(' ')),
  };
  const fn = new Function(...Object.keys(globals), js);
  fn(...Object.values(globals));
  const failures = session.events.filter((e) => e.kind === 'expect' && !e.ok);
  return { session, failures, events: session.events };
}
