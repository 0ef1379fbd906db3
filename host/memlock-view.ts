/**
 * A memlock sizing (engine/memlock.ts SizeReport) in the contract's wire form (common/contract.ts
 * MemlockSizing) for the workbench's Memlock panel: byte counts as decimal strings, contributors in
 * stacking order, the verification reruns with the refused call's why, libvirt's terms and verdict.
 */
import type {
  MemlockLibvirtView,
  MemlockProcessView,
  MemlockSizing,
  MemlockVerifyView,
  ProfileName,
} from '../common/contract.ts';
import { CONTRIBUTOR_KEYS } from '../common/contributors.ts';
import type { LibvirtVerdict } from '../engine/libvirt.ts';
import { sizeText, type SizeReport, type VerifyRun } from '../engine/memlock.ts';

export interface SizingMeta {
  scenario: string;
  kernel: ProfileName;
  pinned?: { kernel: string; line?: number };
  at: Date;
  durationMs: number;
}

export function toMemlockSizing(report: SizeReport, meta: SizingMeta): MemlockSizing {
  const ran = meta.pinned?.kernel ?? meta.kernel;
  return {
    scenario: meta.scenario,
    kernel: meta.kernel,
    ...(meta.pinned ? { pinned: meta.pinned } : {}),
    at: meta.at.toISOString(),
    durationMs: meta.durationMs,
    processes: report.processes.map((p): MemlockProcessView => ({
      pid: p.pid,
      name: p.name,
      pageSize: p.pageSize,
      peakPages: p.peakPages,
      peakSeq: p.peakSeq,
      peakLine: p.peakLine,
      peakOp: p.peakOp,
      parts: partsOf(p.parts),
      minMemlockBytes: p.minMemlockBytes.toString(),
      atLimit: p.atLimit && verifyView(p.atLimit),
      onePageBelow: p.onePageBelow && verifyView(p.onePageBelow),
      verified: p.verified,
      libvirt: p.libvirt && libvirtView(p.libvirt),
    })),
    text: sizeText(report, meta.scenario, ran),
  };
}

/** non-zero contributors, known ones in stacking order first, unknown keys after them */
function partsOf(parts: Record<string, number>): { key: string; pages: number }[] {
  const order = (k: string): number => {
    const i = (CONTRIBUTOR_KEYS as readonly string[]).indexOf(k);
    return i < 0 ? CONTRIBUTOR_KEYS.length : i;
  };
  return Object.entries(parts)
    .filter(([, n]) => n !== 0)
    .sort(([a], [b]) => order(a) - order(b))
    .map(([key, pages]) => ({ key, pages }));
}

function verifyView(v: VerifyRun): MemlockVerifyView {
  return {
    memlockBytes: v.memlockBytes.toString(),
    refusal: v.refusal && {
      seq: v.refusal.seq,
      line: v.refusal.line,
      op: v.refusal.op,
      chargePages: v.refusal.facts.charge,
      lockedVmPages: v.refusal.facts.lockedVm,
      limitPages: v.refusal.facts.limitPages,
      explain: v.refusal.explain,
    },
    events: v.events,
    error: v.error && v.error.message,
  };
}

function libvirtView(v: LibvirtVerdict): MemlockLibvirtView {
  const l = v.limit;
  const i = l.inputs;
  return {
    source: l.source,
    limitBytes: l.limitBytes === null ? null : l.limitBytes.toString(),
    inputs: {
      memoryKiB: i.memoryKiB.toString(),
      maxMemoryKiB: i.maxMemoryKiB.toString(),
      phbs: i.phbs,
      passthrough: i.passthrough,
      nvlink2: i.nvlink2,
      hardLimitKiB: i.hardLimitKiB === null ? null : i.hardLimitKiB.toString(),
      locked: i.locked,
      accel: i.accel,
    },
    terms: l.terms.map((t) => ({
      id: t.id,
      label: t.label,
      formula: t.formula,
      kib: t.kib.toString(),
      used: t.used,
      covers: t.covers,
    })),
    groups: v.groups.map((g) => ({
      group: g.group,
      needBytes: g.needBytes.toString(),
      allowBytes: g.allowBytes.toString(),
    })),
    enough: v.enough,
    marginBytes: v.marginBytes === null ? null : v.marginBytes.toString(),
    shortTerms: v.shortTerms.map((s) => ({ group: s.group, terms: s.terms, byBytes: s.byBytes.toString() })),
    text: v.text,
  };
}
