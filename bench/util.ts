import type { ContainerApi, ProcessApi } from '../engine/api.ts';
import { Session } from '../engine/session.ts';

/** Small helpers shared by the benchmarks. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function printTable(title: string, rows: [string, string][]): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`\n${title}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
}

/**
 * A mainline host with one process that has mmap'd `size` bytes and a v2 container whose default window
 * was dropped (REMOVE(0)), so that the next TCE_CREATE takes slot 0 at bus address 0.
 */
export function v2HostWithGuest(size: bigint): {
  session: Session;
  p: ProcessApi;
  C: ContainerApi;
  R: bigint;
} {
  const session = new Session({ kernel: 'mainline' });
  const host = session.createHost({ ramSize: 2n * size });
  const g = host.addPhb().addGroup();
  const p = host.spawn({ memlock: 2n * size });
  const R = p.mmap({ size });
  const C = p.openContainer();
  p.openGroup(g).setContainer(C);
  C.setIommu(7);
  C.removeWindow({ startAddr: 0n });
  return { session, p, C, R };
}
