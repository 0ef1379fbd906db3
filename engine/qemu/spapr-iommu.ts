/**
 * Models no kernel file: QEMU's userspace (hw/ppc/spapr_iommu.c, hw/vfio), see below.
 * QEMU's userspace side of sPAPR TCE tables: a twin of QEMU's hw/ppc/spapr_iommu.c hypercall handlers and
 * of the VFIO IOMMU listener in hw/vfio (kernel-model.md §13.9, `QIOMMU`, `QVFIO`, `QLEGACY`).
 *
 * This is NOT part of the emulated kernel. It is what a VMM does when KVM hands a TCE hypercall to
 * userspace (KVM_EXIT_PAPR_HCALL): look the LIOBN up in its own tables, store the TCE (for a KVM-backed
 * table through its mmap of the table fd, i.e. into the kernel's guest-visible table), and notify the
 * VFIO listener, which issues VFIO_IOMMU_MAP_DMA / UNMAP_DMA through ordinary ioctls of the process.
 */
import { cite, qemuIommu, type Cite } from '../cite.ts';
import type { KvmTceTable } from '../kvm/book3s-64-vio.ts';
import { H_PARAMETER, H_SUCCESS, MAX_INDIRECT } from '../kvm/book3s-64-vio.ts';
import { H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE } from '../kvm/era.ts';
import type { HcallArgs } from '../kvm/book3s-hv.ts';

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** one VFIO ioctl the listener issued, with what the container answered */
export interface ListenerCall<R> {
  op: 'VFIO_IOMMU_MAP_DMA' | 'VFIO_IOMMU_UNMAP_DMA';
  iova: bigint;
  size: bigint;
  vaddr?: bigint;
  flags?: number;
  result: R;
}

/** the VFIO container behind a window's IOMMU notifier (QEMU's VFIOContainer) */
export interface Listener<R extends { ret: number }> {
  map(vaddr: bigint, iova: bigint, size: bigint, flags: number): R;
  unmap(iova: bigint, size: bigint): R;
}

/** SpaprTceTable (QEMU) */
export class QemuTable<R extends { ret: number }> {
  private readonly own = new Map<number, bigint>();
  constructor(
    readonly liobn: bigint,
    readonly pageShift: number,
    readonly busOffset: bigint,
    readonly entries: number,
    /** the KVM table whose mmap is this table (§13.5), or null: QEMU's own array */
    readonly kvm: KvmTceTable | null,
    readonly listener: Listener<R> | null,
  ) {}

  get(index: number): bigint {
    return this.kvm ? this.kvm.get(index) : (this.own.get(index) ?? 0n);
  }

  set(index: number, tce: bigint): void {
    if (this.kvm) this.kvm.put(index, tce);
    else if (tce === 0n) this.own.delete(index);
    else this.own.set(index, tce);
  }
}

export interface QemuResult<R> {
  ret: number;
  explain: string;
  cite: Cite;
  value?: bigint;
  vfio: ListenerCall<R>[];
}

/** QEMU's handler of each TCE hypercall (hw/ppc/spapr_iommu.c, kernel-model.md §13.9.2) */
const QEMU_HANDLER: Readonly<Record<number, Cite>> = {
  [H_PUT_TCE]: qemuIommu('h_put_tce'),
  [H_PUT_TCE_INDIRECT]: qemuIommu('h_put_tce_indirect'),
  [H_STUFF_TCE]: qemuIommu('h_stuff_tce'),
  [H_GET_TCE]: qemuIommu('h_get_tce'),
};

export class QemuSpapr<R extends { ret: number }> {
  readonly tables = new Map<bigint, QemuTable<R>>();

  /** @param ramToHva QEMU's view of guest RAM: guest physical address → host virtual address, or null */
  constructor(private readonly ramToHva: (gpa: bigint) => bigint | null) {}

  /** spapr_tce_new_table: a duplicate LIOBN is refused by QEMU (returns an error text) */
  addTable(t: QemuTable<R>): string | null {
    if (this.tables.has(t.liobn)) return `QEMU already has a TCE table with LIOBN ${hex(t.liobn)}`;
    this.tables.set(t.liobn, t);
    return null;
  }

