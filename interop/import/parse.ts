/**
 * Capture lines → records (scenario-api.md §4.2; the formats are in research/capture-formats.md). Pure: no
 * Node, no DOM. Every record keeps the file and line it came from, so the scenario can name it.
 *
 * Line forms understood:
 * - QEMU trace, `log` backend: `TID@SEC.USEC:event args` (≤ 5.2 always, 6.0–10.0 with -msg timestamp=on),
 *   bare `event args`, `YYYY-MM-DDTHH:MM:SS.ffffffZ event args` (≥ 10.1) and the short-lived
 *   `…Z (TID) event args`; SystemTap's `PID@NS event args`; ftrace's `tracing_mark_write: event args`;
 *   `simpletrace.py` text (`event DELTA_US pid=N arg=0xVAL …`, signed arguments sign-extended to 64 bits).
 *   Hex arguments with or without `0x` (older hw/ppc trace-events print liobn without it).
 * - QEMU / libvirt error lines (error_report on stderr, in libvirt's domain log): vfio_container_dma_map /
 *   _unmap failures, "Memory registering failed", "Failed to create a window, ret = …", "Failed to remove
 *   window at …", "Host doesn't support DMA window at …", the KVM TCE table failures; libvirt's
 *   "Requested memory lock limit" debug line and the QEMU command line's `-m`.
 * - Kernel dynamic-debug locked_vm lines, with or without a dmesg (`[  123.456]`, `[Sat Dec  5 …]`) or
 *   journal (`Dec 05 12:00:00 host kernel: `, ISO short form) prefix: the driver's own
 *   `[PID] RLIMIT_MEMLOCK [HASH64|KVM ]±BYTES AFTER/LIMIT[ - exceeded]` (4.2 – 5.2; total after the change)
 *   and `__account_locked_vm: [PID] caller SYM ±BYTES BEFORE/LIMIT[ - exceeded]` (≥ 5.3; total before).
 * - `strace -y` ioctl lines (pid column, -tt timestamps, `<unfinished ...>` / `<... ioctl resumed>`),
 *   KVM_SET_USER_MEMORY_REGION (strace decodes it) and prlimit64/setrlimit of RLIMIT_MEMLOCK.
 */

/** where a record came from: the capture file as named on the command line, 1-based line */
export interface At {
  file: string;
  line: number;
}

interface Base {
  at: At;
  /** the line as read (trimmed), for the scenario's comments */
  text: string;
  /** thread / process id the line carries, if any (log TID, simpletrace pid, stap pid, strace pid) */
  tid?: number;
  /** absolute time in microseconds since the epoch, when the line carries one */
  time?: number;
}

export type Rec = Base &
  (
    | { kind: 'memslot'; slot: number; gpa: bigint; size: bigint; ua: bigint; ret: number }
    | { kind: 'prereg'; op: 'register' | 'unregister'; va: bigint; size: bigint; ret: number }
    | { kind: 'createWindow'; pageShift: number; levels: number; windowSize: bigint; offset: bigint }
    | { kind: 'removeWindow'; offset: bigint }
    | { kind: 'notify'; op: 'MAP' | 'UNMAP'; start: bigint; end: bigint }
    | { kind: 'put'; liobn: number; ioba: bigint; tce: bigint; ret: number }
    | { kind: 'dmaError'; op: 'map' | 'unmap'; iova: bigint; size: bigint; vaddr?: bigint; ret: number }
    | { kind: 'regFailed'; fatal: boolean }
    | { kind: 'createFailed'; ret: number }
    | { kind: 'removeFailed'; offset: bigint }
    | { kind: 'windowMismatch'; got: bigint; must: bigint }
    | { kind: 'pageSizeUnsupported' }
    | { kind: 'ddwQuery'; pgmask: number }
    | { kind: 'ddwCreate'; pageSize: bigint; requested: bigint; start: bigint; liobn: number }
    | { kind: 'newTable'; liobn: number; fd: number }
    | { kind: 'groupAttach'; groupFd: number; tableFd: number }
    | { kind: 'device'; name: string; group: number }
    | { kind: 'kvmTableFailed'; liobn: number }
    | {
        kind: 'lockedVm';
        pid: number;
        /** signed change in bytes */
        delta: bigint;
        /** mm->locked_vm in bytes after the line's change (unchanged when exceeded) */
        after: bigint;
        limit: bigint;
        exceeded: boolean;
        /** 'driver': the 4.2–5.2 private helpers; 'account_locked_vm': ≥ 5.3 */
        era: 'driver' | 'account_locked_vm';
        /** who charged, where the line says: HASH64 = pre-registration, KVM = a KVM TCE table */
        tag: 'vfio' | 'prereg' | 'kvm' | 'unknown';
      }
    | { kind: 'memlockLimit'; bytes: bigint | 'unlimited'; source: string }
    | { kind: 'guestRam'; bytes: bigint }
    | {
        kind: 'strace';
        pid?: number;
        fd: number;
        fdPath: string;
        /** the ioctl names strace printed ("A or B or C"), or a hex request number */
        names: string[];
        arg: string;
        ret: number;
        errno?: string;
      }
  );

