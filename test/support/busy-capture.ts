/**
 * A constructed QEMU trace of a busy guest (not captured: built from QEMU's trace-events format strings,
 * like examples/captures/): a 4 GiB guest whose driver cycles a ring of 4,096 DMA buffers through a 64 KiB
 * DDW window, every guest H_PUT_TCE handled in QEMU (a vfio_iommu_map_notify line, then the hcall line).
 * Deterministic: a fixed-seed generator picks the buffers.
 */
export interface BusyCapture {
  text: string;
  /** the 1-based capture line of the error line, when `divergeAt` asked for one */
  errorLine: number | null;
}

/**
 * `calls` MAP/UNMAP calls (two trace lines each). With `divergeAt`, the first MAP at or after that call
 * index (0-based) gets a QEMU error line saying the host refused it with EINVAL, which the emulated host does not do.
 */
export function busyGuestCapture(
  calls: number,
  opts: { seed?: number; divergeAt?: number } = {},
): BusyCapture {
  const seed = opts.seed ?? 1;
  let errorLine: number | null = null;
  const out: string[] = [
    '# CONSTRUCTED, NOT CAPTURED: generated from QEMU trace-events format strings (bare `event args` form)',
    '# for a benchmark/test of large imports; a 4 GiB guest cycling 4,096 DMA buffers through a 64 KiB window.',
    'kvm_set_user_memory AddrSpace#0 Slot#0 flags=0x0 gpa=0x0 size=0x100000000 ua=0x7ffd40000000 ret=0',
    'vfio_attach_device  (0001:01:00.0) group 3',
    'vfio_prereg_register va=0x7ffd40000000 size=0x100000000 ret=0',
    'vfio_spapr_remove_window offset=0x0',
    'spapr_iommu_new_table liobn=0x80000000 table=0x7ffd3c000000 fd=-1',
    'vfio_spapr_create_window pageshift=0x10 levels=1 winsize=0x10000000 offset=0x0',
    'vfio_listener_region_add_iommu region_add [iommu] tce-iommu-80000000 0x0 - 0xfffffff',
  ];
  const RING = 4096;
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const hex = (n: number): string => '0x' + n.toString(16);
  const line = (op: 'MAP' | 'UNMAP', slot: number, tce: number, refused = false): void => {
    const iova = slot * 0x10000;
    out.push(`vfio_iommu_map_notify iommu ${op} @ ${hex(iova)} - ${hex(iova + 0xffff)}`);
    if (refused) {
      out.push(
        `qemu-system-ppc64: vfio_container_dma_map(0x1001e2f0, ${hex(iova)}, 0x10000, ${hex(0x7ffd40000000 + tce - (tce % 0x10000))}) = -22 (Invalid argument)`,
      );
      errorLine = out.length;
    }
    out.push(`spapr_iommu_pci_put liobn=0x80000000 ioba=${hex(iova)} tce=${hex(tce)} ret=0`);
  };
  let n = 0;
  for (let i = 0; n < calls; i++) {
    // a buffer somewhere in the guest's 4 GiB, READ|WRITE or READ only
    const page = rnd() % 65536;
    line(
      'MAP',
      i % RING,
      page * 0x10000 + (rnd() % 8 === 0 ? 1 : 3),
      errorLine === null && opts.divergeAt !== undefined && n >= opts.divergeAt,
    );
    n++;
    if (i >= RING / 2 && n < calls) {
      line('UNMAP', (i - RING / 2) % RING, 0);
      n++;
    }
  }
  return { text: out.join('\n') + '\n', errorLine };
}