  /** put_tce_emu: store, then notify the listener; the guest gets H_SUCCESS whatever VFIO answered */
  private putTceEmu(
    t: QemuTable<R>,
    ioba: bigint,
    tce: bigint,
    calls: ListenerCall<R>[],
  ): { ret: number; why: string } {
    const ps = BigInt(t.pageShift);
    const page = 1n << ps;
    const rel = ioba - t.busOffset;
    const index = rel < 0n ? -1n : rel >> ps;
    if (index < 0n || index >= BigInt(t.entries))
      return {
        ret: H_PARAMETER,
        why: `ioba ${hex(ioba)} is outside QEMU's table of ${t.entries} entries from ${hex(t.busOffset)} (H_PARAMETER)`,
      };
    const i = Number(index);
    t.set(i, tce);
    let why = `T[${i}] = ${hex(tce)}${t.kvm ? ' (through the mmap of the KVM table)' : ''}`;
    const l = t.listener;
    if (!l) return { ret: H_SUCCESS, why };
    const iova = ioba & ~(page - 1n);
    const perm = Number(tce & 3n);
    if (perm) {
      const gpa = tce & ~(page - 1n);
      const vaddr = this.ramToHva(gpa);
      if (vaddr === null)
        return { ret: H_SUCCESS, why: `${why}; "iommu map to non memory area ${hex(gpa)}": no VFIO call` };
      const flags = 1 | (perm & 2 ? 2 : 0); // READ | WRITE unless read-only
      const result = l.map(vaddr, iova, page, flags);
      calls.push({ op: 'VFIO_IOMMU_MAP_DMA', iova, size: page, vaddr, flags, result });
      why += `; MAP_DMA(${hex(vaddr)}, ${hex(iova)}, ${hex(page)}, ${flags}) → ${result.ret}${result.ret < 0 ? ' (only logged: the guest still gets H_SUCCESS, Q-K7)' : ''}`;
    } else {
      const result = l.unmap(iova, page);
      calls.push({ op: 'VFIO_IOMMU_UNMAP_DMA', iova, size: page, result });
      why += `; UNMAP_DMA(${hex(iova)}, ${hex(page)}) → ${result.ret}`;
    }
    return { ret: H_SUCCESS, why };
  }

  /** QEMU's h_put_tce / h_put_tce_indirect / h_stuff_tce / h_get_tce (§13.9.2) */
  handle(a: HcallArgs): QemuResult<R> {
    const calls: ListenerCall<R>[] = [];
    const t = this.tables.get(a.liobn);
    const name =
      a.hcall === H_PUT_TCE
        ? 'h_put_tce'
        : a.hcall === H_PUT_TCE_INDIRECT
          ? 'h_put_tce_indirect'
          : a.hcall === H_STUFF_TCE
            ? 'h_stuff_tce'
            : a.hcall === H_GET_TCE
              ? 'h_get_tce'
              : `hcall ${hex(a.hcall)}`;
    const fn = QEMU_HANDLER[a.hcall] ?? cite('hw/ppc/spapr_hcall.c', 'spapr_hypercall');
    const done = (ret: number, why: string, value?: bigint): QemuResult<R> => ({
      ret,
      explain: `QEMU ${name}: ${why} (§13.9.2)`,
      cite: fn,
      vfio: calls,
      ...(value !== undefined ? { value } : {}),
    });
    if (!t) return done(H_PARAMETER, `LIOBN ${hex(a.liobn)} is unknown to QEMU too (H_PARAMETER)`);
    const page = 1n << BigInt(t.pageShift);
    const ioba = a.ioba & ~(page - 1n);
    const masked =
      ioba !== a.ioba
        ? ` (ioba ${hex(a.ioba)} masked to ${hex(ioba)}: QEMU drops the misalignment, Q-K6)`
        : '';
    switch (a.hcall) {
      case H_PUT_TCE: {
        const r = this.putTceEmu(t, ioba, a.tce ?? 0n, calls);
        return done(r.ret, r.why + masked);
      }
      case H_PUT_TCE_INDIRECT: {
        const npages = a.npages ?? a.tces?.length ?? 0;
        if (npages > MAX_INDIRECT) return done(H_PARAMETER, `npages ${npages} > 512 (H_PARAMETER)`);
        if ((a.listGpa ?? 0n) & 0xfffn)
          return done(H_PARAMETER, 'the TCE list is not 4 KiB aligned (H_PARAMETER)');
        const parts: string[] = [];
        for (let i = 0; i < npages; i++) {
          const r = this.putTceEmu(t, ioba + BigInt(i) * page, a.tces?.[i] ?? 0n, calls);
          if (r.ret !== H_SUCCESS) return done(r.ret, `entry ${i}: ${r.why}; entries before it stay`);
          parts.push(r.why);
        }
        return done(H_SUCCESS, `${npages} entries: ${parts.join('; ')}${masked}`);
      }
      case H_STUFF_TCE: {
        const npages = a.npages ?? 0;
        if (npages > t.entries)
          return done(H_PARAMETER, `npages ${npages} > the table's ${t.entries} entries (H_PARAMETER)`);
        const parts: string[] = [];
        for (let i = 0; i < npages; i++) {
          const r = this.putTceEmu(t, ioba + BigInt(i) * page, a.tce ?? 0n, calls);
          if (r.ret !== H_SUCCESS) return done(r.ret, `entry ${i}: ${r.why}`);
          parts.push(r.why);
        }
        return done(
          H_SUCCESS,
          `${npages} entries set to ${hex(a.tce ?? 0n)}${(a.tce ?? 0n) & 3n ? ' (QEMU accepts R/W values: each becomes a MAP, Q-K6)' : ''}: ${parts.join('; ')}${masked}`,
        );
      }
      case H_GET_TCE: {
        const rel = ioba - t.busOffset;
        const index = rel < 0n ? -1n : rel >> BigInt(t.pageShift);
        if (index < 0n || index >= BigInt(t.entries))
          return done(H_PARAMETER, `ioba ${hex(a.ioba)} is outside QEMU's table (H_PARAMETER)`);
        const v = t.get(Number(index));
        return done(H_SUCCESS, `T[${index}] = ${hex(v)}${masked}`, v);
      }
      default:
        return done(H_PARAMETER, 'not a TCE hypercall');
    }
  }
}
