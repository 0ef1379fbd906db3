/**
 * Snapshot budget (product.md): a fully mapped 16-million-entry window snapshots in under 1 s and under
 * 100 KB. Baseline in the same run: JSON.stringify of a plain array holding one number per entry
 * (what a naive per-entry export would at least cost).
 */
import { serializeSnapshot, parseSnapshot } from '../engine/snapshot.ts';
import { captureState } from '../engine/state.ts';
import { median, printTable, v2HostWithGuest } from './util.ts';

const TiB = 1n << 40n;
const { session: s, C, R } = v2HostWithGuest(TiB);
C.registerMemory({ vaddr: R, size: TiB });
C.createWindow({ pageShift: 16, windowSize: TiB, levels: 2 });
const map = C.mapDma({ vaddr: R, iova: 0n, size: TiB });
if (map.ret !== 0) throw new Error(map.explain);

const meta = {
  appName: 'dma-workbench',
  appVersion: '0.1.0',
  kernel: 'mainline' as const,
  scenarioName: 'bench',
  scenarioSha256: null,
};
const times: number[] = [];
const parseTimes: number[] = [];
let size = 0;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const text = serializeSnapshot({ meta, state: captureState(s.kernels, s.events.length) });
  times.push(performance.now() - t);
  size = text.length;
  const t2 = performance.now();
  parseSnapshot(text);
  parseTimes.push(performance.now() - t2);
}
const N = 16 * 1024 * 1024;
const naive = new Array<number>(N);
for (let i = 0; i < N; i++) naive[i] = 0x10000000 + i * 65536 + 3;
const tb = performance.now();
const naiveLen = JSON.stringify(naive).length;
const base = performance.now() - tb;
printTable('snapshot of a fully mapped 16,777,216-entry window, medians of 5', [
  ['snapshot (capture + serialize), budget < 1000 ms', `${median(times).toFixed(1)} ms`],
  ['import (parse + validate)', `${median(parseTimes).toFixed(1)} ms`],
  ['snapshot size, budget < 100 KB', `${(size / 1024).toFixed(1)} KB`],
  [
    'baseline: JSON.stringify of one number per entry',
    `${base.toFixed(0)} ms, ${(naiveLen / 1048576).toFixed(0)} MB`,
  ],
  ['ratio snapshot / baseline time', (median(times) / base).toFixed(3)],
]);
