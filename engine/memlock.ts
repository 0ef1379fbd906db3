/**
 * Engine tooling: models no kernel file.
 * Memlock sizing (scenario-api.md §4.1, product.md workflow 8): what RLIMIT_MEMLOCK each process of a
 * scenario needs, verified by rerunning at that limit and one page below; what libvirt would set for the
 * same guest (libvirt.ts); and the advice every RLIMIT_MEMLOCK refusal carries — the charge, locked_vm
 * before it and the limit in pages and KiB, the limit the call needs, the limit the whole scenario needs,
 * and the knobs in the units they take.
 *
 * Everything here works on the structured facts of events (IoctlEvent.memlock, set from the refused
 * charge in memory.ts Mm.tryCharge — the kernel's own limit check, kernel-model.md §1.5:
 * `T42:try_increment_locked_vm`, `MM42:mm_iommu_adjust_locked_vm`, `UTILML:__account_locked_vm`) and on
 * the peaks a run recorded; the runs themselves are made by the caller (CLI, workbench worker) through
 * `sizeScenario(run)`, so this file stays free of the runner and of Node.
 */
import type { EventList, IoctlEvent, RunEvent, SyscallEvent } from './events.ts';
import { libvirtMemlockLimit, libvirtVerdict, type LibvirtInputs, type LibvirtVerdict } from './libvirt.ts';
import type { MemlockRefusal } from './memory.ts';
import type { MemlockPolicy } from './session.ts';
import { knobText, memlockKnobList } from '../common/memlock.ts';

/** a process's `guest` option with defaults filled in (api.ts GuestOptions) */
export interface GuestSpec {
  ram: bigint;
  maxRam: bigint;
  phbs: number;
  passthrough: number;
  nvlink2: boolean;
  hardLimit: bigint | null;
  locked: boolean;
  accel: 'kvm' | 'tcg';
}

/** what one run recorded for one process (Session.memlockPeaks) */
export interface ProcessPeak {
  pid: number;
  name: string;
  pageSize: number;
  peakPages: number;
  /** the event during which locked_vm reached the peak; 0 when nothing was ever charged */
  peakSeq: number;
  /** locked_vm contributors at the peak, pages (every key of the breakdown, including ones added later) */
  parts: Record<string, number>;
  guest: GuestSpec | null;
}

/** the limit the whole scenario needs for one process */
export interface ScenarioNeed {
  pid: number;
  pageSize: number;
  peakPages: number;
  peakSeq: number;
  /** scenario line and operation of the event reaching the peak (in the sizing run) */
  peakLine: number | null;
  peakOp: string | null;
  minMemlockBytes: bigint;
}

// ------------------------------------------------------------------------------------------------
// advice for one refusal

const kib = (bytes: bigint): string => `${bytes / 1024n} KiB`;
const pages = (n: number): string => `${n} page${n === 1 ? '' : 's'}`;

/** the knobs that set RLIMIT_MEMLOCK to `bytes`, each in its own unit (common/memlock.ts) */
export function memlockKnobs(bytes: bigint): string[] {
  return memlockKnobList(bytes).map(knobText);
}

/**
 * The advice lines for a refused charge: what was refused in pages and KiB, the limit this call needs,
 * the limit the whole scenario needs (when a sizing run is known), and how to set it.
 */
export function refusalAdvice(r: MemlockRefusal, need?: ScenarioNeed | null): string[] {
  const ps = BigInt(r.pageSize);
  const b = (n: number): string => kib(BigInt(n) * ps);
  const callPages = r.lockedVm + r.charge;
  const callBytes = BigInt(callPages) * ps;
  const lines = [
    `memlock: locked_vm ${pages(r.lockedVm)} (${b(r.lockedVm)}) + this charge ${pages(r.charge)} (${b(r.charge)}) = ${pages(callPages)} (${b(callPages)}) > RLIMIT_MEMLOCK ${pages(r.limitPages)} (${b(r.limitPages)}; the limit is ${r.memlock} bytes, counted in whole ${r.pageSize / 1024} KiB pages)`,
  ];
  let target = callBytes;
  let needText = `this call needs RLIMIT_MEMLOCK >= ${kib(callBytes)} (${pages(callPages)})`;
  if (need && need.pid === r.pid) {
    const at = [need.peakOp, need.peakLine !== null ? `line ${need.peakLine}` : null]
      .filter(Boolean)
      .join(' at ');
    needText += `; the whole scenario needs ${kib(need.minMemlockBytes)} (${pages(need.peakPages)}, its peak${at ? `: ${at}` : ''}, sized with the check off)`;
    if (need.minMemlockBytes > target) target = need.minMemlockBytes;
  }
  lines.push(needText);
  lines.push(`set it (${kib(target)}) with one of: ${memlockKnobs(target).join(' · ')}`);
  return lines;
}

