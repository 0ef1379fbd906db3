/**
 * Models no kernel file: libvirt's memlock limit (src/qemu/qemu_domain.c, see below).
 * The RLIMIT_MEMLOCK libvirt sets for a QEMU process on ppc64 (research/memlock-sizing.md §3.1:
 * qemuDomainGetMemLockLimitBytes / getPPC64MemLockLimitBytes in src/qemu/qemu_domain.c), term by term,
 * and how it compares with what the emulated kernel charged (§3.2). libvirt computes in KiB with integer
 * division and shifts the result to bytes; so does this file.
 *
 * Priority, as libvirt decides it: <memtune><hard_limit> set → that value; <memoryBacking><locked/> →
 * unlimited; a TCG domain → no limit set (0); otherwise (ppc64 + KVM) the formula, with or without any
 * passthrough device:
 *
 *   base        = maxMemory/128 + 4096·nPHB + 8192                         (a) + (b)
 *   passthrough = NVLink2 ? maxMemory + 128 GiB·1024/512·nPHB + 8192       (only with a VFIO hostdev)
 *                         : MAX(2 GiB·nPHB, memory + memory/512·nPHB + 8192)   MAX((c), (d) + (e))
 */
import type { LockedVmBreakdown } from './events.ts';

export interface LibvirtInputs {
  /** <memory>, KiB (libvirt's virDomainDefGetMemoryTotal: initial RAM plus the XML's DIMMs) */
  memoryKiB: bigint;
  /** <maxMemory>, KiB (memory when not set) */
  maxMemoryKiB: bigint;
  /** spapr-pci-host-bridge controllers, the default one included */
  phbs: number;
  /** VFIO PCI hostdevs */
  passthrough: number;
  nvlink2: boolean;
  /** <memtune><hard_limit>, KiB, or null */
  hardLimitKiB: bigint | null;
  locked: boolean;
  accel: 'kvm' | 'tcg';
}

/** Which part of the locked_vm charge a term is meant for (the grouping of §3.2's table). */
export type LibvirtGroup = 'hpt' | 'tables' | 'ram' | 'v1' | 'other';

export interface LibvirtTerm {
  /** the letter of libvirt's own comment, or a name */
  id: string;
  label: string;
  formula: string;
  kib: bigint;
  /** false: computed but not part of the limit (the smaller side of MAX, or a term of another branch) */
  used: boolean;
  /** the kernel charge it is meant to cover */
  covers: LibvirtGroup;
}

export interface LibvirtLimit {
  inputs: LibvirtInputs;
  /** what decided the value, in libvirt's priority order */
  source: 'hard_limit' | 'locked' | 'tcg' | 'formula';
  /** null: unlimited (<locked/>); 0n: libvirt leaves the limit alone (TCG) */
  limitBytes: bigint | null;
  terms: LibvirtTerm[];
  /** the passthrough branch the formula took */
  branch: 'none' | 'window-2GiB-per-PHB' | 'ram-and-ddw' | 'nvlink2';
}

const KIB_PER_GIB = 1n << 20n;

