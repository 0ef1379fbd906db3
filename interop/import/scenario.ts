/**
 * Records of one or more captures → one readable scenario (scenario-api.md §4.2). Pure: no Node, no DOM.
 *
 * The scenario sets up what QEMU always does before the traced calls (host, PHB, group, the QEMU process
 * with its RLIMIT_MEMLOCK, guest RAM mappings, container, SET_CONTAINER, SET_IOMMU v1 or v2, v1's ENABLE),
 * then issues every recorded call in capture order and asserts its recorded result, and after each call
 * the recorded locked_vm changes (kernel accounting lines). Every call and assertion carries the capture
 * file and line it came from. The first result the emulated host does not reproduce is logged as the
 * divergence with the emulated call's why, and the replay stops there: later calls would start from a
 * state the host never had.
 */
import { errnoName } from '../../engine/errno.ts';
import { packRows, REPLAY_PACKED, type PackRow } from './packed.ts';
import type { At, ParsedCapture, Problem, Rec } from './parse.ts';

export type ImportKernel = '4.2' | '5.x' | 'mainline';
export const IMPORT_KERNELS: readonly ImportKernel[] = ['4.2', '5.x', 'mainline'];

export interface ImportOptions {
  kernel?: ImportKernel;
  pageSize?: 4096 | 65536;
  /** soft RLIMIT_MEMLOCK in bytes, used when no capture records it */
  memlock?: bigint | 'unlimited';
  /** host RAM in bytes */
  ram?: bigint;
}

export interface ImportResult {
  /** the scenario text, or null when nothing could be imported */
  scenario: string | null;
  problems: Problem[];
  /** unused lines by kind, over all captures */
  skipped: Map<string, number>;
  /** recorded calls the scenario issues, and the assertions it makes on recorded values */
  calls: number;
  checks: number;
}

/** Linux's default soft RLIMIT_MEMLOCK and the scenario API's spawn() default */
const DEFAULT_MEMLOCK = 64n * 1024n;
const RLIM_INFINITY = (1n << 64n) - 1n;

const hx = (v: bigint): string => (v < 0n ? `-0x${(-v).toString(16)}n` : `0x${v.toString(16)}n`);
const where = (a: At): string => `${a.file}:${a.line}`;
const str = (s: string): string => JSON.stringify(s);

function bytesText(n: bigint): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let u = -1;
  let x = n;
  while (x >= 1024n && x % 1024n === 0n && u < units.length - 1) {
    x /= 1024n;
    u++;
  }
  return u < 0 ? `${n} bytes` : `${x} ${units[u]}`;
}

interface Fact {
  name: string;
  value: string;
  how: 'recorded' | 'given' | 'assumed' | 'inferred';
  why: string;
}

interface Range {
  ua: bigint;
  size: bigint;
  gpa?: bigint;
  at?: At;
  why: string;
}

/**
 * Orders the records of several captures into one stream. Records with an absolute time (QEMU log
 * `TID@SEC.USEC`, ISO-8601 error lines) from different files are merged by time; a record without one
 * keeps its place after the record before it in its file. Files with no absolute time at all follow in
 * command-line order. Kernel accounting lines are matched by value, not by position (their dmesg times
 * count from boot), so where they land does not matter.
 */
export function mergeRecords(captures: readonly ParsedCapture[]): Rec[] {
  const keyed: { r: Rec; t: number; f: number; i: number }[] = [];
  let base = 0;
  for (let f = 0; f < captures.length; f++) {
    const recs = captures[f]!.records;
    const firstTime = recs.find((r) => r.time !== undefined)?.time;
    let t = firstTime ?? Number.MAX_SAFE_INTEGER - 1e9 + base;
    recs.forEach((r, i) => {
      if (r.time !== undefined) t = r.time;
      keyed.push({ r, t, f, i });
    });
    if (firstTime === undefined) base += 1e6;
  }
  keyed.sort((a, b) => a.t - b.t || a.f - b.f || a.i - b.i);
  return keyed.map((k) => k.r);
}