/** the events of a run whose charge RLIMIT_MEMLOCK refused (always ENOMEM, so only those are decoded) */
export function memlockRefusals(
  events: EventList | readonly RunEvent[],
): ((IoctlEvent | SyscallEvent) & { memlock: MemlockRefusal })[] {
  const out: ((IoctlEvent | SyscallEvent) & { memlock: MemlockRefusal })[] = [];
  const retAt = (events as { retAt?: (i: number) => number | undefined }).retAt?.bind(events);
  for (let i = 0; i < events.length; i++) {
    const ret = retAt?.(i);
    if (ret !== undefined && ret !== -12) continue;
    const e = events.at(i);
    if (e && (e.kind === 'ioctl' || e.kind === 'syscall') && e.memlock) out.push(e as (typeof out)[number]);
  }
  return out;
}

/** the refused charge an event carries, if any (ioctls, and mlock) */
export function refusalOf(e: RunEvent): MemlockRefusal | undefined {
  return e.kind === 'ioctl' || e.kind === 'syscall' ? e.memlock : undefined;
}

// ------------------------------------------------------------------------------------------------
// sizing

export interface SizingRunResult {
  events: EventList | readonly RunEvent[];
  processes: ProcessPeak[];
  error: { message: string; line: number | null; column: number | null } | null;
}

/** one verification rerun as seen from one process */
export interface VerifyRun {
  /** the forced RLIMIT_MEMLOCK of the process in that run */
  memlockBytes: bigint;
  /** the first refused charge of this process, or null */
  refusal: { seq: number; line: number | null; op: string; facts: MemlockRefusal; explain: string } | null;
  events: number;
  error: SizingRunResult['error'];
}

export interface ProcessSizing extends ProcessPeak {
  minMemlockBytes: bigint;
  /** the event that reached the peak */
  peakOp: string | null;
  peakLine: number | null;
  libvirt: LibvirtVerdict | null;
  /** the rerun with every process at its minMemlockBytes: no refusal expected */
  atLimit: VerifyRun | null;
  /** the rerun with this process one page below: a refusal expected (null when the peak is 0) */
  onePageBelow: VerifyRun | null;
  /** both reruns came out as they must */
  verified: boolean;
}

export interface SizeReport {
  processes: ProcessSizing[];
  /** the sizing run could not complete */
  error: SizingRunResult['error'];
  /** the sizing run's events (for a workbench view) */
  events: EventList | readonly RunEvent[];
}

/** the libvirt inputs of a guest, in libvirt's units (KiB) */
export function libvirtInputs(g: GuestSpec): LibvirtInputs {
  return {
    memoryKiB: g.ram / 1024n,
    maxMemoryKiB: g.maxRam / 1024n,
    phbs: g.phbs,
    passthrough: g.passthrough,
    nvlink2: g.nvlink2,
    hardLimitKiB: g.hardLimit === null ? null : g.hardLimit / 1024n,
    locked: g.locked,
    accel: g.accel,
  };
}

/**
 * Sizes a scenario: one run with every RLIMIT_MEMLOCK check off, then the verification reruns (every
 * process at exactly its minimum; each process one page below, the others unchecked). `run` runs the
 * scenario under the given policy; the caller picks profile, budgets and sandbox.
 */
export async function sizeScenario(
  run: (policy: MemlockPolicy) => Promise<SizingRunResult>,
): Promise<SizeReport> {
  const base = await run({ kind: 'unchecked' });
  const processes: ProcessSizing[] = base.processes.map((p) => {
    const minMemlockBytes = BigInt(p.peakPages) * BigInt(p.pageSize);
    const at = base.events.find((e) => e.seq === p.peakSeq);
    return {
      ...p,
      minMemlockBytes,
      peakOp: at && 'op' in at ? at.op : null,
      peakLine: at?.line ?? null,
      libvirt: p.guest
        ? libvirtVerdict(libvirtMemlockLimit(libvirtInputs(p.guest)), minMemlockBytes, p.parts, p.pageSize)
        : null,
      atLimit: null,
      onePageBelow: null,
      verified: false,
    };
  });
  if (base.error || processes.length === 0) return { processes, error: base.error, events: base.events };

  const limits: Record<number, bigint> = {};
  for (const p of processes) limits[p.pid] = p.minMemlockBytes;
  const all = await run({ kind: 'limits', limits });
  for (const p of processes) p.atLimit = verifyOf(all, p.pid, p.minMemlockBytes);
  for (const p of processes) {
    if (p.peakPages === 0) {
      p.verified = p.atLimit?.refusal === null && p.atLimit.error === null;
      continue;
    }
    const below = p.minMemlockBytes - BigInt(p.pageSize);
    p.onePageBelow = verifyOf(await run({ kind: 'limits', limits: { [p.pid]: below } }), p.pid, below);
    p.verified =
      p.atLimit !== null &&
      p.atLimit.refusal === null &&
      p.atLimit.error === null &&
      p.onePageBelow.refusal !== null;
  }
  return { processes, error: null, events: base.events };
}