export type RecKind = Rec['kind'];

/** a record without its position (distributes over the union) */
export type RecBody = Rec extends infer R ? (R extends Rec ? Omit<R, keyof Base> : never) : never;

export interface Problem {
  at: At;
  message: string;
}

export interface ParsedCapture {
  file: string;
  records: Rec[];
  /** line forms recognised, for the header ("QEMU log backend, TID@SEC.USEC form") */
  forms: Set<string>;
  /** lines not used, counted by kind */
  skipped: Map<string, number>;
  /** bad input: truncated, several runs, interleaved threads, unknown format */
  problems: Problem[];
  lines: number;
}

// ---- numbers ----

/** hex with or without 0x */
const hex = (s: string): bigint => BigInt(s.startsWith('0x') || s.startsWith('0X') ? s : `0x${s}`);
const H = '(?:0x)?[0-9a-fA-F]+';

/** simpletrace prints every integer argument as 64-bit hex; signed ones come out sign-extended */
function signed64(v: bigint): number {
  return Number(v >= 1n << 63n ? v - (1n << 64n) : v);
}

// ---- the trace events we use, with their argument syntax (QTE-VFIO, QTE-PPC, QTE-KVM) ----

type EventParser = (
  args: string,
  named: Map<string, bigint> | null,
  texts: Map<string, string>,
) => RecBody | null;

/** simpletrace gives `name=0xVAL` for every argument: read them by name */
const n = (m: Map<string, bigint>, k: string): bigint => {
  const v = m.get(k);
  if (v === undefined) throw new Error(`missing ${k}=`);
  return v;
};

