/**
 * The host facts an exported program needs (generate.ts HostFacts), read from the emulated kernels of a
 * finished run. Structural on purpose: it reads only the public fields below, so the engine's internal
 * classes can move without this module following them.
 */
import type { HostFacts } from './generate.ts';

/** the fields of an engine Kernel that the exporter reads */
export interface KernelView {
  hostId: number;
  profile: { name: string };
  pageSize: number;
  ramSize: bigint;
  eeh: boolean;
  phbs: readonly { id: number; model: string; tce32Start: bigint; tce32Size: bigint; pgsizes: bigint }[];
  groups: readonly {
    id: number;
    name: string;
    phb: { id: number };
    devices: readonly string[];
    kernelDma: boolean;
  }[];
  procs: readonly { pid: number }[];
}

export function hostFacts(kernels: readonly KernelView[]): HostFacts[] {
  return kernels.map((k) => ({
    id: k.hostId,
    kernel: k.profile.name,
    pageSize: k.pageSize,
    ramSize: k.ramSize,
    eeh: k.eeh,
    phbs: k.phbs.map((p) => ({
      id: p.id,
      model: p.model,
      tce32Start: p.tce32Start,
      tce32Size: p.tce32Size,
      pgsizes: p.pgsizes,
    })),
    groups: k.groups.map((g) => ({
      id: g.id,
      name: g.name,
      phb: g.phb.id,
      devices: [...g.devices],
      kernelDma: g.kernelDma,
    })),
    pids: k.procs.map((p) => p.pid),
  }));
}