/** libvirt's ppc64 memlock limit for a guest (qemuDomainGetMemLockLimitBytes) */
export function libvirtMemlockLimit(inp: LibvirtInputs): LibvirtLimit {
  const terms: LibvirtTerm[] = [];
  if (inp.hardLimitKiB !== null)
    return { inputs: inp, source: 'hard_limit', limitBytes: inp.hardLimitKiB << 10n, terms, branch: 'none' };
  if (inp.locked) return { inputs: inp, source: 'locked', limitBytes: null, terms, branch: 'none' };
  if (inp.accel === 'tcg') return { inputs: inp, source: 'tcg', limitBytes: 0n, terms, branch: 'none' };

  const nPHB = BigInt(inp.phbs);
  const mem = inp.memoryKiB;
  const maxMem = inp.maxMemoryKiB;
  terms.push({
    id: 'a',
    label: 'hash page table (maxMemory/128)',
    formula: `${maxMem}/128`,
    kib: maxMem / 128n,
    used: true,
    covers: 'hpt',
  });
  terms.push({
    id: 'b',
    label: '32-bit DMA window per PHB (4 MiB: 2 GiB of 4 KiB TCEs) + 8 MiB for the TCE index and spapr-vio',
    formula: `4096·${nPHB} + 8192`,
    kib: 4096n * nPHB + 8192n,
    used: true,
    covers: 'tables',
  });
  let branch: LibvirtLimit['branch'] = 'none';
  if (inp.passthrough > 0) {
    if (inp.nvlink2) {
      branch = 'nvlink2';
      terms.push(
        {
          id: 'nv-ram',
          label: 'NVLink2: all of maxMemory pre-registered',
          formula: `${maxMem}`,
          kib: maxMem,
          used: true,
          covers: 'ram',
        },
        {
          id: 'nv-ddw',
          label: 'NVLink2: a 128 TiB DMA window of 4 KiB TCEs per PHB (+ 8 MiB)',
          formula: `128·2^30/512·${nPHB} + 8192`,
          kib: ((128n * KIB_PER_GIB * 1024n) / 512n) * nPHB + 8192n,
          used: true,
          covers: 'tables',
        },
      );
    } else {
      const c = 2n * KIB_PER_GIB * nPHB;
      const d = mem;
      const e = (mem / 512n) * nPHB + 8192n;
      const useC = c > d + e;
      branch = useC ? 'window-2GiB-per-PHB' : 'ram-and-ddw';
      terms.push(
        {
          id: 'c',
          label: 'pre-DDW VFIO window: 2 GiB per PHB (v1 ENABLE charge)',
          formula: `2 GiB·${nPHB}`,
          kib: c,
          used: useC,
          covers: 'v1',
        },
        {
          id: 'd',
          label: 'guest RAM pre-registered once (memory)',
          formula: `${mem}`,
          kib: d,
          used: !useC,
          covers: 'ram',
        },
        {
          id: 'e',
          label: 'a RAM-sized DDW of 4 KiB TCEs per PHB (memory/512) + 8 MiB for further levels',
          formula: `${mem}/512·${nPHB} + 8192`,
          kib: e,
          used: !useC,
          covers: 'tables',
        },
      );
    }
  }
  const kib = terms.filter((t) => t.used).reduce((s, t) => s + t.kib, 0n);
  return { inputs: inp, source: 'formula', limitBytes: kib << 10n, terms, branch };
}

/** which libvirt group a locked_vm contributor belongs to (kernel-model.md §5.1, §13; research §3.2) */
export function groupOf(contributor: string): LibvirtGroup {
  switch (contributor) {
    case 'regions':
      return 'ram';
    case 'tables':
    case 'views':
    case 'kvmTables':
      return 'tables';
    case 'v1Enable':
      return 'v1';
    default:
      return 'other';
  }
}

const GROUP_TEXT: Record<LibvirtGroup, string> = {
  hpt: 'hash page table',
  ram: 'pre-registered RAM',
  tables: 'TCE tables',
  v1: 'v1 ENABLE window charge',
  other: 'other locked memory',
};

export interface LibvirtVerdict {
  limit: LibvirtLimit;
  enough: boolean;
  /** limit − need, bytes; negative when short; null when libvirt sets unlimited */
  marginBytes: bigint | null;
  /** per group: what the kernel charged at the peak and what the used terms allow for it, bytes */
  groups: { group: LibvirtGroup; needBytes: bigint; allowBytes: bigint }[];
  /** the groups whose charge exceeds their terms, largest excess first (empty when each fits) */
  shortTerms: { group: LibvirtGroup; terms: string[]; byBytes: bigint }[];
  /** one or two sentences: enough or short by how much, and which term falls short */
  text: string;
}

/**
 * libvirt's limit against the run's need: enough when the limit is at least minMemlockBytes; the term
 * that falls short is the group whose charge at the peak exceeds the terms meant for it.
 */