const EVENTS: Record<string, EventParser> = {
  kvm_set_user_memory(a, s) {
    if (s)
      return {
        kind: 'memslot',
        slot: Number(s.get('slot') ?? 0n),
        gpa: n(s, 'gpa'),
        size: n(s, 'size'),
        ua: n(s, 'ua'),
        ret: signed64(s.get('ret') ?? 0n),
      };
    const m = new RegExp(
      `^(?:AddrSpace#\\d+ )?Slot#(\\d+) flags=${H} gpa=(${H}) size=(${H}) ua=(${H})(?: guest_memfd=-?\\d+ guest_memfd_offset=${H})? ret=(-?\\d+)$`,
    ).exec(a);
    return m
      ? {
          kind: 'memslot',
          slot: Number(m[1]),
          gpa: hex(m[2]!),
          size: hex(m[3]!),
          ua: hex(m[4]!),
          ret: Number(m[5]),
        }
      : null;
  },
  vfio_prereg_register: (a, s) => prereg('register', a, s),
  vfio_prereg_unregister: (a, s) => prereg('unregister', a, s),
  vfio_spapr_create_window(a, s) {
    if (s)
      return {
        kind: 'createWindow',
        pageShift: Number(n(s, 'ps')),
        levels: Number(n(s, 'levels')),
        windowSize: n(s, 'ws'),
        offset: n(s, 'off'),
      };
    const m = new RegExp(`^pageshift=(${H}) levels=(\\d+) winsize=(${H}) offset=(${H})$`).exec(a);
    return m
      ? {
          kind: 'createWindow',
          pageShift: Number(hex(m[1]!)),
          levels: Number(m[2]),
          windowSize: hex(m[3]!),
          offset: hex(m[4]!),
        }
      : null;
  },
  vfio_spapr_remove_window(a, s) {
    if (s) return { kind: 'removeWindow', offset: n(s, 'off') };
    const m = new RegExp(`^offset=(${H})$`).exec(a);
    return m ? { kind: 'removeWindow', offset: hex(m[1]!) } : null;
  },
  vfio_iommu_map_notify(a, s, t) {
    const op = t.get('op');
    if (s)
      return op === 'MAP' || op === 'UNMAP'
        ? { kind: 'notify', op, start: n(s, 'iova_start'), end: n(s, 'iova_end') }
        : null;
    const m = new RegExp(`^iommu (MAP|UNMAP) @ (${H}) - (${H})$`).exec(a);
    return m ? { kind: 'notify', op: m[1] as 'MAP' | 'UNMAP', start: hex(m[2]!), end: hex(m[3]!) } : null;
  },
  spapr_iommu_put: put,
  spapr_iommu_pci_put: put,
  spapr_iommu_new_table(a, s) {
    if (s) return { kind: 'newTable', liobn: Number(n(s, 'liobn')), fd: signed64(n(s, 'fd')) };
    const m = new RegExp(`^liobn=(${H}) table=\\S+ fd=(-?\\d+)$`).exec(a);
    return m ? { kind: 'newTable', liobn: Number(hex(m[1]!)), fd: Number(m[2]) } : null;
  },
  spapr_iommu_ddw_query(a, s) {
    if (s) return { kind: 'ddwQuery', pgmask: Number(n(s, 'pgmask')) };
    const m = new RegExp(
      `^buid=${H} addr=${H}, \\d+ windows available, max window size=${H}, mask=(${H})$`,
    ).exec(a);
    return m ? { kind: 'ddwQuery', pgmask: Number(hex(m[1]!)) } : null;
  },
  spapr_iommu_ddw_create(a, s) {
    if (s)
      return {
        kind: 'ddwCreate',
        pageSize: n(s, 'pg_size'),
        requested: n(s, 'req_size'),
        start: n(s, 'start'),
        liobn: Number(n(s, 'liobn')),
      };
    const m = new RegExp(
      `^buid=${H} addr=${H}, page size=(${H}), requested=(${H}), start addr=(${H}), liobn=(${H})$`,
    ).exec(a);
    return m
      ? {
          kind: 'ddwCreate',
          pageSize: hex(m[1]!),
          requested: hex(m[2]!),
          start: hex(m[3]!),
          liobn: Number(hex(m[4]!)),
        }
      : null;
  },
  vfio_spapr_group_attach(a, s) {
    if (s) return { kind: 'groupAttach', groupFd: Number(n(s, 'groupfd')), tableFd: Number(n(s, 'tablefd')) };
    const m = /^Attached groupfd (\d+) to liobn fd (\d+)$/.exec(a);
    return m ? { kind: 'groupAttach', groupFd: Number(m[1]), tableFd: Number(m[2]) } : null;
  },
  vfio_attach_device: device,
  vfio_realize: device,
};

function prereg(op: 'register' | 'unregister', a: string, s: Map<string, bigint> | null) {
  if (s)
    return { kind: 'prereg' as const, op, va: n(s, 'va'), size: n(s, 'size'), ret: signed64(n(s, 'ret')) };
  const m = new RegExp(`^va=(${H}) size=(${H}) ret=(-?\\d+)$`).exec(a);
  return m ? { kind: 'prereg' as const, op, va: hex(m[1]!), size: hex(m[2]!), ret: Number(m[3]) } : null;
}