function verifyOf(r: SizingRunResult, pid: number, memlockBytes: bigint): VerifyRun {
  const e = memlockRefusals(r.events).find((x) => x.memlock.pid === pid);
  return {
    memlockBytes,
    refusal: e
      ? {
          seq: e.seq,
          line: e.line ?? null,
          op: e.op,
          facts: e.memlock,
          explain: e.explain,
        }
      : null,
    events: r.events.length,
    error: r.error,
  };
}

/** the whole-scenario need per pid, from a size report (for refusalAdvice) */
export function needsOf(report: SizeReport): Map<number, ScenarioNeed> {
  const out = new Map<number, ScenarioNeed>();
  for (const p of report.processes)
    out.set(p.pid, {
      pid: p.pid,
      pageSize: p.pageSize,
      peakPages: p.peakPages,
      peakSeq: p.peakSeq,
      peakLine: p.peakLine,
      peakOp: p.peakOp,
      minMemlockBytes: p.minMemlockBytes,
    });
  return out;
}

// ------------------------------------------------------------------------------------------------
// output

/** the `dmawb-size` document (scenario-api.md §4.1); fields after `libvirt` are additive */
export function sizeDocument(scenario: string, kernel: string, report: SizeReport): unknown {
  return {
    format: 'dmawb-size',
    version: 1,
    scenario,
    kernel,
    pageSize: report.processes[0]?.pageSize ?? 65536,
    processes: report.processes.map((p) => ({
      pid: p.pid,
      name: p.name,
      peakPages: p.peakPages,
      peakSeq: p.peakSeq,
      minMemlockBytes: p.minMemlockBytes.toString(),
      parts: p.parts,
      libvirt: p.libvirt && {
        limitBytes: p.libvirt.limit.limitBytes === null ? 'unlimited' : p.libvirt.limit.limitBytes.toString(),
        inputs: {
          memoryKiB: p.libvirt.limit.inputs.memoryKiB.toString(),
          maxMemoryKiB: p.libvirt.limit.inputs.maxMemoryKiB.toString(),
          phbs: p.libvirt.limit.inputs.phbs,
          passthrough: p.libvirt.limit.inputs.passthrough,
          nvlink2: p.libvirt.limit.inputs.nvlink2,
          hardLimitKiB:
            p.libvirt.limit.inputs.hardLimitKiB === null
              ? null
              : p.libvirt.limit.inputs.hardLimitKiB.toString(),
          locked: p.libvirt.limit.inputs.locked,
          accel: p.libvirt.limit.inputs.accel,
        },
        enough: p.libvirt.enough,
        marginBytes: p.libvirt.marginBytes === null ? 'unlimited' : p.libvirt.marginBytes.toString(),
        source: p.libvirt.limit.source,
        terms: p.libvirt.limit.terms.map((t) => ({
          id: t.id,
          label: t.label,
          formula: t.formula,
          kib: t.kib.toString(),
          used: t.used,
        })),
        shortTerms: p.libvirt.shortTerms.map((s) => ({
          group: s.group,
          terms: s.terms,
          byBytes: s.byBytes.toString(),
        })),
        text: p.libvirt.text,
      },
      peakOp: p.peakOp,
      peakLine: p.peakLine,
      pageSize: p.pageSize,
      verify: {
        atLimit: p.atLimit && verifyJson(p.atLimit),
        onePageBelow: p.onePageBelow && verifyJson(p.onePageBelow),
        verified: p.verified,
      },
    })),
  };
}

function verifyJson(v: VerifyRun): unknown {
  return {
    memlockBytes: v.memlockBytes.toString(),
    refused: v.refusal !== null,
    ...(v.refusal
      ? {
          refusal: {
            seq: v.refusal.seq,
            line: v.refusal.line,
            op: v.refusal.op,
            chargePages: v.refusal.facts.charge,
            lockedVmPages: v.refusal.facts.lockedVm,
            limitPages: v.refusal.facts.limitPages,
          },
        }
      : {}),
    error: v.error && v.error.message,
  };
}