export function libvirtVerdict(
  limit: LibvirtLimit,
  needBytes: bigint,
  parts: Partial<LockedVmBreakdown> & Record<string, number | undefined>,
  pageSize: number,
): LibvirtVerdict {
  const need = new Map<LibvirtGroup, bigint>();
  for (const [k, pages] of Object.entries(parts)) {
    if (!pages) continue;
    const g = groupOf(k);
    need.set(g, (need.get(g) ?? 0n) + BigInt(pages) * BigInt(pageSize));
  }
  const allow = new Map<LibvirtGroup, bigint>();
  for (const t of limit.terms) if (t.used) allow.set(t.covers, (allow.get(t.covers) ?? 0n) + (t.kib << 10n));
  const order: LibvirtGroup[] = ['ram', 'tables', 'v1', 'other', 'hpt'];
  const groups = order
    .map((group) => ({ group, needBytes: need.get(group) ?? 0n, allowBytes: allow.get(group) ?? 0n }))
    .filter((g) => g.needBytes > 0n || g.allowBytes > 0n);
  const shortTerms = groups
    .filter((g) => g.group !== 'hpt' && g.needBytes > g.allowBytes)
    .map((g) => ({
      group: g.group,
      terms: limit.terms.filter((t) => t.used && t.covers === g.group).map((t) => `(${t.id})`),
      byBytes: g.needBytes - g.allowBytes,
    }))
    .sort((x, y) => (y.byBytes > x.byBytes ? 1 : y.byBytes < x.byBytes ? -1 : 0));

  const kib = (b: bigint): string => `${b / 1024n} KiB`;
  if (limit.limitBytes === null)
    return {
      limit,
      enough: true,
      marginBytes: null,
      groups,
      shortTerms,
      text: 'libvirt sets RLIMIT_MEMLOCK to unlimited (<memoryBacking><locked/>): enough.',
    };
  const margin = limit.limitBytes - needBytes;
  const enough = margin >= 0n;
  const describe = (s: LibvirtVerdict['shortTerms'][number]): string =>
    `${GROUP_TEXT[s.group]} exceed ${s.terms.length ? `term ${s.terms.join(' + ')}` : unusedText(s.group, limit)} by ${kib(s.byBytes)}${hint(s.group, limit)}`;
  let text: string;
  if (limit.source === 'hard_limit')
    text = `libvirt uses <memtune><hard_limit> (${kib(limit.limitBytes)}) as the limit: ${enough ? `enough, ${kib(margin)} to spare` : `short by ${kib(-margin)}`}.`;
  else if (limit.source === 'tcg')
    text = `libvirt sets no memlock limit for a TCG domain: the process keeps its own${needBytes > 0n ? ', which must be raised by other means' : ''}.`;
  else if (enough) {
    text = `libvirt's limit ${kib(limit.limitBytes)} covers the peak with ${kib(margin)} to spare.`;
    if (shortTerms.length)
      text += ` Term by term it is tight: ${shortTerms.map(describe).join('; ')} — absorbed by the headroom of the others (mostly (a): the hash page table is not charged to locked_vm).`;
  } else {
    text = `libvirt's limit ${kib(limit.limitBytes)} is short by ${kib(-margin)}.`;
    if (shortTerms.length) text += ` Falls short: ${shortTerms.map(describe).join('; ')}.`;
  }
  return { limit, enough, marginBytes: margin, groups, shortTerms, text };
}

/** a group no used term covers: name the computed-but-unused terms meant for it, if any */
function unusedText(g: LibvirtGroup, limit: LibvirtLimit): string {
  const unused = limit.terms.filter((t) => !t.used && t.covers === g).map((t) => `(${t.id})`);
  return unused.length
    ? `the limit (${unused.join(' + ')} is not part of it: MAX chose the other side)`
    : 'the limit (no term covers them)';
}

/** why a group can exceed its term (research/memlock-sizing.md §3.2) */
function hint(g: LibvirtGroup, limit: LibvirtLimit): string {
  if (g === 'ram')
    return limit.inputs.maxMemoryKiB > limit.inputs.memoryKiB
      ? " (RAM hot-plugged beyond the domain XML's <memory> is registered at run time; (d) counts only <memory>)"
      : ' (more RAM registered than the XML’s <memory>)';
  if (g === 'tables')
    return ' (e.g. a RAM-sized DDW of 4 KiB TCEs on mainline needs 2·memory/512 per PHB, twice (e))';
  if (g === 'v1') return ' (v1 charges 2 GiB per container, not per PHB)';
  if (g === 'other') return ' (no libvirt term covers it)';
  return '';
}