function put(a: string, s: Map<string, bigint> | null) {
  if (s)
    return {
      kind: 'put' as const,
      liobn: Number(n(s, 'liobn')),
      ioba: n(s, 'ioba'),
      tce: n(s, 'tce'),
      ret: signed64(n(s, 'ret')),
    };
  const m = new RegExp(`^liobn=(${H}) ioba=(${H}) tce=(${H}) ret=(-?\\d+)$`).exec(a);
  return m
    ? {
        kind: 'put' as const,
        liobn: Number(hex(m[1]!)),
        ioba: hex(m[2]!),
        tce: hex(m[3]!),
        ret: Number(m[4]),
      }
    : null;
}

function device(a: string) {
  const m = /^\s*\((\S+)\) group (\d+)$/.exec(a);
  return m ? { kind: 'device' as const, name: m[1]!, group: Number(m[2]) } : null;
}

/**
 * Trace events of the sPAPR / VFIO / KVM path that carry nothing the replay needs (counted as skipped by
 * name, not as unrecognised): listener chatter, hcalls whose effect shows as notify lines, migration.
 */
const KNOWN_UNUSED =
  /^(vfio_|spapr_iommu_|spapr_pci_|kvm_|vfio_listener_|spapr_tce_|memory_region_|qemu_vfio_)/;

// ---- line prefixes ----

/** `TID@SEC.USEC:event args` (log ≤ 10.0), `PID@NS event args` (SystemTap) */
const LOG_TID = /^(\d+)@(\d+)\.(\d+):([a-z_][a-z0-9_]*)(?: (.*))?$/;
const STAP = /^(\d+)@(\d+) ([a-z_][a-z0-9_]*)(?: (.*))?$/;
/** `2025-07-21T18:43:28.089797Z event args` (log ≥ 10.1), optionally `(TID)` after the time */
const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (?:\((\d+)\) )?(.*)$/;
/** simpletrace.py: `event DELTA_US pid=N a=0x1 b=0x2` */
const SIMPLE = /^([a-z_][a-z0-9_]*) (\d+(?:\.\d+)?) pid=(\d+)((?: [a-z_][a-z0-9_]*=\S*)*)$/;
/** ftrace backend via trace_marker, as trace_pipe prints it */
const FTRACE = /^\s*\S+-(\d+)\s+\[\d+\].*?:\s+tracing_mark_write: ([a-z_][a-z0-9_]*)(?: (.*))?$/;
const BARE = /^([a-z_][a-z0-9_]*) (.*)$/;

/** dmesg `[ 8123.401122] ` or `dmesg -T` `[Sat Dec  5 12:00:13 2026] ` */
const DMESG = /^\[\s*\d+\.\d+\] |^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}\] /;
/** journalctl short / short-iso / short-precise: `Dec 05 12:00:13 host kernel: ` */
const JOURNAL =
  /^(?:[A-Z][a-z]{2} [ \d]\d [\d:]{8}(?:\.\d+)?|\d{4}-\d\d-\d\dT[\d:.]+(?:[+-]\d\d:?\d\d|Z)?) \S+ kernel: /;
const KERNEL_DRIVER = /^\[(\d+)\] RLIMIT_MEMLOCK (?:(HASH64|KVM) )?([+-])(\d+) (\d+)\/(\d+)( - exceeded)?$/;
const KERNEL_ML = /^(?:__account_locked_vm: )?\[(\d+)\] caller (.+?) ([+-])(\d+) (\d+)\/(\d+)( - exceeded)?$/;