/** contributor names as the views show them (unknown keys are shown as they are) */
export const PART_NAMES: Record<string, string> = {
  v1Enable: 'v1 ENABLE charge',
  regions: 'pre-registered regions',
  tables: 'TCE tables',
  views: 'userspace views (4.2)',
  leaked: 'never returned',
  kvmTables: 'KVM TCE tables',
  mlocked: 'mlock()',
};

/** the sizing as readable lines (CLI text mode, Markdown report, workbench copy) */
export function sizeText(report: SizeReport, scenario: string, kernel: string): string[] {
  const out: string[] = [`memlock sizing: ${scenario} (kernel ${kernel})`];
  if (report.error) {
    out.push(`  the sizing run could not complete: ${report.error.message}`);
    return out;
  }
  if (report.processes.length === 0) out.push('  no processes');
  for (const p of report.processes) {
    const ps = BigInt(p.pageSize);
    out.push('');
    out.push(`pid ${p.pid} (${p.name}), ${p.pageSize / 1024} KiB pages`);
    out.push(
      p.peakPages === 0
        ? '  peak locked_vm: 0 pages (nothing charged)'
        : `  peak locked_vm: ${pages(p.peakPages)} = ${kib(BigInt(p.peakPages) * ps)} at event ${p.peakSeq}${p.peakLine !== null ? ` (line ${p.peakLine})` : ''}${p.peakOp ? ` ${p.peakOp}` : ''}`,
    );
    const parts = Object.entries(p.parts).filter(([, n]) => n !== 0);
    if (parts.length)
      out.push(
        `  made of: ${parts.map(([k, n]) => `${PART_NAMES[k] ?? k} ${pages(n)} (${kib(BigInt(n) * ps)})`).join(', ')}`,
      );
    out.push(
      `  minimal RLIMIT_MEMLOCK: ${p.minMemlockBytes} bytes = ${kib(p.minMemlockBytes)} (${pages(p.peakPages)})`,
    );
    if (p.atLimit) out.push(`  rerun at ${kib(p.atLimit.memlockBytes)}: ${verifyText(p.atLimit)}`);
    if (p.onePageBelow)
      out.push(
        `  rerun at ${kib(p.onePageBelow.memlockBytes)} (one page less): ${verifyText(p.onePageBelow)}`,
      );
    if (p.atLimit)
      out.push(
        `  verified: ${p.verified ? 'yes' : 'NO — the reruns did not come out as the limit predicts'}`,
      );
    if (p.peakPages > 0)
      out.push('  set it with one of:', ...memlockKnobs(p.minMemlockBytes).map((k) => `    ${k}`));
    if (p.libvirt) out.push(...libvirtLines(p.libvirt).map((l) => `  ${l}`));
  }
  return out;
}

function verifyText(v: VerifyRun): string {
  const head = v.refusal
    ? `refused at event ${v.refusal.seq}${v.refusal.line !== null ? ` (line ${v.refusal.line})` : ''} ${v.refusal.op}: locked_vm ${v.refusal.facts.lockedVm} + ${v.refusal.facts.charge} > ${v.refusal.facts.limitPages} pages`
    : `no refusal (${v.events} events)`;
  return v.error ? `${head}; the run stopped: ${v.error.message}` : head;
}

/** libvirt's limit term by term and the verdict */
export function libvirtLines(v: LibvirtVerdict): string[] {
  const l = v.limit;
  const i = l.inputs;
  const out = [
    `libvirt (ppc64, qemuDomainGetMemLockLimitBytes) for memory ${i.memoryKiB} KiB, maxMemory ${i.maxMemoryKiB} KiB, ${i.phbs} PHB${i.phbs === 1 ? '' : 's'}, ${i.passthrough} passthrough device${i.passthrough === 1 ? '' : 's'}${i.nvlink2 ? ' (NVLink2)' : ''}:`,
  ];
  if (l.source === 'hard_limit')
    out.push(`  <memtune><hard_limit> ${i.hardLimitKiB} KiB is used as the limit`);
  else if (l.source === 'locked') out.push('  <memoryBacking><locked/>: unlimited');
  else if (l.source === 'tcg') out.push('  TCG domain: libvirt sets no limit');
  for (const t of l.terms)
    out.push(
      `  (${t.id}) ${t.label}: ${t.formula} = ${t.kib} KiB${t.used ? '' : ' — not used (MAX chose the other side)'}`,
    );
  if (l.limitBytes !== null && l.source === 'formula')
    out.push(`  limit = ${l.limitBytes / 1024n} KiB = ${l.limitBytes} bytes`);
  out.push(`  ${v.text}`);
  return out;
}
