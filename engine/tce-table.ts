/**
 * Models struct iommu_table of arch/powerpc/include/asm/iommu.h.
 * A TCE table (struct iommu_table, kernel-model.md §1.2) with its userspace view (it_userspace).
 *
 * Storage is sparse, like the kernel's multi-level tables: entries live in chunks of 2^16 that are
 * allocated on first write, so an untouched part of a 2^47-entry window costs nothing. Each chunk holds
 * the TCE values and the userspace addresses as Float64Array: every value the engine stores (hpa | perm,
 * user addresses) is below 2^53, so doubles hold them exactly and the hot loops stay in plain number
 * arithmetic. That is 16 bytes per entry (product.md budget: about 24).
 */

export const CHUNK_SHIFT = 16;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;
/** host memory of one chunk (two Float64Arrays) */
export const CHUNK_BYTES = CHUNK_SIZE * 16;

/**
 * Told before a table allocates a chunk, so the run's memory budget covers TCE tables (session.ts): it
 * may throw (a BudgetError), and then nothing is allocated.
 */
export interface ChunkMeter {
  allocate(bytes: number): void;
}

export class TceChunk {
  readonly tce = new Float64Array(CHUNK_SIZE);
  readonly ua = new Float64Array(CHUNK_SIZE);
  /** number of non-zero TCEs in this chunk */
  valid = 0;
}

export interface TableInit {
  /** a new id for every table created in a run: lets events and inspectors tell generations apart */
  id: number;
  pageShift: number;
  /** it_offset: absolute number of the first entry (bus offset >> page shift) */
  offset: number;
  /** it_size: number of entries */
  size: number;
  levels: number;
  /** pages charged for the table (it_allocated_size >> PAGE_SHIFT), and (4.2) for the view */
  tablePages: number;
  viewPages: number;
  /** a kernel table of an IODA1 group that VFIO borrows (4.2, §4.2 item 4) */
  borrowed: boolean;
  /** charges chunk allocations to the run's memory budget */
  meter?: ChunkMeter | undefined;
}

export class TceTable {
  readonly id: number;
  readonly pageShift: number;
  readonly pageSize: number;
  readonly offset: number;
  readonly size: number;
  readonly levels: number;
  readonly tablePages: number;
  viewPages: number;
  readonly borrowed: boolean;
  private readonly chunks = new Map<number, TceChunk>();
  private readonly meter: ChunkMeter | undefined;
  /** number of non-zero TCEs in the whole table */
  valid = 0;

  constructor(init: TableInit) {
    this.id = init.id;
    this.pageShift = init.pageShift;
    this.pageSize = 2 ** init.pageShift;
    this.offset = init.offset;
    this.size = init.size;
    this.levels = init.levels;
    this.tablePages = init.tablePages;
    this.viewPages = init.viewPages;
    this.borrowed = init.borrowed;
    this.meter = init.meter;
  }

  /** number of chunks allocated (host memory: chunkCount * CHUNK_BYTES) */
  get chunkCount(): number {
    return this.chunks.size;
  }

  /** bus address of the first byte of the window */
  get startAddr(): bigint {
    return BigInt(this.offset) << BigInt(this.pageShift);
  }

  get windowSize(): bigint {
    return BigInt(this.size) << BigInt(this.pageShift);
  }

  /** the chunk holding slot `index`, or undefined if nothing was ever written there */
  chunkAt(index: number): TceChunk | undefined {
    return this.chunks.get(Math.floor(index / CHUNK_SIZE));
  }

  chunkFor(index: number): TceChunk {
    const key = Math.floor(index / CHUNK_SIZE);
    let c = this.chunks.get(key);
    if (!c) {
      this.meter?.allocate(CHUNK_BYTES);
      c = new TceChunk();
      this.chunks.set(key, c);
    }
    return c;
  }

  get(index: number): { value: number; ua: number } {
    const c = this.chunkAt(index);
    if (!c) return { value: 0, ua: 0 };
    const i = index & CHUNK_MASK;
    return { value: c.tce[i]!, ua: c.ua[i]! };
  }

  /**
   * Calls fn(chunk, from, to, base) for every allocated chunk piece of [start, start+count), where
   * base is the slot index of chunk offset 0. Unallocated pieces are skipped (they hold only zeros).
   */
  forEachAllocated(
    start: number,
    count: number,
    fn: (c: TceChunk, from: number, to: number, base: number) => void,
  ): void {
    let i = start;
    const end = start + count;
    while (i < end) {
      const key = Math.floor(i / CHUNK_SIZE);
      const base = key * CHUNK_SIZE;
      const stop = Math.min(end, base + CHUNK_SIZE);
      const c = this.chunks.get(key);
      if (c && c.valid > 0) fn(c, i - base, stop - base, base);
      i = stop;
    }
  }

  /** the allocated chunks in index order (for inspection and snapshots) */
  allocatedChunks(): [number, TceChunk][] {
    return [...this.chunks.entries()].sort((a, b) => a[0] - b[0]).map(([k, c]) => [k * CHUNK_SIZE, c]);
  }
}