const STRACE =
  /^(?:(?:\[pid\s+)?(\d+)\]?\s+)?(?:\d\d:\d\d:\d\d(?:\.\d+)?\s+|\d+\.\d+\s+)?(ioctl|prlimit64|setrlimit)\((.*)$/;
const STRACE_RESUMED = /^(?:(?:\[pid\s+)?(\d+)\]?\s+)?(?:[\d:.]+\s+)?<\.\.\. (\w+) resumed>(.*)$/;

/** Reads one capture file's text. Never throws: what cannot be read becomes a problem or a skip. */
export function parseCapture(file: string, text: string): ParsedCapture {
  const out: ParsedCapture = {
    file,
    records: [],
    forms: new Set(),
    skipped: new Map(),
    problems: [],
    lines: 0,
  };
  const skip = (kind: string) => out.skipped.set(kind, (out.skipped.get(kind) ?? 0) + 1);
  const problem = (line: number, message: string) => out.problems.push({ at: { file, line }, message });

  if (text.includes('\0') || /^\uFFFD|\xb1\x29/.test(text.slice(0, 64))) {
    const simple = text.startsWith('\xff\xff\xff\xff\xff\xff\xff\xff') || text.includes('\uFFFD');
    problem(
      1,
      simple
        ? 'a binary file, not text: if this is a simpletrace file (trace-<pid>), import the output of ' +
            "QEMU's scripts/simpletrace.py trace-events-all <file> instead"
        : 'a binary file, not text: not a capture format dmawb import reads',
    );
    return out;
  }

  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  out.lines = lines.length;
  let lastTime: number | undefined;
  let recognised = 0;
  let firstUnrecognised: number | undefined;
  /** strace calls left `<unfinished ...>`, by pid */
  const unfinished = new Map<number, { line: number; head: string }>();
  /** simpletrace / stap pids seen: a second one means a second process */
  let runPid: number | undefined;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/\r$/, '');
    const line = raw.trim();
    const last = i === lines.length - 1 && !endsWithNewline;
    if (line === '') {
      skip('blank');
      continue;
    }
    if (line.startsWith('#')) {
      skip('comment');
      continue;
    }
    const at = { file, line: lineNo };
    const add = (r: RecBody, extra: Partial<Base> = {}) => {
      out.records.push({ at, text: line, ...extra, ...r } as Rec);
      recognised++;
    };

    // -- kernel accounting lines (optionally behind a dmesg or journal prefix) --
    const kline = line.replace(JOURNAL, '').replace(DMESG, '');
    let m = KERNEL_DRIVER.exec(kline);
    if (m) {
      out.forms.add(`kernel locked_vm lines (RLIMIT_MEMLOCK, 4.2–5.2 driver helpers)`);
      const delta = (m[3] === '-' ? -1n : 1n) * BigInt(m[4]!);
      add({
        kind: 'lockedVm',
        pid: Number(m[1]),
        delta,
        after: BigInt(m[5]!),
        limit: BigInt(m[6]!),
        exceeded: m[7] !== undefined,
        era: 'driver',
        tag: m[2] === 'HASH64' ? 'prereg' : m[2] === 'KVM' ? 'kvm' : 'vfio',
      });
      continue;
    }
    m = KERNEL_ML.exec(kline);
    if (m) {
      out.forms.add(`kernel locked_vm lines (__account_locked_vm, ≥ 5.3)`);
      const delta = (m[3] === '-' ? -1n : 1n) * BigInt(m[4]!);
      const exceeded = m[7] !== undefined;
      const before = BigInt(m[5]!);
      add({
        kind: 'lockedVm',
        pid: Number(m[1]),
        delta,
        after: exceeded ? before : before + delta, // ≥ 5.3 prints the total before the change
        limit: BigInt(m[6]!),
        exceeded,
        era: 'account_locked_vm',
        tag: 'unknown', // the %ps caller depends on inlining: not keyed on (capture-formats.md §1.5)
      });
      continue;
    }
    if (kline !== line) {
      skip('kernel line (not locked_vm accounting)');
      continue;
    }

    // -- strace --
    const sm = STRACE.exec(line) ?? null;
    const rm = sm ? null : STRACE_RESUMED.exec(line);
    if (sm || rm) {
      out.forms.add('strace -y');
      const pid = (sm ?? rm)![1] !== undefined ? Number((sm ?? rm)![1]) : 0;
      let body: string;
      let call: string;
      if (sm) {
        call = sm[2]!;
        body = sm[3]!;
        if (/<unfinished \.\.\.>$/.test(body)) {
          unfinished.set(pid, { line: lineNo, head: body.replace(/\s*<unfinished \.\.\.>$/, '') });
          recognised++;
          continue;
        }
      } else {
        call = rm![2]!;
        const u = unfinished.get(pid);
        if (!u) {
          problem(lineNo, `'<... ${call} resumed>' without its start line (the capture begins mid-call)`);
          skip('strace (resumed without start)');
          continue;
        }
        unfinished.delete(pid);
        body = u.head + rm![3]!;
        // strace split the call because another thread's lines came between its halves: say so once
        if (!out.forms.has('strace (interleaved threads)')) {
          out.forms.add('strace (interleaved threads)');
          problem(
            u.line,
            `interleaved threads: this ioctl is split by strace ('<unfinished ...>' here, resumed at line ${lineNo}); joined by pid ${pid}`,
          );
        }
      }
      const rec = straceCall(call, body, pid);
      if (rec === 'truncated' || (rec === null && last)) {
        problem(lineNo, `truncated line: the capture ends in the middle of '${line.slice(0, 60)}'`);
        skip('truncated');
      } else if (rec) add(rec, pid ? { tid: pid } : {});
      else skip(`strace ${call} (not used)`);
      continue;
    }

    // -- QEMU trace lines, every form --
    let tid: number | undefined;
    let time: number | undefined;
    let name: string | undefined;
    let args = '';
    let named: Map<string, bigint> | null = null;
    const texts = new Map<string, string>();
    if ((m = LOG_TID.exec(line))) {
      out.forms.add('QEMU log backend (TID@SEC.USEC:event)');
      tid = Number(m[1]);
      time = Number(m[2]) * 1e6 + Number(m[3]!.padEnd(6, '0').slice(0, 6));
      name = m[4]!;
      args = m[5] ?? '';
    } else if ((m = STAP.exec(line))) {
      out.forms.add('SystemTap (PID@NS event)');
      tid = Number(m[1]);
      time = Math.floor(Number(m[2]) / 1000);
      name = m[3]!;
      args = m[4] ?? '';
    } else if ((m = SIMPLE.exec(line))) {
      out.forms.add('simpletrace.py text');
      tid = Number(m[3]);
      name = m[1]!;
      named = new Map();
      for (const kv of (m[4] ?? '').trim().split(/ (?=[a-z_][a-z0-9_]*=)/)) {
        if (!kv) continue;
        const eq = kv.indexOf('=');
        const v = kv.slice(eq + 1);
        // integers print as 0x…; string arguments as they are (vfio_iommu_map_notify's op=MAP)
        if (/^(0x[0-9a-f]+|-?\d+)$/.test(v))
          named.set(kv.slice(0, eq), v.startsWith('0x') ? hex(v) : BigInt(v));
        else texts.set(kv.slice(0, eq), v);
      }
      if (runPid === undefined) runPid = tid;
      else if (tid !== runPid && EVENTS[name]) {
        problem(
          lineNo,
          `several processes: pid ${tid} here, pid ${runPid} before; only pid ${runPid} is imported`,
        );
        skip(`other process (pid ${tid})`);
        continue;
      }
    } else if ((m = FTRACE.exec(line))) {
      out.forms.add('QEMU ftrace backend (tracing_mark_write)');
      tid = Number(m[1]);
      name = m[2]!;
      args = m[3] ?? '';
    } else if ((m = ISO.exec(line))) {
      time =
        Date.parse(m[1]!) * 1000 + Number((/\.(\d+)Z$/.exec(m[1]!)?.[1] ?? '0').padEnd(6, '0').slice(3, 6));
      if (m[2] !== undefined) tid = Number(m[2]);
      const rest = m[3]!;
      const bm = BARE.exec(rest);
      if (bm && (EVENTS[bm[1]!] || KNOWN_UNUSED.test(bm[1]!))) {
        out.forms.add('QEMU log backend (ISO-8601 …Z event)');
        name = bm[1]!;
        args = bm[2]!;
      } else {
        const e = errorLine(rest);
        if (e) {
          out.forms.add('QEMU / libvirt error lines');
          add(e, { time });
          continue;
        }
        skip('timestamped line (not a known event or error)');
        if (last) problem(lineNo, `truncated line? '${line.slice(0, 60)}' is not a complete known line`);
        continue;
      }
    } else {
      const bm = BARE.exec(line);
      if (bm && EVENTS[bm[1]!]) {
        out.forms.add('QEMU log backend (bare event args)');
        name = bm[1]!;
        args = bm[2]!;
      }
    }

    if (name !== undefined) {
      if (time !== undefined) {
        if (lastTime !== undefined && time < lastTime - 1_000_000) {
          problem(
            lineNo,
            `several runs: the time goes back ${((lastTime - time) / 1e6).toFixed(1)} s here (a second QEMU run appended to the same file?); lines from here on are not imported`,
          );
          skip('second run');
          for (let j = i + 1; j < lines.length; j++) skip('second run');
          break;
        }
        lastTime = Math.max(lastTime ?? time, time);
      }
      const parser = EVENTS[name];
      if (!parser) {
        skip(KNOWN_UNUSED.test(name) ? `trace event ${name} (not used)` : `trace event ${name} (unknown)`);
        continue;
      }
      let rec: RecBody | null;
      try {
        rec = parser(args, named, texts);
      } catch {
        rec = null;
      }
      if (!rec) {
        if (last) problem(lineNo, `truncated line: the capture ends in the middle of '${line.slice(0, 70)}'`);
        else problem(lineNo, `malformed ${name} line: its arguments do not match QEMU's format string`);
        skip(last ? 'truncated' : `malformed ${name}`);
        continue;
      }
      add(rec, { ...(tid !== undefined ? { tid } : {}), ...(time !== undefined ? { time } : {}) });
      continue;
    }

    // -- error lines without a timestamp (stderr, libvirt's log) --
    const e = errorLine(line);
    if (e) {
      out.forms.add('QEMU / libvirt error lines');
      add(e);
      continue;
    }
    if (last && /^\d+@\d+|^[a-z_]+_[a-z_]+ |^\[\s*\d+\.\d*$|^\d{4}-\d\d-\d\dT/.test(line)) {
      problem(lineNo, `truncated line: the capture ends in the middle of '${line.slice(0, 70)}'`);
      skip('truncated');
      continue;
    }
    firstUnrecognised ??= lineNo;
    skip(
      /^\d{4}-\d\d-\d\d[ T][\d:.]+[+-]\d{4}: \d+: /.test(line) ? 'libvirt line (not used)' : 'unrecognised',
    );
  }

  for (const [pid, u] of unfinished)
    problem(u.line, `truncated: strace line of pid ${pid} is '<unfinished ...>' and never resumed`);

  if (recognised === 0 && out.problems.length === 0 && out.lines > 0)
    problem(
      firstUnrecognised ?? 1,
      'unknown format: no line is a QEMU trace event, QEMU/libvirt error line, kernel locked_vm line or strace ioctl line ' +
        `(line ${firstUnrecognised ?? 1} reads '${(lines[(firstUnrecognised ?? 1) - 1] ?? '').trim().slice(0, 60)}')`,
    );
  return out;
}