export function importCaptures(captures: readonly ParsedCapture[], opts: ImportOptions = {}): ImportResult {
  const problems: Problem[] = captures.flatMap((c) => c.problems);
  const skipped = new Map<string, number>();
  for (const c of captures) for (const [k, v] of c.skipped) skipped.set(k, (skipped.get(k) ?? 0) + v);
  const records = mergeRecords(captures);
  const facts: Fact[] = [];
  const gaps: string[] = [];
  const skip = (kind: string) => skipped.set(kind, (skipped.get(kind) ?? 0) + 1);

  // ---- the QEMU process and its kernel accounting lines ----
  const lvAll = records.filter((r): r is Extract<Rec, { kind: 'lockedVm' }> => r.kind === 'lockedVm');
  const qemuTids = new Set(
    records.filter((r) => r.tid !== undefined && r.kind !== 'lockedVm').map((r) => r.tid),
  );
  const pids = [...new Set(lvAll.map((r) => r.pid))];
  const pid = pids.find((p) => qemuTids.has(p)) ?? pids[0];
  for (const other of pids.filter((p) => p !== pid)) {
    const first = lvAll.find((r) => r.pid === other)!;
    problems.push({
      at: first.at,
      message: `several pids: kernel accounting lines of pid ${other} (from here) as well as pid ${pid}; only pid ${pid} is imported`,
    });
    gaps.push(
      `${where(first.at)}: locked_vm lines of pid ${other} are not imported (only pid ${pid}, the QEMU process)`,
    );
  }
  const lv = lvAll.filter((r) => r.pid === pid);
  for (const r of lvAll) if (r.pid !== pid) skip(`kernel locked_vm line of another pid`);

  // ---- host facts ----
  let kernel: ImportKernel | undefined = opts.kernel;
  const era = lv[0]?.era;
  if (opts.kernel) facts.push({ name: 'kernel profile', value: opts.kernel, how: 'given', why: '--kernel' });
  else if (era === 'driver') {
    kernel = '4.2';
    facts.push({
      name: 'kernel profile',
      value: '4.2',
      how: 'inferred',
      why: `${where(lv[0]!.at)}: the driver's own "RLIMIT_MEMLOCK" lines are printed by 4.2–5.2 kernels; 4.2 is the nearest profile (--kernel to choose)`,
    });
  } else if (era === 'account_locked_vm') {
    kernel = 'mainline';
    facts.push({
      name: 'kernel profile',
      value: 'mainline',
      how: 'inferred',
      why: `${where(lv[0]!.at)}: "__account_locked_vm" lines are printed by kernels ≥ 5.3; mainline is assumed over 5.x (--kernel to choose)`,
    });
  } else
    facts.push({
      name: 'kernel profile',
      value: "the run's --kernel (default mainline)",
      how: 'assumed',
      why: 'no capture line tells the kernel era; createHost() names none, so `dmawb run --kernel` decides',
    });

  const pageSize = opts.pageSize ?? 65536;
  facts.push({
    name: 'PAGE_SIZE',
    value: String(pageSize),
    how: opts.pageSize ? 'given' : 'assumed',
    why: opts.pageSize
      ? '--page-size'
      : 'no capture records it; 64 KiB is what ppc64 distributions build (--page-size)',
  });
  const ram = opts.ram ?? 64n << 30n;
  facts.push({
    name: 'host RAM',
    value: bytesText(ram),
    how: opts.ram ? 'given' : 'assumed',
    why: opts.ram ? '--ram' : 'no capture records it; the emulator default (--ram)',
  });

  // RLIMIT_MEMLOCK: a kernel accounting line prints it; libvirt's debug log and strace prlimit64 record it
  let memlock: bigint | 'unlimited';
  const limits = records.filter(
    (r): r is Extract<Rec, { kind: 'memlockLimit' }> => r.kind === 'memlockLimit',
  );
  if (lv.length > 0) {
    memlock = lv[0]!.limit;
    facts.push({
      name: 'RLIMIT_MEMLOCK',
      value: `${memlock} bytes (${bytesText(memlock)})`,
      how: 'recorded',
      why: `${where(lv[0]!.at)}: every kernel accounting line prints the limit`,
    });
    const changed = lv.find((r) => r.limit !== lv[0]!.limit);
    if (changed)
      gaps.push(
        `${where(changed.at)}: the limit changes to ${changed.limit} bytes during the capture; the replay keeps ${memlock}`,
      );
  } else if (limits.length > 0) {
    memlock = limits[0]!.bytes;
    facts.push({
      name: 'RLIMIT_MEMLOCK',
      value: memlock === 'unlimited' ? 'unlimited' : `${memlock} bytes (${bytesText(memlock)})`,
      how: 'recorded',
      why: `${where(limits[0]!.at)}: ${limits[0]!.source}`,
    });
  } else if (opts.memlock !== undefined) {
    memlock = opts.memlock;
    facts.push({
      name: 'RLIMIT_MEMLOCK',
      value: memlock === 'unlimited' ? 'unlimited' : `${memlock} bytes (${bytesText(memlock)})`,
      how: 'given',
      why: '--memlock',
    });
  } else {
    memlock = DEFAULT_MEMLOCK;
    facts.push({
      name: 'RLIMIT_MEMLOCK',
      value: `${memlock} bytes (64 KiB)`,
      how: 'assumed',
      why: "no capture records it (kernel accounting lines print it); Linux's default — pass --memlock with the limit QEMU ran under",
    });
  }
  const memlockAssumed = facts.at(-1)!.how === 'assumed';

  // ---- strace: fd kinds, by-value arguments, results ----
  type StraceRec = Extract<Rec, { kind: 'strace' }>;
  const strace = records.filter((r): r is StraceRec => r.kind === 'strace');
  const straceOp = (r: StraceRec): string | null => {
    const kind = /^\/dev\/vfio\/vfio$/.test(r.fdPath)
      ? 'container'
      : /^\/dev\/vfio\/\d+$/.test(r.fdPath)
        ? 'group'
        : r.fdPath === ''
          ? 'unknown'
          : 'other';
    const pick = (re: RegExp) => r.names.find((x) => re.test(x)) ?? null;
    // the sPAPR container's ioctls; strace lists every name sharing the number (type1's, the device's)
    if (kind === 'container')
      return (
        pick(/^VFIO_IOMMU_SPAPR_/) ??
        pick(
          /^VFIO_(GET_API_VERSION|CHECK_EXTENSION|SET_IOMMU|IOMMU_(MAP_DMA|UNMAP_DMA|ENABLE|DISABLE|GET_INFO)|EEH_PE_OP)$/,
        )
      );
    if (kind === 'group') return pick(/^VFIO_GROUP_/);
    if (kind === 'unknown' && r.names.length === 1 && /^VFIO_/.test(r.names[0]!)) return r.names[0]!;
    return null;
  };
  const noDecode = strace.find((r) => r.fdPath === '' && r.names.length > 1);
  if (noDecode)
    problems.push({
      at: noDecode.at,
      message:
        "strace without -y: the fd's kind is not printed, so an ambiguous ioctl name cannot be resolved (run strace with -y)",
    });

  // ---- v1 or v2 ----
  const setIommuStrace = strace.find((r) => straceOp(r) === 'VFIO_SET_IOMMU' && r.ret === 0);
  const prereg = records.find((r) => r.kind === 'prereg' || r.kind === 'regFailed');
  const windowRec = records.find((r) => r.kind === 'createWindow' || r.kind === 'removeWindow');
  let v2: boolean;
  if (setIommuStrace && /^(0x)?[27]$|SPAPR_TCE/.test(setIommuStrace.arg)) {
    v2 = /7|v2/.test(setIommuStrace.arg);
    facts.push({
      name: 'IOMMU backend',
      value: v2 ? 'sPAPR TCE v2' : 'sPAPR TCE v1',
      how: 'recorded',
      why: `${where(setIommuStrace.at)}: strace shows VFIO_SET_IOMMU(${setIommuStrace.arg}) = 0`,
    });
  } else if (prereg) {
    v2 = true;
    facts.push({
      name: 'IOMMU backend',
      value: 'sPAPR TCE v2',
      how: 'inferred',
      why: `${where(prereg.at)}: QEMU pre-registers memory only on a v2 container`,
    });
  } else if (windowRec) {
    v2 = true;
    facts.push({
      name: 'IOMMU backend',
      value: 'sPAPR TCE v2',
      how: 'inferred',
      why: `${where(windowRec.at)}: QEMU creates and removes windows only on a v2 container`,
    });
  } else {
    v2 = false;
    facts.push({
      name: 'IOMMU backend',
      value: 'sPAPR TCE v1',
      how: 'inferred',
      why: 'no pre-registration or window event: QEMU uses v2 whenever SET_IOMMU(7) succeeds, so this host gave v1',
    });
  }

  // ---- guest RAM: memslots, else the registered ranges, else libvirt's -m ----
  const ranges: Range[] = [];
  const memslots = records.filter(
    (r): r is Extract<Rec, { kind: 'memslot' }> => r.kind === 'memslot' && r.ret === 0 && r.size > 0n,
  );
  for (const s of memslots)
    if (!ranges.some((x) => x.ua === s.ua && x.size === s.size))
      ranges.push({
        ua: s.ua,
        size: s.size,
        gpa: s.gpa,
        at: s.at,
        why: `kvm_set_user_memory slot ${s.slot}`,
      });
  const inRanges = (ua: bigint, size: bigint) => ranges.some((x) => ua >= x.ua && ua + size <= x.ua + x.size);
  for (const r of records) {
    if (r.kind === 'prereg' && r.op === 'register' && !inRanges(r.va, r.size))
      ranges.push({ ua: r.va, size: r.size, at: r.at, why: 'the registered range (no memslot covers it)' });
  }
  const guestRam = records.find((r): r is Extract<Rec, { kind: 'guestRam' }> => r.kind === 'guestRam');
  let assumedRam: Range | undefined;
  if (ranges.length === 0 && guestRam) {
    assumedRam = { ua: 0n, size: guestRam.bytes, at: guestRam.at, why: "QEMU's -m in the libvirt log" };
  }
  const pageMask = BigInt(pageSize) - 1n;
  const mmaps = ranges.map((x) => {
    const start = x.ua & ~pageMask;
    const end = (x.ua + x.size + pageMask) & ~pageMask;
    return { ...x, start, len: end - start };
  });
  if (memslots.length)
    facts.push({
      name: 'guest RAM',
      value: memslots
        .map((s) => `gpa ${hx(s.gpa).slice(0, -1)} size ${bytesText(s.size)} at ${hx(s.ua).slice(0, -1)}`)
        .join('; '),
      how: 'recorded',
      why: `${memslots.map((s) => where(s.at)).join(', ')}: kvm_set_user_memory (the only trace giving gpa → host address)`,
    });
  else if (ranges.length)
    facts.push({
      name: 'guest RAM',
      value: ranges.map((x) => `${bytesText(x.size)} at ${hx(x.ua).slice(0, -1)}`).join('; '),
      how: 'inferred',
      why: 'from the registered ranges (no kvm_set_user_memory in the capture): guest physical addresses unknown',
    });
  else if (assumedRam)
    facts.push({
      name: 'guest RAM',
      value: bytesText(assumedRam.size),
      how: 'recorded',
      why: `${where(assumedRam.at!)}: ${assumedRam.why}; its host address is not recorded (the emulator picks one)`,
    });
  const devices = records.filter((r): r is Extract<Rec, { kind: 'device' }> => r.kind === 'device');
  facts.push({
    name: 'PHB, IOMMU group',
    value: `one IODA2 PHB, one group${devices.length ? ` (host group ${devices[0]!.group}, device ${devices[0]!.name})` : ''}`,
    how: devices.length ? 'recorded' : 'assumed',
    why: devices.length
      ? `${where(devices[0]!.at)}: vfio_attach_device; the PHB model is assumed (IODA2: POWER8/9, DDW-capable)`
      : 'not in the capture; IODA2 (POWER8/9, DDW-capable) is what QEMU guests with VFIO run on',
  });

  // ---- KVM ----
  const kvmTables = records.filter((r) => r.kind === 'newTable' && r.fd >= 0);
  const lvAssert = lv.length > 0;
  if (kvmTables.length > 0)
    gaps.push(
      `${where(kvmTables[0]!.at)}: KVM in-kernel TCE tables (spapr_iommu_new_table fd ≥ 0) are replayed as KVM_CREATE_SPAPR_TCE_64 with the geometry of their spapr_iommu_ddw_create line, else QEMU's default 32-bit window (1 GiB of 4 KiB TCEs at 0, assumed); guest hypercalls KVM handles in the kernel never reach QEMU, so the TCEs they set are not in the capture`,
    );
  // KVM-tagged lines leave the queue; totals after them are reduced by what KVM holds
  const queue: { at: At; delta: bigint; after: bigint; limit: bigint; exceeded: boolean; text: string }[] =
    [];
  let running: bigint | undefined;
  for (const r of lv) {
    // mm_iommu_adjust_locked_vm (4.2–5.2, "HASH64") prints no " - exceeded": a refused charge shows as a
    // line whose total did not move
    if (
      r.era === 'driver' &&
      r.tag === 'prereg' &&
      r.delta > 0n &&
      running !== undefined &&
      r.after === running
    )
      (r as { exceeded: boolean }).exceeded = true;
    running = r.after;
    queue.push({
      at: r.at,
      delta: r.delta,
      after: r.after,
      limit: r.limit,
      exceeded: r.exceeded,
      text: r.text,
    });
  }
  if (queue.length > 0) {
    const q0 = queue[0]!;
    const before = q0.exceeded ? q0.after : q0.after - q0.delta;
    if (before !== 0n)
      gaps.push(
        `${where(q0.at)}: the first accounting line starts from locked_vm ${before} bytes, not 0: earlier lines are missing (dmesg ring buffer, or dynamic debug switched on late); the replay starts from 0`,
      );
  }

  // ---- the steps ----
  let calls = 0;
  let checks = 0;
  const windows: { start: bigint; pageShift: number; size: bigint }[] = [];
  const consumed = new Set<Rec>();
  /** fd of a KVM table (spapr_iommu_new_table) → the scenario variable holding its create result */
  const kvmTableVars = new Map<number, string>();
  let kvmTablesMade = 0;
  const ramFor = (gpa: bigint): Range | undefined =>
    ranges.find((x) => x.gpa !== undefined && gpa >= x.gpa && gpa < x.gpa + x.size);
  const expected = (ret: number): string => {
    if (ret >= 0) return String(ret);
    const name = errnoName(ret);
    return name ? str(name) : String(ret);
  };
  const mapIndex = { n: 0 };
  void mapIndex;
  /** QEMU's first guess of levels for a window (kernel-model.md §10.1 step 9) */
  const levelGuess = (pageShift: number, size: bigint): number => {
    const bitsTotal = ((size >> BigInt(pageShift)) * 8n).toString(2).length - 1;
    return Math.max(1, Math.ceil(bitsTotal / (Math.log2(pageSize) + 8)));
  };
  /** geometry of a window whose creation failed (QEMU does not trace the request) */
  const assumedWindow = (before: number): { pageShift: number; size: bigint; why: string } => {
    const query = records
      .slice(0, before)
      .filter((r): r is Extract<Rec, { kind: 'ddwQuery' }> => r.kind === 'ddwQuery')
      .at(-1);
    if (windows.length === 0 && !query)
      return {
        pageShift: 12,
        size: 1n << 30n,
        why: "the guest's 32-bit window: QEMU's default 1 GiB of 4 KiB TCEs",
      };
    const total = ranges.reduce((s, x) => s + x.size, 0n) || (assumedRam?.size ?? 1n << 32n);
    let size = 1n;
    while (size < total) size <<= 1n;
    const shift = pageSize === 65536 && (query ? query.pgmask & 2 : 1) ? 16 : 12;
    return {
      pageShift: shift,
      size,
      why: `a guest DDW request${query ? ` (${where(query.at)})` : ''}: all guest RAM (${bytesText(size)}) in ${shift === 16 ? '64 KiB' : '4 KiB'} TCEs`,
    };
  };

  // strace setup calls replace the reconstructed ones when present
  const hasTraceCalls = records.some((r) =>
    ['prereg', 'createWindow', 'removeWindow', 'notify', 'dmaError', 'regFailed', 'createFailed'].includes(
      r.kind,
    ),
  );
  const setupByStrace = strace.filter((r) => {
    const op = straceOp(r);
    return (
      op !== null &&
      /^VFIO_(GET_API_VERSION|CHECK_EXTENSION|SET_IOMMU|GROUP_GET_STATUS|GROUP_SET_CONTAINER|IOMMU_SPAPR_TCE_GET_INFO|IOMMU_GET_INFO|IOMMU_ENABLE)$/.test(
        op,
      )
    );
  });
  const straceHas = (op: string) => setupByStrace.some((r) => straceOp(r) === op);

  const setup: string[] = [];
  for (const m of mmaps) {
    const name = `RAM${mmaps.indexOf(m)}`;
    setup.push(
      `const ${name} = qemu.mmap({ size: ${hx(m.len)}, at: ${hx(m.start)} }); // ${m.at ? where(m.at) + ': ' : ''}${m.why}`,
    );
  }
  if (assumedRam)
    setup.push(
      `const RAM0 = qemu.mmap({ size: ${hx(assumedRam.size)} }); // ${where(assumedRam.at!)}: ${assumedRam.why} (address not recorded)`,
    );
  setup.push(`const C = qemu.openContainer(); // open("/dev/vfio/vfio")`);
  setup.push(`const g = qemu.openGroup(G); // open("/dev/vfio/<group>")`);
  if (kvmTables.length > 0)
    setup.push(`const vm = qemu.openKvm(); // KVM_CREATE_VM: QEMU's VM (spapr_iommu_new_table fd ≥ 0 below)`);
  setup.push(`lockedVmAfter('setup', null);`);

  const straceLines: string[] = [];
  const straceCall = (r: StraceRec, op: string, code: string) => {
    calls++;
    checks++;
    straceLines.push(
      `call(${str(where(r.at))}, ${str(`${op} = ${r.ret}${r.errno ? ' ' + r.errno : ''} (strace)`)}, ${expected(r.errno ? -(errnoNumber(r.errno) ?? 1) : r.ret)}, () => ${code});`,
    );
  };
  for (const r of setupByStrace) {
    const op = straceOp(r)!;
    const argNum = /^(0x[0-9a-f]+|\d+)$/.test(r.arg)
      ? Number(r.arg)
      : /v2/.test(r.arg)
        ? 7
        : /SPAPR/.test(r.arg)
          ? 2
          : NaN;
    if (op === 'VFIO_GET_API_VERSION') straceCall(r, op, 'C.getApiVersion()');
    else if (op === 'VFIO_CHECK_EXTENSION' && !Number.isNaN(argNum))
      straceCall(r, `${op}(${argNum})`, `C.checkExtension(${argNum})`);
    else if (op === 'VFIO_SET_IOMMU' && !Number.isNaN(argNum))
      straceCall(r, `${op}(${argNum})`, `C.setIommu(${argNum})`);
    else if (op === 'VFIO_GROUP_GET_STATUS') straceCall(r, op, 'g.getStatus()');
    else if (op === 'VFIO_GROUP_SET_CONTAINER') straceCall(r, op, 'g.setContainer(C)');
    else if (op === 'VFIO_IOMMU_SPAPR_TCE_GET_INFO' || op === 'VFIO_IOMMU_GET_INFO')
      straceCall(r, op, 'C.getInfo()');
    else if (op === 'VFIO_IOMMU_ENABLE') straceCall(r, op, 'C.enable()');
    consumed.add(r);
  }
  if (!straceHas('VFIO_GROUP_SET_CONTAINER')) {
    setup.push(
      `call('reconstructed', 'VFIO_GROUP_SET_CONTAINER: QEMU attaches the group first (not traced; QEMU stops if it fails, and the capture goes on)', 0, () => g.setContainer(C));`,
    );
    checks++;
  }
  if (!straceHas('VFIO_SET_IOMMU')) {
    setup.push(
      `call('reconstructed', ${str(`VFIO_SET_IOMMU(${v2 ? 'VFIO_SPAPR_TCE_v2_IOMMU' : 'VFIO_SPAPR_TCE_IOMMU'}): not traced; the ${v2 ? 'v2' : 'v1'} backend is ${facts.find((f) => f.name === 'IOMMU backend')!.how}`)}, 0, () => C.setIommu(${v2 ? 'VFIO_SPAPR_TCE_v2_IOMMU' : 'VFIO_SPAPR_TCE_IOMMU'}));`,
    );
    checks++;
  }
  if (!v2 && !straceHas('VFIO_IOMMU_ENABLE')) {
    setup.push(
      `call('reconstructed', 'VFIO_IOMMU_ENABLE: QEMU enables every v1 container (not traced; it stops if this fails)', 0, () => C.enable());`,
    );
    checks++;
  }

  // strace-only captures: the remaining ioctls become calls with assumed arguments where QEMU's are known
  let straceOnlyMaps = 0;
  let straceRegisters = 0;
  const straceRest = hasTraceCalls ? [] : strace.filter((r) => !consumed.has(r));
  if (hasTraceCalls) {
    const covered = strace.filter((r) => !consumed.has(r)).length;
    if (covered) skipped.set('strace ioctl (the QEMU trace carries its arguments)', covered);
  }

  /** the scenario's recorded calls: statements, or MAP/UNMAP rows that runs of 8 or more turn into a table */
  const body: (string | DmaRow)[] = [];
  let unaddressed = 0;
  const pending = records.filter((r) => r.kind !== 'lockedVm' && r.kind !== 'strace');
  for (let i = 0; i < pending.length; i++) {
    const r = pending[i]!;
    if (consumed.has(r)) continue;
    const at = str(where(r.at));
    switch (r.kind) {
      case 'prereg': {
        const method = r.op === 'register' ? 'registerMemory' : 'unregisterMemory';
        // QEMU's "Memory registering failed" right after a failed REGISTER is the same event
        if (r.op === 'register' && r.ret < 0) {
          const echo = pending.slice(i + 1, i + 4).find((x) => x.kind === 'regFailed');
          if (echo) consumed.add(echo);
        }
        body.push(`// ${r.text}`);
        body.push(
          `call(${at}, ${str(`${r.op === 'register' ? 'REGISTER' : 'UNREGISTER'}_MEMORY(va ${hx(r.va).slice(0, -1)}, size ${hx(r.size).slice(0, -1)}) = ${r.ret}${r.ret < 0 ? ' ' + (errnoName(r.ret) ?? '') : ''}`)}, ${expected(r.ret)}, () => C.${method}({ vaddr: ${hx(r.va)}, size: ${hx(r.size)} }));`,
        );
        calls++;
        checks++;
        break;
      }
      case 'regFailed': {
        const range = mmaps[0] ?? assumedRam;
        if (!range) {
          gaps.push(
            `${where(r.at)}: "Memory registering failed" but no capture records guest RAM: not replayed`,
          );
          break;
        }
        const name = mmaps.length ? 'RAM0' : 'RAM0';
        const size = mmaps[0]?.len ?? assumedRam!.size;
        body.push(`// ${r.text}`);
        body.push(
          `// QEMU traces no REGISTER here: the call is reconstructed from guest RAM (its range is assumed: all of RAM0)`,
        );
        body.push(
          `call(${at}, ${str('REGISTER_MEMORY(guest RAM) failed: "Memory registering failed" (errno not recorded)')}, 'failed', () => C.registerMemory({ vaddr: ${name}, size: ${hx(size)} }));`,
        );
        calls++;
        checks++;
        break;
      }
      case 'createWindow': {
        const guess = levelGuess(r.pageShift, r.windowSize);
        body.push(`// ${r.text}`);
        for (let l = guess; l < r.levels; l++) {
          body.push(
            `call(${at}, ${str(`reconstructed: QEMU's earlier TCE_CREATE try with ${l} level(s) failed (failed tries are not traced)`)}, 'failed', () => C.createWindow({ pageShift: ${r.pageShift}, windowSize: ${hx(r.windowSize)}, levels: ${l} }));`,
          );
          checks++;
        }
        body.push(
          `const w${windows.length} = call(${at}, ${str(`TCE_CREATE(page shift ${r.pageShift}, ${bytesText(r.windowSize)}, ${r.levels} level${r.levels > 1 ? 's' : ''}) = 0`)}, 0, () => C.createWindow({ pageShift: ${r.pageShift}, windowSize: ${hx(r.windowSize)}, levels: ${r.levels} }));`,
        );
        body.push(
          `check(${at}, ${str(`TCE_CREATE returned start_addr ${hx(r.offset).slice(0, -1)}`)}, w${windows.length}?.out?.startAddr, ${hx(r.offset)});`,
        );
        windows.push({ start: r.offset, pageShift: r.pageShift, size: r.windowSize });
        calls++;
        checks += 2;
        break;
      }
      case 'removeWindow':
        body.push(`// ${r.text}`);
        body.push(
          `call(${at}, ${str(`TCE_REMOVE(${hx(r.offset).slice(0, -1)}) = 0`)}, 0, () => C.removeWindow({ startAddr: ${hx(r.offset)} }));`,
        );
        calls++;
        checks++;
        break;
      case 'removeFailed':
        body.push(`// ${r.text}`);
        body.push(
          `call(${at}, ${str(`TCE_REMOVE(${hx(r.offset).slice(0, -1)}) failed (errno not recorded)`)}, 'failed', () => C.removeWindow({ startAddr: ${hx(r.offset)} }));`,
        );
        calls++;
        checks++;
        break;
      case 'createFailed': {
        const w = assumedWindow(records.indexOf(r));
        const levels = levelGuess(w.pageShift, w.size);
        body.push(`// ${r.text}`);
        body.push(`// QEMU does not trace the request: the window is assumed to be ${w.why}`);
        body.push(
          `call(${at}, ${str(`TCE_CREATE(page shift ${w.pageShift}, ${bytesText(w.size)}) = ${r.ret}${r.ret < 0 ? ' ' + (errnoName(r.ret) ?? '') : ''} ("Failed to create a window"; geometry assumed)`)}, ${expected(r.ret)}, () => C.createWindow({ pageShift: ${w.pageShift}, windowSize: ${hx(w.size)}, levels: ${levels} }));`,
        );
        calls++;
        checks++;
        break;
      }
      case 'notify': {
        // the hcall line (and QEMU's error line, if the MAP failed) follow the notify of the same thread
        let put: Extract<Rec, { kind: 'put' }> | undefined;
        let err: Extract<Rec, { kind: 'dmaError' }> | undefined;
        for (let j = i + 1; j < pending.length && j < i + 12; j++) {
          const x = pending[j]!;
          if (consumed.has(x)) continue;
          if (x.tid !== undefined && r.tid !== undefined && x.tid !== r.tid) continue;
          if (x.kind === 'dmaError' && x.iova === r.start && !err) {
            err = x;
            consumed.add(x);
            continue;
          }
          if (x.kind === 'put') {
            if (x.ioba === r.start) {
              put = x;
              consumed.add(x);
            } else if (r.tid === undefined)
              problems.push({
                at: x.at,
                message: `interleaved threads: the hcall line for iova ${hx(r.start).slice(0, -1)} (${where(r.at)}) is not the next one (ioba ${hx(x.ioba).slice(0, -1)} here), and the lines carry no thread id`,
              });
            break;
          }
          if (x.kind === 'notify') break;
        }
        const size = r.end - r.start + 1n;
        const iova = hx(r.start);
        if (r.op === 'UNMAP') {
          body.push({
            at: r.at,
            iova: r.start,
            size,
            vaddr: '0n',
            flags: '0',
            area: -1,
            off: 0n,
            expected: expected(err ? err.ret : 0),
            text: [
              `// ${r.text}${err ? `\n// ${err.text}` : ''}`,
              `call(${at}, ${str(`UNMAP_DMA(iova ${hx(r.start).slice(0, -1)}, size ${hx(size).slice(0, -1)}) = ${err ? err.ret : 0}${err ? '' : ' (no vfio_container_dma_unmap error line follows)'}`)}, ${expected(err ? err.ret : 0)}, () => C.unmapDma({ iova: ${iova}, size: ${hx(size)} }));`,
            ],
          });
          calls++;
          checks++;
          break;
        }
        let vaddr: string | undefined;
        let area = -1;
        let off = 0n;
        let flags = 'RW';
        let how = '';
        if (err?.vaddr !== undefined) {
          vaddr = hx(err.vaddr);
          how = 'vaddr from the error line';
          area = -1;
          off = err.vaddr;
        }
        if (put) {
          const perm = put.tce & 3n;
          flags = perm === 1n ? 'READ' : 'RW';
          const win = windows.find((w) => r.start >= w.start && r.start < w.start + w.size);
          const pageBytes = 1n << BigInt(win?.pageShift ?? 12);
          const gpa = put.tce & ~(pageBytes - 1n) & ~3n;
          const slot = ramFor(gpa);
          if (vaddr === undefined && slot) {
            const ram = mmaps[ranges.indexOf(slot)]!;
            vaddr = `RAM${ranges.indexOf(slot)} + ${hx(gpa - slot.gpa! + slot.ua - ram.start)}`;
            area = ranges.indexOf(slot);
            off = gpa - slot.gpa! + slot.ua - ram.start;
            how = `gpa ${hx(gpa).slice(0, -1)} from the TCE, through ${slot.why}`;
          } else if (vaddr === undefined) how = `gpa ${hx(gpa).slice(0, -1)} is in no recorded memslot`;
        }
        if (vaddr === undefined) {
          if (++unaddressed <= 3)
            gaps.push(
              `${where(r.at)}: MAP_DMA at iova ${hx(r.start).slice(0, -1)} not replayed: ${put ? how : 'the guest TCE is not in the capture (no spapr_iommu_put line for it: H_PUT_TCE_INDIRECT / H_STUFF_TCE, or the capture ends)'}`,
            );
          skip('MAP notify without a host address');
          break;
        }
        body.push({
          at: r.at,
          iova: r.start,
          size,
          vaddr,
          flags,
          area,
          off,
          expected: expected(err ? err.ret : 0),
          text: [
            `// ${r.text}${put ? `\n// ${put.text}` : ''}${err ? `\n// ${err.text}` : ''}`,
            `call(${at}, ${str(`MAP_DMA(iova ${hx(r.start).slice(0, -1)}, size ${hx(size).slice(0, -1)}, ${flags}) = ${err ? err.ret : 0}${err ? '' : ' (no vfio_container_dma_map error line follows)'}; ${how}`)}, ${expected(err ? err.ret : 0)}, () => C.mapDma({ vaddr: ${vaddr}, iova: ${iova}, size: ${hx(size)}, flags: ${flags} }));`,
          ],
        });
        calls++;
        checks++;
        break;
      }
      case 'dmaError': {
        // an error line with no notify before it: the line itself carries iova, size (and vaddr for MAP)
        body.push(`// ${r.text}`);
        if (r.op === 'map' && r.vaddr !== undefined)
          body.push(
            `call(${at}, ${str(`MAP_DMA(iova ${hx(r.iova).slice(0, -1)}, size ${hx(r.size).slice(0, -1)}) = ${r.ret} (flags not recorded: READ|WRITE assumed)`)}, ${expected(r.ret)}, () => C.mapDma({ vaddr: ${hx(r.vaddr)}, iova: ${hx(r.iova)}, size: ${hx(r.size)}, flags: RW }));`,
          );
        else
          body.push(
            `call(${at}, ${str(`UNMAP_DMA(iova ${hx(r.iova).slice(0, -1)}, size ${hx(r.size).slice(0, -1)}) = ${r.ret}`)}, ${expected(r.ret)}, () => C.unmapDma({ iova: ${hx(r.iova)}, size: ${hx(r.size)} }));`,
          );
        calls++;
        checks++;
        break;
      }
      case 'windowMismatch':
        body.push(
          `// ${r.text}\n// (QEMU wanted the window at ${hx(r.got).slice(0, -1)}; the TCE_CREATE check above asserts where the host put it)`,
        );
        break;
      case 'newTable': {
        if (r.fd < 0) break; // a table in QEMU's memory: nothing reaches the kernel
        const ddw = pending
          .slice(i + 1)
          .find(
            (x): x is Extract<Rec, { kind: 'ddwCreate' }> => x.kind === 'ddwCreate' && x.liobn === r.liobn,
          );
        const shift = ddw ? ddw.pageSize.toString(2).length - 1 : 12;
        const offset = ddw ? ddw.start >> BigInt(shift) : 0n;
        const size = ddw ? ddw.requested >> BigInt(shift) : (1n << 30n) >> 12n;
        const why = ddw
          ? `geometry from ${where(ddw.at)} spapr_iommu_ddw_create`
          : "QEMU's default 32-bit window assumed: 1 GiB of 4 KiB TCEs at 0";
        const v = `kvmTable${kvmTablesMade++}`; // fds are reused: names are not
        kvmTableVars.set(r.fd, v);
        body.push(`// ${r.text}`);
        body.push(
          `const ${v} = call(${at}, ${str(`KVM_CREATE_SPAPR_TCE_64(liobn 0x${r.liobn.toString(16)}, page shift ${shift}, offset ${hx(offset).slice(0, -1)}, ${size} entries) = 0 (fd=${r.fd}: KVM made the table; ${why})`)}, 0, () => vm.createSpaprTce64({ liobn: 0x${r.liobn.toString(16)}, pageShift: ${shift}, offset: ${hx(offset)}, size: ${hx(size)} }));`,
        );
        calls++;
        checks++;
        break;
      }
      case 'groupAttach': {
        const v = kvmTableVars.get(r.tableFd);
        if (!v) {
          gaps.push(
            `${where(r.at)}: group attach to liobn fd ${r.tableFd}, a table not in the capture: not replayed`,
          );
          break;
        }
        body.push(`// ${r.text}`);
        body.push(
          `call(${at}, ${str('KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE = 0 (vfio_spapr_group_attach)')}, 0, () => vm.attachVfioGroup(g, ${v}!.out!.table));`,
        );
        calls++;
        checks++;
        break;
      }
      case 'kvmTableFailed':
        gaps.push(
          `${where(r.at)}: KVM could not create the TCE table for LIOBN 0x${r.liobn.toString(16)} (KVM is not replayed)`,
        );
        break;
      case 'put':
        skip('hcall line with no VFIO call (QEMU-only table, or H_GET_TCE)');
        break;
      case 'pageSizeUnsupported':
        gaps.push(
          `${where(r.at)}: QEMU found no host IOMMU page size for the guest's TCE size (nothing reached the kernel)`,
        );
        break;
      default:
        break; // facts: memslot, ddwQuery, ddwCreate, newTable, groupAttach, device, memlockLimit, guestRam
    }
  }

  if (unaddressed > 3)
    gaps.push(
      `… and ${unaddressed - 3} more MAP_DMA calls whose guest TCE is not in the capture (not replayed)`,
    );

  // strace-only: the ioctl skeleton, arguments reconstructed where QEMU's are fixed
  for (const r of straceRest) {
    const op = straceOp(r);
    const at = str(where(r.at));
    const res = r.errno ? -(errnoNumber(r.errno) ?? 1) : r.ret;
    const exp = r.errno && errnoNumber(r.errno) === undefined ? "'failed'" : expected(res);
    if (op === 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY' || op === 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY') {
      const m = mmaps[straceRegisters % Math.max(1, mmaps.length)];
      const sz = m ? hx(m.len) : assumedRam ? hx(assumedRam.size) : undefined;
      if (op.endsWith('_REGISTER_MEMORY') && !op.includes('UN')) straceRegisters++;
      if (!sz) {
        gaps.push(
          `${where(r.at)}: ${op} (strace) not replayed: its range is not recorded and no guest RAM is`,
        );
        continue;
      }
      body.push(`// ${r.text}`);
      body.push(
        `call(${at}, ${str(`${op.replace('VFIO_IOMMU_SPAPR_', '')} = ${r.ret}${r.errno ? ' ' + r.errno : ''} (strace; range assumed: guest RAM)`)}, ${exp}, () => C.${op.includes('UNREGISTER') ? 'unregisterMemory' : 'registerMemory'}({ vaddr: RAM${m ? mmaps.indexOf(m) : 0}, size: ${sz} }));`,
      );
      calls++;
      checks++;
    } else if (op === 'VFIO_IOMMU_SPAPR_TCE_CREATE') {
      const w = assumedWindow(records.indexOf(r));
      body.push(`// ${r.text}`);
      body.push(
        `const w${windows.length} = call(${at}, ${str(`TCE_CREATE = ${r.ret}${r.errno ? ' ' + r.errno : ''} (strace; geometry assumed: ${w.why})`)}, ${exp}, () => C.createWindow({ pageShift: ${w.pageShift}, windowSize: ${hx(w.size)}, levels: ${levelGuess(w.pageShift, w.size)} }));`,
      );
      if (res === 0) windows.push({ start: -1n, pageShift: w.pageShift, size: w.size });
      calls++;
      checks++;
    } else if (op === 'VFIO_IOMMU_SPAPR_TCE_REMOVE') {
      const prev = windows.length ? `w${windows.length - 1}?.out?.startAddr ?? 0n` : '0n';
      body.push(`// ${r.text}`);
      body.push(
        `call(${at}, ${str(`TCE_REMOVE = ${r.ret}${r.errno ? ' ' + r.errno : ''} (strace; window assumed: the last one created, else the default at 0)`)}, ${exp}, () => C.removeWindow({ startAddr: ${prev} }));`,
      );
      if (windows.length) windows.pop();
      calls++;
      checks++;
    } else if (op === 'VFIO_IOMMU_MAP_DMA' || op === 'VFIO_IOMMU_UNMAP_DMA') {
      straceOnlyMaps++;
    } else skip(`strace ioctl ${op ?? r.names.join(' or ')} (not replayed)`);
  }
  if (straceOnlyMaps)
    gaps.push(
      `${straceOnlyMaps} MAP_DMA/UNMAP_DMA call(s) recorded by strace only are not replayed: strace does not decode their iova, size or vaddr (add QEMU's trace: vfio_iommu_map_notify, spapr_iommu_*put)`,
    );

  if (calls === 0 && queue.length === 0) return { scenario: null, problems, skipped, calls: 0, checks: 0 };

  // ---- the text ----
  const files = captures.map(
    (c) => `${c.file} (${[...c.forms].join(', ') || 'nothing recognised'}; ${c.lines} lines)`,
  );
  const w = (f: Fact) => `//   ${f.name.padEnd(17)} ${f.value}\n//   ${' '.repeat(17)} ${f.how}: ${f.why}`;
  const skippedText = [...skipped.entries()].filter(([k]) => k !== 'blank');
  const head = [
    `// Imported by \`dmawb import\` from what a POWER host recorded:`,
    ...files.map((f) => `//   ${f}`),
    `//`,
    `// It replays the recorded sequence on the emulated host and asserts every recorded result; each`,
    `// assertion's label starts with the capture file and line it came from. Run it:`,
    `//   dmawb run <this file>   exit 0: the emulated kernel reproduces every recorded result;`,
    `//                           exit 1: it does not — the log names the first capture line it disagrees`,
    `//                           with and the emulated kernel's why; the replay stops there.`,
    `//`,
    `// Host facts (recorded = a capture line says so; inferred = follows from capture lines; given = a flag;`,
    `// assumed = nothing records it, the default is used):`,
    ...facts.map(w),
    `//`,
    `// Gaps (what the captures do not carry, or could not be imported):`,
    ...(gaps.length || problems.length
      ? [...problems.map((p) => `//   - ${where(p.at)}: ${p.message}`), ...gaps.map((g) => `//   - ${g}`)]
      : ['//   - none found']),
    `//   - QEMU logs a failed MAP/UNMAP but not a successful one: a MAP with no error line after it is`,
    `//     asserted to succeed (give QEMU's stderr / the libvirt log together with the trace).`,
    `//`,
    `// Lines not used: ${skippedText.length ? skippedText.map(([k, v]) => `${v} ${k}`).join('; ') : 'none'}.`,
    `// Recorded calls replayed: ${calls}; recorded values asserted: ${checks} call results${queue.length ? ` and ${lvAssert ? 'up to ' : ''}${queue.length} locked_vm lines${lvAssert ? '' : ' (logged, not asserted)'}` : ''}.`,
    '',
  ];

  const spawnOpts =
    memlock === 'unlimited'
      ? `memlock: ${hx(RLIM_INFINITY)} /* RLIM_INFINITY */`
      : `memlock: ${memlock}n${memlockAssumed ? ' /* assumed: not recorded */' : ''}`;
  const hostOpts = [
    kernel ? `kernel: '${kernel}'` : null,
    `pageSize: ${pageSize}`,
    `ramSize: ${hx(ram)}`,
  ].filter(Boolean);
  const lvTable = queue
    .map(
      (q) =>
        `  { at: ${str(where(q.at))}, delta: ${q.delta}n, after: ${q.after}n, limit: ${q.limit}n, exceeded: ${q.exceeded} }, // ${q.text}`,
    )
    .join('\n');

  const factLine = facts
    .filter((f) => ['kernel profile', 'RLIMIT_MEMLOCK', 'PAGE_SIZE', 'IOMMU backend'].includes(f.name))
    .map((f) => `${f.name} ${f.value} (${f.how})`)
    .join(', ');
  const code = `const host = createHost({ ${hostOpts.join(', ')} });
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const qemu = host.spawn({ name: 'qemu-system-ppc64', ${spawnOpts} });

// ---- replay machinery (the same in every import) -----------------------------------------------------
type Result = { ret: number; errno?: string; explain?: string; out?: any };
/** capture line of the first recorded value the emulated host did not reproduce ('' while none) */
let diverged = '';
let replayed = 0;
let notIssued = 0;
const MEMLOCK_ASSUMED = ${memlockAssumed};
const shown = (r: Result): string => (r.ret < 0 ? \`\${r.ret} \${r.errno}\` : String(r.ret));
const recordedText = (e: number | string): string =>
  e === 'failed' ? 'a failure (errno not recorded)' : typeof e === 'string' ? \`-\${errno[e as 'EPERM'] ?? '?'} \${e}\` : e === 0 ? '0 (success)' : String(e);
/** the host facts the replay runs with (the header says which were recorded and which assumed) */
const FACTS = ${str(factLine)};

/** the first divergence, told plainly; the replay stops after it */
function divergence(at: string, recorded: string, emulated: string, why: string): void {
  diverged = at;
  log(\`DIVERGENCE at \${at}: the host recorded \${recorded}; the emulated \${host.kernel} kernel gives \${emulated}\`);
  if (why) log(\`  why: \${why}\`);
  log(\`  host facts: \${FACTS}\`);
  if (MEMLOCK_ASSUMED && /memlock|RLIMIT|ENOMEM/i.test(why))
    log('  note: RLIMIT_MEMLOCK was not recorded (64 KiB assumed): import again with --memlock <bytes>');
}

/** a recorded call: expected is the recorded ret (0, a count), an errno name, or 'failed' (errno not recorded) */
function call(at: string, what: string, expected: number | string, issue: () => Result): Result | undefined {
  if (diverged) {
    notIssued++;
    return undefined;
  }
  const r = issue();
  replayed++;
  const label = \`\${at} \${what}\`;
  let ok: boolean;
  if (expected === 'failed') {
    ok = r.ret < 0;
    expectEq(ok ? 'failed' : shown(r), 'failed', label);
  } else if (typeof expected === 'string') {
    ok = r.errno === expected;
    expectErrno(r, expected, label);
  } else {
    ok = r.ret === expected;
    expectRet(r, expected, label);
  }
  if (!ok) divergence(at, recordedText(expected), shown(r) + (r.ret === 0 ? ' (success)' : ''), r.explain ?? '');
  else lockedVmAfter(at === 'reconstructed' ? \`the reconstructed \${what.split(':')[0]}\` : at, r);
  return r;
}

/** a recorded value that is not a call result (a window's start address) */
function check(at: string, what: string, actual: unknown, expected: unknown): void {
  if (diverged) return;
  expectEq(actual, expected, \`\${at} \${what}\`);
  if (actual !== expected) divergence(at, String(expected), String(actual), 'see the call above');
}

// The QEMU process's recorded locked_vm changes (kernel accounting lines), in bytes: after each call the
// emulated change is matched against the next recorded line(s) and the total after it compared.
const LOCKED_VM: { at: string; delta: bigint; after: bigint; limit: bigint; exceeded: boolean }[] = [
${lvTable}
];
const LOCKED_VM_ASSERTED = ${lvAssert};
let lvNext = 0;
let lvSeen = 0n;
const signed = (v: bigint): string => (v < 0n ? String(v) : \`+\${v}\`);

function lockedVmAfter(at: string, r: Result | null): void {
  if (LOCKED_VM.length === 0 || diverged) return;
  const now = qemu.lockedVmBytes;
  const change = now - lvSeen;
  lvSeen = now;
  if (change !== 0n) {
    let sum = 0n;
    let k = lvNext;
    while (k < LOCKED_VM.length && !LOCKED_VM[k]!.exceeded && sum !== change && k - lvNext < 4) sum += LOCKED_VM[k++]!.delta;
    const next = LOCKED_VM[lvNext];
    if (sum === change) {
      const last = LOCKED_VM[k - 1]!;
      lvNext = k;
      const label = \`\${last.at} locked_vm \${signed(change)} -> \${last.after} bytes (after \${at})\`;
      if (!LOCKED_VM_ASSERTED) log(\`\${label}: emulated \${now}\`);
      else {
        expectEq(now, last.after, label);
        if (now !== last.after) divergence(last.at, \`locked_vm \${last.after} bytes\`, \`\${now} bytes\`, r?.explain ?? '');
      }
    } else if (!LOCKED_VM_ASSERTED) log(\`\${at}: emulated locked_vm \${signed(change)} -> \${now} bytes (no recorded line matches)\`);
    else {
      const recorded = next
        ? \`\${next.exceeded ? 'a refused charge of' : 'a locked_vm change of'} \${signed(next.delta)} bytes (total \${next.after}, limit \${next.limit}) at \${next.at}\`
        : 'no further locked_vm change';
      expectEq(\`\${signed(change)} bytes\`, next && !next.exceeded ? \`\${signed(next.delta)} bytes\` : 'no change', \`\${next?.at ?? at} locked_vm change at \${at}\`);
      divergence(next?.at ?? at, recorded, \`a change of \${signed(change)} bytes at \${at} (locked_vm \${now})\`, r?.explain ?? '');
      return;
    }
  }
  // a charge the host refused ("- exceeded") that the emulated call refused too
  const x = LOCKED_VM[lvNext];
  if (r && r.ret < 0 && x && x.exceeded) {
    lvNext++;
    const label = \`\${x.at} charge of \${signed(x.delta)} refused at locked_vm \${x.after} (limit \${x.limit})\`;
    if (LOCKED_VM_ASSERTED) expectEq(now, x.after, label);
    else log(\`\${label}: emulated locked_vm \${now}\`);
  }
}

/** after the last recorded call: recorded locked_vm lines left over, and the verdict */
function finish(): void {
  const x = LOCKED_VM[lvNext];
  if (!diverged && x && LOCKED_VM_ASSERTED) {
    expectEq('no further change', \`\${signed(x.delta)} bytes\`, \`\${x.at} locked_vm change not made by the replay\`);
    divergence(x.at, \`a locked_vm change of \${signed(x.delta)} bytes (total \${x.after})\`, 'no further change: the replay ended', '');
  }
  if (diverged) log(\`replay stopped at the first divergence (\${diverged}); \${notIssued} later recorded call(s) not issued\`);
  else log(\`the emulated \${host.kernel} host reproduced all \${replayed} recorded call results\`);
}

// ---- what QEMU always does before the traced calls (reconstructed) -------------------------------------
${setup.join('\n')}
${straceLines.join('\n')}

// ---- the recorded calls, in capture order ------------------------------------------------------------
${renderBody(body)}

finish();
`;
  return { scenario: head.join('\n') + code, problems, skipped, calls, checks };
}

