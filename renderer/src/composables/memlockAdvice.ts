/**
 * What to do about a refused charge (issue 10 item 1), from the facts the engine put on the refused event
 * (engine/memory.ts MemlockRefusal, in wire form on inspect.event's `memlock`): the charge, locked_vm
 * before it and the limit in pages and KiB, the limit this call needs, the limit the whole scenario needs
 * when a sizing of the same text and profile is at hand (stores/memlock.ts), and the knobs for the larger
 * of the two (common/memlock.ts). The engine's advice lines (engine/memlock.ts refusalAdvice) say the same.
 */
import type { InspectEvent, MemlockProcessView } from '../../../common/contract';
import { memlockKnobList, type MemlockKnob } from '../../../common/memlock';

export interface RefusalFacts {
  pid: number;
  pageSize: number;
  chargePages: number;
  lockedVmPages: number;
  limitPages: number;
  /** the soft RLIMIT_MEMLOCK the check used, bytes */
  memlockBytes: bigint;
}

export interface MemlockAdvice extends RefusalFacts {
  /** locked_vm + charge: what this call needs, pages and bytes */
  callPages: number;
  callBytes: bigint;
  /** the whole scenario's need for this process, from a sizing of the same run */
  scenario: {
    pages: number;
    bytes: bigint;
    peakSeq: number;
    peakLine: number | null;
    peakOp: string | null;
  } | null;
  /** the limit the knobs set: the larger of the two */
  targetBytes: bigint;
  knobs: MemlockKnob[];
  /** the advice as lines of text (copy) */
  lines: string[];
}

/** the refusal facts of an event from inspect.event, or null (not a RLIMIT_MEMLOCK refusal) */
export function refusalFacts(e: InspectEvent | null | undefined): RefusalFacts | null {
  const m = e?.memlock as Record<string, unknown> | null | undefined;
  if (!m || typeof m !== 'object') return null;
  const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : NaN);
  const f = {
    pid: num('pid'),
    pageSize: num('pageSize'),
    chargePages: num('charge'),
    lockedVmPages: num('lockedVm'),
    limitPages: num('limitPages'),
  };
  if (Object.values(f).some((x) => !Number.isInteger(x) || x < 0) || f.pageSize === 0) return null;
  let memlockBytes: bigint;
  try {
    memlockBytes = BigInt(String(m.memlock)); // "0x…" on the wire
  } catch {
    memlockBytes = BigInt(f.limitPages) * BigInt(f.pageSize);
  }
  return { ...f, memlockBytes };
}

const kib = (b: bigint) => `${(b / 1024n).toLocaleString('en-US')} KiB`;
const pg = (n: number) => `${n.toLocaleString('en-US')} page${n === 1 ? '' : 's'}`;

export function memlockAdvice(f: RefusalFacts, need: MemlockProcessView | null): MemlockAdvice {
  const ps = BigInt(f.pageSize);
  const b = (n: number) => kib(BigInt(n) * ps);
  const callPages = f.lockedVmPages + f.chargePages;
  const callBytes = BigInt(callPages) * ps;
  const scenario =
    need && need.pid === f.pid
      ? {
          pages: need.peakPages,
          bytes: BigInt(need.minMemlockBytes),
          peakSeq: need.peakSeq,
          peakLine: need.peakLine,
          peakOp: need.peakOp,
        }
      : null;
  const targetBytes = scenario && scenario.bytes > callBytes ? scenario.bytes : callBytes;
  const knobs = memlockKnobList(targetBytes);
  const lines = [
    `memlock: locked_vm ${pg(f.lockedVmPages)} (${b(f.lockedVmPages)}) + this charge ${pg(f.chargePages)} (${b(f.chargePages)}) = ${pg(callPages)} (${b(callPages)}) > RLIMIT_MEMLOCK ${pg(f.limitPages)} (${b(f.limitPages)}; ${f.memlockBytes} bytes)`,
    `this call needs RLIMIT_MEMLOCK >= ${kib(callBytes)} (${pg(callPages)})` +
      (scenario
        ? `; the whole scenario needs ${kib(scenario.bytes)} (${pg(scenario.pages)}, its peak at event ${scenario.peakSeq}${scenario.peakLine !== null ? ` line ${scenario.peakLine}` : ''})`
        : ''),
    `set it (${kib(targetBytes)}) with one of: ${knobs.map((k) => k.setting).join(' · ')}`,
  ];
  return { ...f, callPages, callBytes, scenario, targetBytes, knobs, lines };
}