/** QEMU error_report lines and libvirt lines that carry a fact */
function errorLine(line: string): RecBody | null {
  let m = new RegExp(
    `vfio_(?:container_)?dma_(map|unmap)\\((?:0x)?[0-9a-fA-F]+, (${H}), (${H})(?:, (${H}))?\\) = (-?\\d+)`,
  ).exec(line);
  if (m)
    return {
      kind: 'dmaError',
      op: m[1] as 'map' | 'unmap',
      iova: hex(m[2]!),
      size: hex(m[3]!),
      ...(m[4] !== undefined ? { vaddr: hex(m[4]) } : {}),
      ret: Number(m[5]),
    };
  if (/Memory registering failed/.test(line))
    return { kind: 'regFailed', fatal: /unable to continue/.test(line) };
  if ((m = /Failed to create a window, ret = (-?\d+)/.exec(line)))
    return { kind: 'createFailed', ret: Number(m[1]) };
  if ((m = new RegExp(`Failed to remove window at (${H})`).exec(line)))
    return { kind: 'removeFailed', offset: hex(m[1]!) };
  if ((m = new RegExp(`Host doesn't support DMA window at (${H}), must be (${H})`).exec(line)))
    return { kind: 'windowMismatch', got: hex(m[1]!), must: hex(m[2]!) };
  if (/Host doesn't support page size/.test(line)) return { kind: 'pageSizeUnsupported' };
  if ((m = new RegExp(`KVM: Failed to create TCE(?:64)? table for liobn (${H})`).exec(line)))
    return { kind: 'kvmTableFailed', liobn: Number(hex(m[1]!)) };
  if ((m = /Requested memory lock limit: (\d+)/.exec(line)))
    return { kind: 'memlockLimit', bytes: BigInt(m[1]!), source: 'libvirt debug log' };
  // libvirt logs QEMU's command line: -m 4096 (MiB) or -m size=4194304k
  if ((m = /qemu-system-ppc64\b.*?\s-m\s+(?:size=)?(\d+)([kMG]?)\b/.exec(line))) {
    const unit = { '': 1n << 20n, k: 1n << 10n, M: 1n << 20n, G: 1n << 30n }[m[2] as '' | 'k' | 'M' | 'G'];
    return { kind: 'guestRam', bytes: BigInt(m[1]!) * unit };
  }
  return null;
}

/** one complete strace call; 'truncated' when the line is cut short, null when not one we use */
function straceCall(call: string, body: string, pid: number): RecBody | 'truncated' | null {
  const res = /\)\s+= (-?\d+|\?)(?: (E[A-Z0-9]+) \([^)]*\))?(?: <[\d.]+>)?$/.exec(body);
  if (!res) return 'truncated';
  const ret = res[1] === '?' ? NaN : Number(res[1]);
  const inner = body.slice(0, res.index);
  if (call === 'prlimit64' || call === 'setrlimit') {
    if (!/RLIMIT_MEMLOCK/.test(inner)) return null;
    const m = /rlim_cur=(RLIM64_INFINITY|RLIM_INFINITY|\d+)(?:\*(\d+))?/.exec(inner);
    if (!m || ret !== 0) return null;
    return {
      kind: 'memlockLimit',
      bytes: /INFINITY/.test(m[1]!) ? 'unlimited' : BigInt(m[1]!) * BigInt(m[2] ?? '1'),
      source: `strace ${call}`,
    };
  }
  const m =
    /^(\d+)(?:<([^>]*)>)?, ([^,]+), ?(.*)$/.exec(inner) ?? /^(\d+)(?:<([^>]*)>)?, ([^,]+)$/.exec(inner);
  if (!m) return 'truncated';
  const names = m[3]!.split(' or ').map((s) => s.trim());
  const arg = (m[4] ?? '').trim();
  if (names.includes('KVM_SET_USER_MEMORY_REGION')) {
    const f = (k: string) => new RegExp(`${k}=(${H}|\\d+)`).exec(arg)?.[1];
    const slot = f('slot');
    const gpa = f('guest_phys_addr');
    const size = f('memory_size');
    const ua = f('userspace_addr');
    if (slot === undefined || gpa === undefined || size === undefined || ua === undefined) return null;
    const big = (s: string) => (s.startsWith('0x') ? hex(s) : BigInt(s));
    return { kind: 'memslot', slot: Number(slot), gpa: big(gpa), size: big(size), ua: big(ua), ret };
  }
  void pid;
  return {
    kind: 'strace',
    fd: Number(m[1]),
    fdPath: m[2] ?? '',
    names,
    arg,
    ret,
    ...(res[2] ? { errno: res[2] } : {}),
  };
}