/** a MAP_DMA / UNMAP_DMA from vfio_iommu_map_notify (flags '0': UNMAP) */
interface DmaRow {
  at: At;
  iova: bigint;
  size: bigint;
  /** the host address expression ('0n' for UNMAP) */
  vaddr: string;
  /** the same as RAM<area> + off (area -1: off is the address) */
  area: number;
  off: bigint;
  flags: string;
  expected: string;
  /** the statement form, for short runs */
  text: string[];
}

/**
 * Statements as they are; a run of 8 or more MAP/UNMAP rows of one capture file becomes one table replayed
 * by replayDma(), about 50 bytes a call instead of 450, so a busy guest's trace still makes a scenario
 * the runner accepts.
 */
function renderBody(body: readonly (string | DmaRow)[]): string {
  const out: string[] = [];
  let usesTable = false;
  let usesPacked = false;
  for (let i = 0; i < body.length;) {
    const item = body[i]!;
    if (typeof item === 'string') {
      out.push(item);
      i++;
      continue;
    }
    let j = i;
    while (j < body.length && typeof body[j] !== 'string' && (body[j] as DmaRow).at.file === item.at.file)
      j++;
    const run = body.slice(i, j) as DmaRow[];
    const packed = run.length >= PACK_MIN ? packRows(run.map(packRow)) : null;
    if (run.length < 8) out.push(...run.flatMap((r) => r.text));
    else if (packed) {
      usesPacked = true;
      // loops, not spreads: a run may hold a million rows (more than a call's arguments may be)
      let areas = -1;
      for (const r of run) if (r.area > areas) areas = r.area;
      out.push(
        `// ${run.length} recorded MAP_DMA / UNMAP_DMA calls, ${item.at.file} lines ${item.at.line}–${run.at(-1)!.at.line}, packed`,
        `// (dmawb import's compact form for long runs, decoded by replayDmaPacked below): each a`,
        `// vfio_iommu_map_notify line (iova, size) with the guest's hcall line after it (the TCE: host address`,
        `// through the memslot, READ or READ|WRITE); the recorded ret is QEMU's error line's, else 0 (none follows).`,
        `replayDmaPacked(${str(item.at.file)}, ${hx(packed.unit)}, [0n${Array.from({ length: areas + 1 }, (_, k) => `, RAM${k}`).join('')}], [${packed.results.join(', ')}], [`,
      );
      for (const c of chunks(packed.data, 100)) out.push(`  ${str(c)},`);
      out.push(`].join(''));`);
    } else {
      usesTable = true;
      out.push(
        `// ${run.length} recorded MAP_DMA / UNMAP_DMA calls, ${item.at.file} lines ${item.at.line}–${run.at(-1)!.at.line}: each a`,
        `// vfio_iommu_map_notify line (iova, size) with the guest's hcall line after it (the TCE: host address`,
        `// through the memslot, READ or READ|WRITE); the recorded ret is QEMU's error line's, else 0 (none follows).`,
        `// [capture line, iova, size, host address (UNMAP: 0n), flags (UNMAP: 0), recorded ret]`,
        `replayDma(${str(item.at.file)}, [`,
      );
      for (const r of run)
        out.push(`  [${r.at.line}, ${hx(r.iova)}, ${hx(r.size)}, ${r.vaddr}, ${r.flags}, ${r.expected}],`);
      out.push(`]);`);
    }
    i = j;
  }
  if (usesTable)
    out.push(
      '',
      `/** recorded MAP_DMA / UNMAP_DMA rows, issued in order like every other recorded call */`,
      `function replayDma(file: string, rows: [number, bigint, bigint, bigint, number, number | string][]): void {`,
      `  for (const [line, iova, size, vaddr, flags, ret] of rows) {`,
      `    const span = \`iova 0x\${iova.toString(16)}, size 0x\${size.toString(16)}\`;`,
      `    if (flags === 0) call(\`\${file}:\${line}\`, \`UNMAP_DMA(\${span})\`, ret, () => C.unmapDma({ iova, size }));`,
      `    else call(\`\${file}:\${line}\`, \`MAP_DMA(\${span}, \${flags === READ ? 'READ' : 'RW'})\`, ret, () => C.mapDma({ vaddr, iova, size, flags }));`,
      `  }`,
      `}`,
    );
  if (usesPacked) out.push(REPLAY_PACKED);
  return out.join('\n');
}

/** runs of at least this many MAP/UNMAP rows are packed (packed.ts); shorter ones stay readable rows */
const PACK_MIN = 4096;

function packRow(r: DmaRow): PackRow {
  const flags = r.flags === '0' ? 0 : r.flags === 'READ' ? 1 : 3;
  return {
    line: r.at.line,
    iova: r.iova,
    size: r.size,
    flags,
    area: r.area,
    off: r.off,
    expected: r.expected,
  };
}

function chunks(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out.length ? out : [''];
}

function errnoNumber(name: string): number | undefined {
  const known: Record<string, number> = {
    EPERM: 1,
    ENOENT: 2,
    ESRCH: 3,
    EIO: 5,
    ENXIO: 6,
    EBADF: 9,
    ENOMEM: 12,
    EFAULT: 14,
    EBUSY: 16,
    EEXIST: 17,
    ENODEV: 19,
    EINVAL: 22,
    ENOTTY: 25,
    ENOSPC: 28,
    EBADFD: 77,
  };
  return known[name];
}
