/**
 * `dmawb export-c` (scenario-api.md §4.3): the events of a completed run become a standalone C11 program
 * that issues the same calls on a real POWER host, in the same order, and checks each result, and each
 * process's locked_vm, against what the emulated host returned. Pure: events and host facts in, C text
 * out (cli/export-c.ts runs the scenario and writes the file).
 *
 * Shape of the program (read one to see it): the fixed runtime (runtime.ts), then one function per step
 * (one recorded event) with the scenario line in a comment, a table of the steps, and main(). Emulated
 * processes are forked children that run their own steps when the parent asks, so the kernel sees each
 * call from the right mm, with that process's RLIMIT_MEMLOCK and CAP_IPC_LOCK. Every mapping is mmap'ed at
 * the scenario's size; user addresses become "mapping base + the same offset". Output is TAP; exit status
 * 0 all matched, 1 a mismatch, 2 bailed out.
 *
 * What a real host cannot do is a skipped test with its reason, never silent: a system page size other
 * than the host's (checked at run time), PHBs of two models in one host, emulated-only knobs (host RAM
 * where it decides a result, EEH off, an IODA1 table's kernel DMA), hypercalls (a guest action) and
 * QEMU's handling of them (scenario-api.md §2.1.5), and any call this exporter does not know.
 */
import { RUNTIME_C } from './runtime.ts';

/** a recorded event, loosely typed so that event kinds added later (KVM: hcall, syscall) pass through */
export interface ExportEvent {
  seq: number;
  line?: number;
  kind: string;
  pid?: number;
  op?: string;
  fd?: { type: string; id: number };
  args?: Record<string, unknown>;
  ret?: number;
  errno?: string | null;
  out?: Record<string, unknown>;
  lockedVm?: Record<string, number>;
  explain?: string;
  ok?: boolean;
  label?: string;
  actual?: string;
  expected?: string;
  text?: string;
  name?: string;
  handledBy?: string;
}

/** what the program needs to know about each emulated host (facts.ts reads it from a session) */
export interface HostFacts {
  id: number;
  kernel: string;
  pageSize: number;
  ramSize: bigint;
  eeh: boolean;
  phbs: { id: number; model: string; tce32Start: bigint; tce32Size: bigint; pgsizes: bigint }[];
  groups: { id: number; name: string; phb: number; devices: string[]; kernelDma: boolean }[];
  pids: number[];
}

export interface ExportInput {
  /** the scenario file as given on the command line */
  scenario: string;
  /** its text: each step's comment quotes its line */
  source: string;
  /** the --kernel profile of the run (createHost() calls may name their own) */
  kernel: string;
  events: readonly ExportEvent[];
  hosts: readonly HostFacts[];
  expectations: { passed: number; failed: number };
  /** what wrote it, for the header (e.g. "dma-workbench 0.1.0") */
  generator?: string;
}

const DEFAULT_RAM = 64n << 30n;
const U64_MAX = (1n << 64n) - 1n;

/** errno names the C side can spell with <errno.h> */
const C_ERRNOS = new Set([
  'EPERM',
  'ENOENT',
  'EIO',
  'ENXIO',
  'EBADF',
  'EAGAIN',
  'ENOMEM',
  'EACCES',
  'EFAULT',
  'EBUSY',
  'EEXIST',
  'ENODEV',
  'EINVAL',
  'ENOSPC',
  'ENOTTY',
  'ERANGE',
  'ENOSYS',
  'EOPNOTSUPP',
]);

/**
 * The sPAPR TCE table structures are powerpc's own uAPI (asm/kvm.h): elsewhere — a CI machine compiling
 * the program to check it — the program declares the same layout itself so that it still compiles.
 */
const KVM_PPC_TYPES = [
  '#if defined(__powerpc__) || defined(__powerpc64__)',
  'typedef struct kvm_create_spapr_tce spapr_tce_t;',
  'typedef struct kvm_create_spapr_tce_64 spapr_tce_64_t;',
  '#else',
  '/* not a POWER build: the powerpc layout of the two table structures, for compiling only */',
  'typedef struct {',
  '\tuint64_t liobn;',
  '\tuint32_t window_size;',
  '} spapr_tce_t;',
  'typedef struct {',
  '\tuint64_t liobn;',
  '\tuint32_t page_shift;',
  '\tuint32_t flags;',
  '\tuint64_t offset; /* in IOMMU pages */',
  '\tuint64_t size; /* in IOMMU pages */',
  '} spapr_tce_64_t;',
  '#undef KVM_CREATE_SPAPR_TCE',
  '#undef KVM_CREATE_SPAPR_TCE_64',
  '#define KVM_CREATE_SPAPR_TCE _IOW(KVMIO, 0xa8, spapr_tce_t)',
  '#define KVM_CREATE_SPAPR_TCE_64 _IOW(KVMIO, 0xa8, spapr_tce_64_t)',
  '#endif',
];

// ---- C text helpers -----------------------------------------------------------------------------------

/** a C string literal (UTF-8 kept; quotes, backslashes, control characters and '?' escaped) */
export function cString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\' || ch === '?') out += '\\' + ch;
    else if (c === 10) out += '\\n';
    else if (c < 32 || c === 127) out += '\\' + c.toString(8).padStart(3, '0');
    else out += ch;
  }
  return out + '"';
}

/** text safe inside a C block comment (no comment end or nested start) */
export function cComment(s: string): string {
  return s.replace(/\*\//g, '* /').replace(/\/\*/g, '/ *');
}

/** a TAP description: one line, no '#' (it would start a directive) */
function tapText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').replace(/#/g, 'no.');
}

const hex = (v: bigint | number): string => `0x${BigInt(v).toString(16)}`;
const u64 = (v: bigint | number): string => `${hex(v)}ULL`;

function big(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt(v);
  throw new ExportError(`${what}: not an integer (${String(v)})`);
}

function num(v: unknown, what: string): number {
  return Number(big(v, what));
}

/** the expected return value as C: -EBUSY rather than -16 where <errno.h> has the name */
function cRet(ret: number, errno: string | null | undefined): string {
  if (ret < 0 && errno && C_ERRNOS.has(errno)) return `-${errno}`;
  return String(ret);
}

function retText(ret: number, errno: string | null | undefined): string {
  return ret < 0 ? `${ret} ${errno ?? ''}`.trim() : String(ret);
}

function sizeText(b: bigint): string {
  const units: [bigint, string][] = [
    [1n << 40n, 'TiB'],
    [1n << 30n, 'GiB'],
    [1n << 20n, 'MiB'],
    [1n << 10n, 'KiB'],
  ];
  for (const [u, n] of units) if (b >= u && b % u === 0n) return `${b / u} ${n}`;
  return `${b} bytes`;
}

export class ExportError extends Error {
  override name = 'ExportError';
}

// ---- the model the generator walks ----------------------------------------------------------------------

interface Test {
  n: number;
  desc: string;
}

interface Step {
  index: number;
  event: ExportEvent;
  /** index into the host table */
  host: number;
  /** -1: the parent runs it; else the emulated process (child) that does */
  proc: number;
  /** comment lines above the function */
  comment: string[];
  /** body lines (tab-indented by the writer) */
  body: string[];
  tests: Test[];
  /** parent-side lines run after the step (locked_vm of other processes) */
  after: string[];
  /** comments that follow the function: expectations and log lines of the scenario */
  notes: string[];
}

interface Proc {
  index: number;
  pid: number;
  name: string;
  host: number;
  alive: boolean;
  containers: Set<number>;
  /** open device fds by device name: the C variable */
  devices: Map<string, string>;
  /** kvm-vfio device fds, newest last (their close() names no VM) */
  kvmDevices: string[];
}

interface Mapping {
  index: number;
  pid: number;
  base: bigint;
  size: bigint;
}

class Generator {
  private readonly steps: Step[] = [];
  private readonly hostTests: { host: number; lines: string[]; tests: Test[] }[] = [];
  private readonly procs = new Map<number, Proc>();
  private readonly procList: Proc[] = [];
  private readonly groupIndex = new Map<number, number>();
  private readonly groups: (HostFacts['groups'][number] & { host: number })[] = [];
  private readonly hostOfPid = new Map<number, number>();
  private readonly mappings: Mapping[] = [];
  private readonly lastLockedVm = new Map<number, number>();
  private readonly handles = new Set<string>();
  /** groups on a PHB whose model differs from the host's first PHB, and the containers they joined */
  private readonly taintedGroups = new Map<number, string>();
  private readonly taintedContainers = new Map<number, string>();
  private maxContainer = 0;
  private devices = 0;
  private usesKvm = false;
  private nextTest = 1;
  private preNotes: string[] = [];

  constructor(private readonly input: ExportInput) {
    const all = input.hosts.flatMap((h, hi) => h.groups.map((g) => ({ ...g, host: hi })));
    all.sort((a, b) => a.id - b.id);
    for (const g of all) {
      this.groupIndex.set(g.id, this.groups.length);
      this.groups.push(g);
    }
    input.hosts.forEach((h, hi) => h.pids.forEach((pid) => this.hostOfPid.set(pid, hi)));
  }

  generate(): string {
    this.input.hosts.forEach((h, hi) => this.hostFacts(h, hi));
    for (const e of this.input.events) this.event(e);
    return this.write();
  }

  // ---- host facts: what the program checks or skips before the first step ----

  private test(desc: string): Test {
    return { n: this.nextTest++, desc: tapText(desc) };
  }

  private hostFacts(h: HostFacts, hi: number): void {
    const tests: Test[] = [];
    const lines: string[] = [];
    const label = `host ${hi + 1}`;
    const ps = this.test(`${label}: system page size is ${h.pageSize} bytes`);
    tests.push(ps);
    lines.push(
      `/* kernel-model.md §0.1: the page size decides locked_vm units and every alignment check */`,
      `if (sysconf(_SC_PAGESIZE) == ${h.pageSize}L) {`,
      `\ttap(${ps.n}, 1);`,
      `} else {`,
      `\tsnprintf(host_skip_buf[${hi}], sizeof host_skip_buf[${hi}], "this host's pages are %ld bytes, the scenario's ${label} has ${h.pageSize}", sysconf(_SC_PAGESIZE));`,
      `\thost_skip[${hi}] = host_skip_buf[${hi}];`,
      `\ttap_skip(${ps.n}, host_skip[${hi}]);`,
      `}`,
    );
    const creates = this.input.events.some(
      (e) => e.op === 'VFIO_IOMMU_SPAPR_TCE_CREATE' && this.hostOfPid.get(e.pid ?? -1) === hi,
    );
    if (h.kernel === '4.2' && creates) {
      const t = this.test(
        `${label}: ${sizeText(h.ramSize)} of RAM (4.2 refuses DDW windows larger than RAM)`,
      );
      tests.push(t);
      lines.push(
        `{`,
        `\tchar why[160];`,
        `\tsnprintf(why, sizeof why, "emulated-only knob: a program cannot set the host's RAM (this host has %llu MiB)", (unsigned long long)sysconf(_SC_PHYS_PAGES) * (unsigned long long)sysconf(_SC_PAGESIZE) >> 20);`,
        `\ttap_skip(${t.n}, why);`,
        `}`,
      );
    } else if (h.ramSize !== DEFAULT_RAM) {
      this.preNotes.push(
        `${label} has ${sizeText(h.ramSize)} of RAM in the emulator; no call of this scenario depends on it`,
      );
    }
    if (!h.eeh) {
      const t = this.test(`${label}: EEH disabled`);
      tests.push(t);
      lines.push(
        `tap_skip(${t.n}, "emulated-only knob: a program cannot turn the host's EEH off; the EEH checks below are skipped");`,
      );
    }
    const models = [...new Set(h.phbs.map((p) => p.model))];
    if (models.length > 1) {
      const first = h.phbs[0]!.model;
      const why = `a real host has one PHB model; ${label} mixes ${models.join(' and ')}`;
      const t = this.test(`${label}: PHBs of one model (${first})`);
      tests.push(t);
      lines.push(
        `tap_skip(${t.n}, ${cString(why + ': every call on a group of another model is skipped')});`,
      );
      for (const g of h.groups) {
        const phb = h.phbs.find((p) => p.id === g.phb);
        if (phb && phb.model !== first)
          this.taintedGroups.set(g.id, `${why} (group ${g.name} is ${phb.model})`);
      }
    }
    for (const g of h.groups) {
      if (!g.kernelDma) continue;
      const t = this.test(`${label}: IOMMU group ${g.name} still has host kernel DMA mappings`);
      tests.push(t);
      lines.push(
        `tap_skip(${t.n}, "emulated-only knob: a program cannot set up the host kernel's own DMA mappings");`,
      );
    }
    this.hostTests.push({ host: hi, lines, tests });
  }

  // ---- events ----

  private newStep(e: ExportEvent, proc: number, host: number): Step {
    const src = e.line !== undefined ? this.input.source.split('\n')[e.line - 1]?.trim() : undefined;
    const who = e.pid !== undefined ? this.procs.get(e.pid) : undefined;
    const step: Step = {
      index: this.steps.length,
      event: e,
      host,
      proc,
      comment: [
        `step ${this.steps.length + 1} · event ${e.seq}${e.line !== undefined ? ` · scenario line ${e.line}` : ''}${who ? ` · ${who.name} (pid ${who.pid})` : ''}`,
        ...(src ? [`  ${src.length > 160 ? src.slice(0, 157) + '…' : src}`] : []),
        ...(e.explain ? [`emulated: ${e.explain}`] : []),
      ],
      body: [],
      tests: [],
      after: [],
      notes: [],
    };
    this.steps.push(step);
    return step;
  }

  private at(e: ExportEvent): string {
    return e.line !== undefined ? `line ${e.line}: ` : '';
  }

  private event(e: ExportEvent): void {
    if (e.kind === 'expect') {
      const text = `${this.at(e)}${e.ok ? 'passed' : 'FAILED'} in the emulator: ${e.label ?? ''} (actual ${e.actual}, expected ${e.expected})`;
      (this.steps.at(-1)?.notes ?? this.preNotes).push(text);
      return;
    }
    if (e.kind === 'log') {
      (this.steps.at(-1)?.notes ?? this.preNotes).push(`${this.at(e)}log: ${e.text ?? ''}`);
      return;
    }
    const pid = e.pid;
    const host = pid !== undefined ? this.hostOfPid.get(pid) : undefined;
    if (pid === undefined || host === undefined) {
      const s = this.newStep(e, -1, 0);
      this.skip(s, `${this.at(e)}${e.kind} ${e.op ?? ''}`, 'the exporter does not know this event');
      return;
    }
    if (e.kind === 'action' && e.op === 'spawn') this.spawn(e, host);
    const p = this.procs.get(pid);
    if (!p) throw new ExportError(`event ${e.seq}: pid ${pid} was never spawned`);
    switch (e.kind) {
      case 'action':
        this.action(e, p);
        break;
      case 'ioctl':
        this.ioctl(e, p);
        break;
      case 'syscall':
        this.syscall(e, p);
        break;
      case 'hcall':
        this.hcall(e, p);
        break;
      default: {
        const s = this.newStep(e, p.index, p.host);
        this.skip(
          s,
          `${this.at(e)}${e.kind} ${e.op ?? ''}`,
          `the exporter does not know events of kind '${e.kind}'`,
        );
      }
    }
    this.lockedVmElsewhere(e, p);
  }

  private spawn(e: ExportEvent, host: number): void {
    const a = e.args ?? {};
    const p: Proc = {
      index: this.procList.length,
      pid: e.pid!,
      name: String(a.name ?? `proc${this.procList.length + 1}`),
      host,
      alive: true,
      containers: new Set(),
      devices: new Map(),
      kvmDevices: [],
    };
    this.procs.set(p.pid, p);
    this.procList.push(p);
    this.lastLockedVm.set(p.pid, 0);
  }

  /** a step whose checks cannot run here: each reported as ok … # SKIP with the reason */
  private skip(s: Step, desc: string, why: string, count = 1): void {
    for (let i = 0; i < count; i++) {
      const t = this.test(count > 1 && i > 0 ? `${desc} (check ${i + 1})` : desc);
      s.tests.push(t);
      s.body.push(`tap_skip(${t.n}, ${cString(why)});`);
    }
  }

  /** the C expression for a user address of process p: the same offset in the real mapping */
  private addr(p: Proc, v: bigint, size: bigint = 1n): { expr: string; note: string; guard?: string } {
    const own = this.mappings.filter((m) => m.pid === p.pid);
    for (let i = own.length - 1; i >= 0; i--) {
      const m = own[i]!;
      if (v >= m.base && v < m.base + m.size) {
        const off = v - m.base;
        const r = { expr: `ADDR(${m.index}, ${hex(off)})`, note: `mapping ${m.index + 1} + ${hex(off)}` };
        const end = v + (size > 0n ? size : 1n);
        if (end > m.base + m.size) {
          const next = own.find((n) => n !== m && end - 1n >= n.base && end - 1n < n.base + n.size);
          if (next) {
            const delta = next.base - m.base;
            return {
              ...r,
              guard: `(uint64_t)(uintptr_t)map_base[${next.index}] - (uint64_t)(uintptr_t)map_base[${m.index}] != ${u64(delta)}`,
            };
          }
        }
        return r;
      }
    }
    return { expr: u64(v), note: 'outside every mapping of the scenario: passed as is' };
  }

  private action(e: ExportEvent, p: Proc): void {
    const a = e.args ?? {};
    const q = cString(p.name);
    switch (e.op) {
      case 'spawn': {
        const s = this.newStep(e, p.index, p.host);
        const memlock = big(a.memlock ?? 65536, 'spawn memlock');
        s.comment.push(
          'A forked child is this emulated process: its own mm (locked_vm), RLIMIT_MEMLOCK and CAP_IPC_LOCK.',
        );
        s.body.push(
          `set_memlock(${memlock >= U64_MAX ? 'UINT64_MAX' : u64(memlock)}, ${q});`,
          `set_cap_ipc_lock(${a.capIpcLock ? 1 : 0}, ${q});`,
          `printf("# %s is pid %d: RLIMIT_MEMLOCK ${memlock} bytes, CAP_IPC_LOCK ${a.capIpcLock ? 'held' : 'dropped'}\\n", ${q}, (int)getpid());`,
        );
        return;
      }
      case 'setrlimit': {
        const s = this.newStep(e, p.index, p.host);
        const m = big(a.memlock, 'setrlimit memlock');
        s.body.push(`set_memlock(${m >= U64_MAX ? 'UINT64_MAX' : u64(m)}, ${q});`);
        return;
      }
      case 'capset': {
        const s = this.newStep(e, p.index, p.host);
        s.body.push(`set_cap_ipc_lock(${a.capIpcLock ? 1 : 0}, ${q});`);
        return;
      }
      case 'mmap': {
        const s = this.newStep(e, p.index, p.host);
        const base = big(a.addr, 'mmap addr');
        const size = big(a.size, 'mmap size');
        const m: Mapping = { index: this.mappings.length, pid: p.pid, base, size };
        this.mappings.push(m);
        const huge = a.hugepage === '16M';
        s.comment.push(
          `Mapping ${m.index + 1}: ${sizeText(size)} at ${hex(base)} in the emulator; here wherever the kernel puts it`,
          '(the emulated address is only a hint), and every address into it keeps its offset.',
        );
        s.body.push(
          `map_base[${m.index}] = map_memory(${u64(base)}, ${u64(size)}, ${a.prot === 'r' ? 'PROT_READ' : 'PROT_READ | PROT_WRITE'}, ${huge ? 1 : 0}, ${cString(`${this.at(e)}mapping ${m.index + 1}`)});`,
          `printf("# mapping ${m.index + 1} (${sizeText(size)}${huge ? ', 16 MiB hugetlb pages' : ''}) is at %p here, ${hex(base)} in the emulator\\n", (void *)map_base[${m.index}]);`,
        );
        return;
      }
      case 'munmap': {
        const s = this.newStep(e, p.index, p.host);
        const v = big(a.vaddr, 'munmap vaddr');
        const size = big(a.size, 'munmap size');
        const t = this.addr(p, v, size);
        s.body.push(
          `/* ${t.note} */`,
          `if (munmap((void *)(uintptr_t)${t.expr}, ${u64(size)}))`,
          `\tbail(${cString(`${this.at(e)}munmap: `)} "%s", strerror(errno));`,
        );
        return;
      }
      case 'open': {
        const path = String(a.path ?? '');
        const s = this.newStep(e, p.index, p.host);
        if (path === '/dev/vfio/vfio') {
          const c = num(a.container, 'open container');
          this.maxContainer = Math.max(this.maxContainer, c);
          p.containers.add(c);
          s.body.push(
            `container_fd[${c}] = open_or_bail("/dev/vfio/vfio", ${cString(`${this.at(e)}container ${c}`)});`,
          );
          return;
        }
        if (path === '/dev/kvm') {
          this.usesKvm = true;
          s.body.push(
            `if (kvm_fd < 0)`,
            `\tkvm_fd = open_or_bail("/dev/kvm", ${cString(this.at(e) + 'KVM')});`,
          );
          return;
        }
        const m = /^\/dev\/vfio\/(\d+)$/.exec(path);
        const gi = m ? this.groupIndex.get(Number(m[1])) : undefined;
        if (gi === undefined) {
          this.skip(s, `${this.at(e)}open(${path})`, 'the exporter does not know this file');
          return;
        }
        const g = this.groups[gi]!;
        // the emulated open fails only when the group is already open (EBUSY, kernel-model.md §3)
        const failed = e.explain !== `group ${g.name} opened`;
        const t = this.test(
          `${this.at(e)}open(/dev/vfio/<group ${gi + 1}: ${g.name}>) = ${failed ? '-16 EBUSY' : '0'}`,
        );
        s.tests.push(t);
        const taint = this.taintedGroups.get(g.id);
        if (taint) {
          s.body.push(`tap_skip(${t.n}, ${cString(taint)});`);
          return;
        }
        s.body.push(
          `{`,
          `\tint fd = open(group_path[${gi}], O_RDWR | O_CLOEXEC);`,
          `\tlong r = fd < 0 ? -errno : 0;`,
          `\tif (fd >= 0)`,
          `\t\tgroup_fd[${gi}] = fd;`,
          `\tcheck_call(${t.n}, r, ${failed ? '-EBUSY' : '0'}, NULL, 0);`,
          `}`,
        );
        return;
      }
      case 'adopt': {
        const c = num(a.container, 'adopt container');
        const from = this.procs.get(num(a.from, 'adopt from'));
        const s = this.newStep(e, -1, p.host);
        if (!from) throw new ExportError(`event ${e.seq}: adopt from an unknown pid`);
        p.containers.add(c);
        s.comment.push('fd passing: the container fd goes from one child to the other over SCM_RIGHTS.');
        s.body.push(`pass_container(${from.index}, ${p.index}, ${c});`);
        return;
      }
      case 'exit': {
        const s = this.newStep(e, -1, p.host);
        p.alive = false;
        s.comment.push(
          'The child exits: the kernel tears its mm down and closes its fds (kernel-model.md §5.6).',
        );
        s.body.push(`end_proc(${p.index});`);
        return;
      }
      case 'close': {
        const s = this.newStep(e, p.index, p.host);
        if (a.container !== undefined) {
          const c = num(a.container, 'close container');
          p.containers.delete(c);
          s.body.push(`close(container_fd[${c}]);`, `container_fd[${c}] = -1;`);
        } else if (a.group !== undefined) {
          const gi = this.groupIndex.get(num(a.group, 'close group'));
          if (gi === undefined) throw new ExportError(`event ${e.seq}: close of an unknown group`);
          s.body.push(`if (group_fd[${gi}] >= 0)`, `\tclose(group_fd[${gi}]);`, `group_fd[${gi}] = -1;`);
        } else if (a.device === 'kvm-vfio') {
          const v = p.kvmDevices.pop();
          if (v) s.body.push(`if (${v} >= 0)`, `\tclose(${v});`, `${v} = -1;`);
          else s.body.push(`/* no kvm-vfio device fd is open here: nothing to close */`);
        } else if (a.device !== undefined) {
          const v = p.devices.get(String(a.device));
          if (v) {
            p.devices.delete(String(a.device));
            s.body.push(`if (${v} >= 0)`, `\tclose(${v});`, `${v} = -1;`);
          } else s.body.push(`/* no device fd of that name is open here: nothing to close */`);
        } else {
          // KVM handles (vm, table, device) as they come: close(<handle>)
          const key = Object.keys(a)[0];
          const v = key !== undefined ? this.handle(key, a[key]) : undefined;
          if (v) s.body.push(`if (${v} >= 0)`, `\tclose(${v});`, `${v} = -1;`);
          else this.skip(s, `${this.at(e)}close`, 'the exporter does not know this fd');
        }
        return;
      }
      default: {
        const s = this.newStep(e, p.index, p.host);
        this.skip(s, `${this.at(e)}${e.op ?? 'action'}`, `the exporter does not know the action '${e.op}'`);
      }
    }
  }

  /** a C variable for a KVM handle (vm, table, device, …), declared on first use */
  private handle(kind: string, id: unknown): string | undefined {
    if (typeof id !== 'number' && typeof id !== 'bigint' && typeof id !== 'string') return undefined;
    const v = `fd_${kind.replace(/[^A-Za-z0-9]/g, '_')}_${String(id).replace(/[^A-Za-z0-9]/g, '_')}`;
    this.handles.add(v);
    return v;
  }

  /** the fd an ioctl event was issued on */
  private fdOf(e: ExportEvent, p: Proc): string {
    const fd = e.fd;
    if (!fd) throw new ExportError(`event ${e.seq}: ${e.op} names no fd`);
    if (fd.type === 'container') {
      this.maxContainer = Math.max(this.maxContainer, fd.id);
      return p.containers.has(fd.id) ? `container_fd[${fd.id}]` : '-1 /* not open in this process */';
    }
    if (fd.type === 'group') {
      const gi = this.groupIndex.get(fd.id);
      if (gi === undefined) throw new ExportError(`event ${e.seq}: ${e.op} on an unknown group`);
      return `group_fd[${gi}]`;
    }
    return this.handle(fd.type, fd.id)!;
  }

  private ioctl(e: ExportEvent, p: Proc): void {
    const s = this.newStep(e, p.index, p.host);
    const op = e.op ?? 'ioctl';
    const a = e.args ?? {};
    const ret = e.ret ?? 0;
    const host = this.input.hosts[p.host]!;
    const tainted =
      (e.fd?.type === 'group' ? this.taintedGroups.get(e.fd.id) : undefined) ??
      (e.fd?.type === 'container' ? this.taintedContainers.get(e.fd.id) : undefined);
    if (op === 'VFIO_GROUP_SET_CONTAINER' && e.fd?.type === 'group' && this.taintedGroups.has(e.fd.id))
      this.taintedContainers.set(num(a.container, 'container'), this.taintedGroups.get(e.fd.id)!);
    const eehDependent =
      (op === 'VFIO_CHECK_EXTENSION' && num(a.ext ?? 0, 'ext') === 5) ||
      (op === 'VFIO_SET_IOMMU' && num(a.type ?? 0, 'type') === 5) ||
      op === 'VFIO_EEH_PE_OP';
    const c = this.call(e, p, op, a);
    const outs = ret >= 0 && e.out ? c.fields(e.out) : [];
    const outText = outs.map((f) => `, ${f.name} ${hex(f.want)}`).join('');
    const result = this.test(`${this.at(e)}${c.text} = ${retText(ret, e.errno)}${outText}`);
    s.tests.push(result);
    const lv = (e.lockedVm ?? {})[String(p.pid)] ?? 0;
    const lvTest = this.test(
      `${this.at(e)}locked_vm of ${p.name} = ${lv} pages (VmLck ${(BigInt(lv) * BigInt(host.pageSize)) >> 10n} kB)`,
    );
    s.tests.push(lvTest);
    this.lastLockedVm.set(p.pid, lv);
    const why =
      tainted ??
      (eehDependent && !host.eeh ? 'the scenario turned EEH off, a real host has it on' : undefined) ??
      c.skip;
    if (why) {
      s.body.push(`tap_skip(${result.n}, ${cString(why)});`, `tap_skip(${lvTest.n}, ${cString(why)});`);
      return;
    }
    if (c.guard) {
      s.body.push(
        `if (${c.guard}) {`,
        `\ttap_skip(${result.n}, "the range spans two mappings that this host placed apart");`,
        `\ttap_skip(${lvTest.n}, "the range spans two mappings that this host placed apart");`,
        `\treturn;`,
        `}`,
      );
    }
    s.body.push(...c.lines);
    if (outs.length) {
      s.body.push(
        `const struct field f[] = {`,
        ...outs.map((f) => `\t{ ${cString(f.name)}, (uint64_t)(${f.got}), ${u64(f.want)} },`),
        `};`,
        `check_call(${result.n}, r, ${cRet(ret, e.errno)}, f, ${outs.length});`,
      );
    } else s.body.push(`check_call(${result.n}, r, ${cRet(ret, e.errno)}, NULL, 0);`);
    s.body.push(`check_locked_vm(${lvTest.n}, 0, ${lv}, ${host.pageSize});`);
  }

  /**
   * How to issue one ioctl in C: the argument block (zeroed and padded to 256 bytes, so an argsz the
   * scenario made larger than the structure reads zeros), the call into `long r`, and the output fields
   * to compare when the emulated call succeeded.
   */
  private call(
    e: ExportEvent,
    p: Proc,
    op: string,
    a: Record<string, unknown>,
  ): {
    text: string;
    lines: string[];
    fields: (out: Record<string, unknown>) => { name: string; got: string; want: bigint }[];
    skip?: string;
    guard?: string;
  } {
    const fd = this.fdOf(e, p);
    const none = () => [];
    const block = (type: string, m: string, sets: [string, string, string?][], request: string) => [
      `union {`,
      `\t${type} ${m};`,
      `\tunsigned char raw[256];`,
      `} a;`,
      `memset(&a, 0, sizeof a);`,
      ...sets.map(([f, v, note]) => `a.${m}.${f} = ${v};${note ? ` /* ${cComment(note)} */` : ''}`),
      `long r = xioctl(${fd}, ${request}, &a);`,
    ];
    const argsz = (dflt: number) => String(num(a.argsz ?? dflt, 'argsz'));
    const flags = (dflt: number) => hex(num(a.flags ?? dflt, 'flags'));
    switch (op) {
      case 'VFIO_GET_API_VERSION':
        return { text: op, lines: [`long r = xioctl_val(${fd}, VFIO_GET_API_VERSION, 0);`], fields: none };
      case 'VFIO_CHECK_EXTENSION': {
        const ext = num(a.ext, 'ext');
        return {
          text: `${op}(${ext})`,
          lines: [`long r = xioctl_val(${fd}, VFIO_CHECK_EXTENSION, ${ext});`],
          fields: none,
        };
      }
      case 'VFIO_SET_IOMMU': {
        const type = num(a.type, 'type');
        return {
          text: `${op}(${type})`,
          lines: [`long r = xioctl_val(${fd}, VFIO_SET_IOMMU, ${type});`],
          fields: none,
        };
      }
      case 'VFIO_GROUP_GET_STATUS':
        return {
          text: op,
          lines: block('struct vfio_group_status', 's', [['argsz', 'sizeof(struct vfio_group_status)']], op),
          fields: (o) => [{ name: 'flags', got: 'a.s.flags', want: big(o.flags ?? 0, 'flags') }],
        };
      case 'VFIO_GROUP_SET_CONTAINER': {
        const c = num(a.container, 'container');
        this.maxContainer = Math.max(this.maxContainer, c);
        const cfd = p.containers.has(c) ? `container_fd[${c}]` : '-1';
        return {
          text: `${op}(container ${c})`,
          lines: [
            ...(p.containers.has(c) ? [] : [`/* container ${c} is not open in this process */`]),
            `int cfd = ${cfd};`,
            `long r = xioctl(${fd}, VFIO_GROUP_SET_CONTAINER, &cfd);`,
          ],
          fields: none,
        };
      }
      case 'VFIO_GROUP_UNSET_CONTAINER':
        return {
          text: op,
          lines: [`long r = xioctl(${fd}, VFIO_GROUP_UNSET_CONTAINER, NULL);`],
          fields: none,
        };
      case 'VFIO_GROUP_GET_DEVICE_FD': {
        const name = String(a.name ?? '');
        const gi = this.groupIndex.get(e.fd!.id)!;
        const di = this.groups[gi]!.devices.indexOf(name);
        const v = `fd_device_${++this.devices}`;
        this.handles.add(v);
        p.devices.set(name, v);
        return {
          text: `${op}(${di >= 0 ? `device ${di + 1} of group ${gi + 1}` : name})`,
          lines: [
            di >= 0
              ? `const char *name = real_device(${gi}, ${di}); /* ${cComment(name)} in the emulator */`
              : `const char *name = ${cString(name)}; /* not a device of the group: passed as is */`,
            `printf("# device %s\\n", name);`,
            `long r = xioctl(${fd}, VFIO_GROUP_GET_DEVICE_FD, (void *)name);`,
            `${v} = r >= 0 ? (int)r : -1;`,
            `if (r > 0)`,
            `\tr = 0; /* the new fd: the emulated host reports 0 */`,
          ],
          fields: none,
        };
      }
      case 'VFIO_IOMMU_SPAPR_TCE_GET_INFO':
        return {
          text: `${op}(argsz ${argsz(32)})`,
          lines: block('struct vfio_iommu_spapr_tce_info', 'i', [['argsz', argsz(32)]], op),
          fields: (o) => {
            const ddw = (o.ddw ?? {}) as Record<string, unknown>;
            return [
              { name: 'flags', got: 'a.i.flags', want: big(o.flags ?? 0, 'flags') },
              {
                name: 'dma32_window_start',
                got: 'a.i.dma32_window_start',
                want: big(o.dma32WindowStart ?? 0, 'start'),
              },
              {
                name: 'dma32_window_size',
                got: 'a.i.dma32_window_size',
                want: big(o.dma32WindowSize ?? 0, 'size'),
              },
              { name: 'ddw.pgsizes', got: 'a.i.ddw.pgsizes', want: big(ddw.pgsizes ?? 0, 'pgsizes') },
              {
                name: 'ddw.max_dynamic_windows_supported',
                got: 'a.i.ddw.max_dynamic_windows_supported',
                want: big(ddw.maxDynamicWindowsSupported ?? 0, 'max'),
              },
              { name: 'ddw.levels', got: 'a.i.ddw.levels', want: big(ddw.levels ?? 0, 'levels') },
            ];
          },
        };
      case 'VFIO_IOMMU_ENABLE':
      case 'VFIO_IOMMU_DISABLE':
        return { text: op, lines: [`long r = xioctl(${fd}, ${op}, NULL);`], fields: none };
      case 'VFIO_IOMMU_MAP_DMA': {
        const v = big(a.vaddr, 'vaddr');
        const size = big(a.size, 'size');
        const t = this.addr(p, v, size);
        return {
          text: `${op}(vaddr ${t.note.startsWith('outside') ? hex(v) : t.note}, iova ${hex(big(a.iova, 'iova'))}, size ${hex(size)}, flags ${flags(3)})`,
          lines: block(
            'struct vfio_iommu_type1_dma_map',
            'm',
            [
              ['argsz', argsz(32)],
              ['flags', flags(3)],
              ['vaddr', t.expr, `${t.note}; ${hex(v)} in the emulator`],
              ['iova', u64(big(a.iova, 'iova'))],
              ['size', u64(size)],
            ],
            op,
          ),
          fields: none,
          ...(t.guard ? { guard: t.guard } : {}),
        };
      }
      case 'VFIO_IOMMU_UNMAP_DMA': {
        const size = big(a.size, 'size');
        return {
          text: `${op}(iova ${hex(big(a.iova, 'iova'))}, size ${hex(size)})`,
          lines: block(
            'struct vfio_iommu_type1_dma_unmap',
            'u',
            [
              ['argsz', argsz(24)],
              ['flags', flags(0)],
              ['iova', u64(big(a.iova, 'iova'))],
              ['size', u64(size)],
            ],
            op,
          ),
          fields: none,
        };
      }
      case 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY':
      case 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY': {
        const v = big(a.vaddr, 'vaddr');
        const size = big(a.size, 'size');
        const t = this.addr(p, v, size);
        return {
          text: `${op}(vaddr ${t.note.startsWith('outside') ? hex(v) : t.note}, size ${hex(size)})`,
          lines: block(
            'struct vfio_iommu_spapr_register_memory',
            'm',
            [
              ['argsz', argsz(24)],
              ['flags', flags(0)],
              ['vaddr', t.expr, `${t.note}; ${hex(v)} in the emulator`],
              ['size', u64(size)],
            ],
            op,
          ),
          fields: none,
          ...(t.guard ? { guard: t.guard } : {}),
        };
      }
      case 'VFIO_IOMMU_SPAPR_TCE_CREATE': {
        const shift = num(a.pageShift, 'pageShift');
        const size = big(a.windowSize, 'windowSize');
        const levels = num(a.levels, 'levels');
        return {
          text: `${op}(page_shift ${shift}, window_size ${hex(size)}, levels ${levels})`,
          lines: block(
            'struct vfio_iommu_spapr_tce_create',
            'c',
            [
              ['argsz', argsz(40)],
              ['flags', flags(0)],
              ['page_shift', String(shift)],
              ['window_size', u64(size)],
              ['levels', String(levels)],
            ],
            op,
          ),
          fields: (o) => [
            { name: 'start_addr', got: 'a.c.start_addr', want: big(o.startAddr ?? 0, 'startAddr') },
          ],
        };
      }
      case 'VFIO_IOMMU_SPAPR_TCE_REMOVE': {
        const start = big(a.startAddr, 'startAddr');
        return {
          text: `${op}(start_addr ${hex(start)})`,
          lines: block(
            'struct vfio_iommu_spapr_tce_remove',
            'r',
            [
              ['argsz', argsz(16)],
              ['flags', flags(0)],
              ['start_addr', u64(start)],
            ],
            op,
          ),
          fields: none,
        };
      }
      case 'VFIO_EEH_PE_OP': {
        const o = num(a.op, 'op');
        return {
          text: `${op}(op ${o})`,
          lines: block(
            'struct vfio_eeh_pe_op',
            'o',
            [
              ['argsz', argsz(40)],
              ['flags', flags(0)],
              ['op', String(o)],
            ],
            op,
          ),
          fields: none,
        };
      }
      default:
        if (op.startsWith('KVM_')) return this.kvmCall(e, p, op, a, fd);
        return this.rawCall(op, a, fd);
    }
  }

  /** the raw form ioctl(request): a uAPI name or a request number, with a zeroed argument block */
  private rawCall(op: string, a: Record<string, unknown>, fd: string) {
    const request = String(a.request ?? op);
    let expr: string | undefined;
    if (/^VFIO_[A-Z0-9_]+$/.test(request) && request !== 'VFIO_UNKNOWN') expr = request;
    else if (/^(0x[0-9a-f]+|\d+)$/i.test(request)) expr = `${hex(BigInt(request))}UL`;
    const none = () => [];
    if (!expr)
      return {
        text: `ioctl(${request})`,
        lines: [],
        fields: none,
        skip: `the exporter cannot issue the request '${request}'`,
      };
    return {
      text: `ioctl(${request})`,
      lines: [
        `unsigned char raw[256];`,
        `memset(raw, 0, sizeof raw);`,
        `long r = xioctl(${fd}, ${expr}, raw);`,
      ],
      fields: none,
    };
  }

  /**
   * KVM ioctls through <linux/kvm.h> (scenario-api.md §2.1.5). New handles become C variables named as
   * the events name them: a VM by its id (fd type 'vm'), its kvm-vfio device by the VM's id (fd type
   * 'kvm-device'), a TCE table by its LIOBN (SET_SPAPR_TCE and close() name it so). The emulated host
   * reports 0 for a call that returns a new fd.
   */
  private kvmCall(e: ExportEvent, p: Proc, op: string, a: Record<string, unknown>, fd: string) {
    this.usesKvm = true;
    const none = () => [];
    const newFd = (kind: string, id: unknown, v: string) => {
      const h = this.handle(kind, id);
      if (!h) throw new ExportError(`${op} names no ${kind}`);
      if (kind === 'kvm-device') p.kvmDevices.push(h);
      return [
        `${h} = r >= 0 ? (int)(${v}) : -1;`,
        `if (r > 0)`,
        `\tr = 0; /* the new fd: the emulated host reports 0 */`,
      ];
    };
    const groupFd = (v: unknown) => {
      const gi = this.groupIndex.get(num(v, 'group'));
      return gi === undefined ? '-1' : `group_fd[${gi}]`;
    };
    const attr = (which: string, ptr: string) => [
      `struct kvm_device_attr d;`,
      `memset(&d, 0, sizeof d);`,
      `d.group = KVM_DEV_VFIO_GROUP;`,
      `d.attr = ${which};`,
      `d.addr = (uint64_t)(uintptr_t)${ptr};`,
      `long r = xioctl(${fd}, KVM_SET_DEVICE_ATTR, &d);`,
    ];
    try {
      switch (op) {
        case 'KVM_CREATE_VM':
          return {
            text: op,
            lines: [
              `if (kvm_fd < 0)`,
              `\tkvm_fd = open_or_bail("/dev/kvm", "KVM");`,
              `long r = xioctl_val(kvm_fd, KVM_CREATE_VM, 0);`,
              ...newFd('vm', e.fd?.id, 'r'),
            ],
            fields: none,
          };
        case 'KVM_CHECK_EXTENSION': {
          const cap = num(a.cap, 'cap');
          return {
            text: `${op}(${cap})`,
            lines: [`long r = xioctl_val(${fd}, KVM_CHECK_EXTENSION, ${cap});`],
            fields: none,
          };
        }
        case 'KVM_ENABLE_CAP': {
          const hcall = num(a.hcall, 'hcall');
          const on = a.enable === false || a.enable === 0 || a.enable === '0' ? 0 : 1;
          return {
            text: `${op}(KVM_CAP_PPC_ENABLE_HCALL, ${hex(hcall)}, ${on})`,
            lines: [
              `struct kvm_enable_cap c;`,
              `memset(&c, 0, sizeof c);`,
              `c.cap = KVM_CAP_PPC_ENABLE_HCALL;`,
              `c.args[0] = ${hex(hcall)};`,
              `c.args[1] = ${on};`,
              `long r = xioctl(${fd}, KVM_ENABLE_CAP, &c);`,
            ],
            fields: none,
          };
        }
        case 'KVM_SET_USER_MEMORY_REGION': {
          const ua = big(a.userspaceAddr, 'userspaceAddr');
          const t = this.addr(p, ua, big(a.memorySize, 'memorySize'));
          return {
            text: `${op}(slot ${num(a.slot, 'slot')}, gpa ${hex(big(a.guestPhysAddr, 'gpa'))}, size ${hex(big(a.memorySize, 'size'))})`,
            lines: [
              `struct kvm_userspace_memory_region m;`,
              `memset(&m, 0, sizeof m);`,
              `m.slot = ${num(a.slot, 'slot')};`,
              `m.flags = ${hex(num(a.flags ?? 0, 'flags'))};`,
              `m.guest_phys_addr = ${u64(big(a.guestPhysAddr, 'gpa'))};`,
              `m.memory_size = ${u64(big(a.memorySize, 'size'))};`,
              `m.userspace_addr = ${t.expr}; /* ${cComment(t.note)} */`,
              `long r = xioctl(${fd}, KVM_SET_USER_MEMORY_REGION, &m);`,
            ],
            fields: none,
          };
        }
        case 'KVM_CREATE_SPAPR_TCE':
          return {
            text: `${op}(liobn ${hex(num(a.liobn, 'liobn'))}, window_size ${hex(big(a.windowSize, 'windowSize'))})`,
            lines: [
              `spapr_tce_t t;`,
              `memset(&t, 0, sizeof t);`,
              `t.liobn = ${hex(num(a.liobn, 'liobn'))};`,
              `t.window_size = ${hex(big(a.windowSize, 'windowSize'))};`,
              `long r = xioctl(${fd}, KVM_CREATE_SPAPR_TCE, &t);`,
              ...newFd('liobn', a.liobn, 'r'),
            ],
            fields: none,
          };
        case 'KVM_CREATE_SPAPR_TCE_64':
          return {
            text: `${op}(liobn ${hex(num(a.liobn, 'liobn'))}, page_shift ${num(a.pageShift, 'pageShift')}, offset ${hex(big(a.offset, 'offset'))}, size ${hex(big(a.size, 'size'))})`,
            lines: [
              `spapr_tce_64_t t;`,
              `memset(&t, 0, sizeof t);`,
              `t.liobn = ${hex(num(a.liobn, 'liobn'))};`,
              `t.page_shift = ${num(a.pageShift, 'pageShift')};`,
              `t.flags = ${hex(num(a.flags ?? 0, 'flags'))};`,
              `t.offset = ${u64(big(a.offset, 'offset'))};`,
              `t.size = ${u64(big(a.size, 'size'))};`,
              `long r = xioctl(${fd}, KVM_CREATE_SPAPR_TCE_64, &t);`,
              ...newFd('liobn', a.liobn, 'r'),
            ],
            fields: none,
          };
        case 'KVM_CREATE_DEVICE':
          return {
            text: `${op}(KVM_DEV_TYPE_VFIO)`,
            lines: [
              `struct kvm_create_device c;`,
              `memset(&c, 0, sizeof c);`,
              `c.type = KVM_DEV_TYPE_VFIO;`,
              `long r = xioctl(${fd}, KVM_CREATE_DEVICE, &c);`,
              ...newFd('kvm-device', e.fd?.id, 'c.fd'),
            ],
            fields: none,
          };
        case 'KVM_DEV_VFIO_GROUP_ADD':
        case 'KVM_DEV_VFIO_GROUP_DEL':
          return {
            text: `${op}(group ${String(a.group)})`,
            lines: [`int gfd = ${groupFd(a.group)};`, ...attr(op, '&gfd')],
            fields: none,
          };
        case 'KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE': {
          const table = this.handle('liobn', a.liobn);
          return {
            text: `${op}(group ${String(a.group)}, liobn ${hex(num(a.liobn, 'liobn'))})`,
            lines: [
              `struct kvm_vfio_spapr_tce t;`,
              `t.groupfd = ${groupFd(a.group)};`,
              `t.tablefd = ${table ?? '-1'};`,
              ...attr(op, '&t'),
            ],
            fields: none,
          };
        }
      }
    } catch (err) {
      if (!(err instanceof ExportError)) throw err;
      return { text: op, lines: [], fields: none, skip: `the exporter cannot issue ${op}: ${err.message}` };
    }
    return { text: op, lines: [], fields: none, skip: `the exporter does not know how to issue ${op}` };
  }

  /** mlock(2) / munlock(2) as calls, with the same result and locked_vm checks as an ioctl */
  private syscall(e: ExportEvent, p: Proc): void {
    const s = this.newStep(e, p.index, p.host);
    const a = e.args ?? {};
    const host = this.input.hosts[p.host]!;
    const ret = e.ret ?? 0;
    const op = e.op ?? 'syscall';
    const result = this.test(`${this.at(e)}${op}(…) = ${retText(ret, e.errno)}`);
    const lv = (e.lockedVm ?? {})[String(p.pid)] ?? 0;
    const lvTest = this.test(`${this.at(e)}locked_vm of ${p.name} = ${lv} pages`);
    s.tests.push(result, lvTest);
    this.lastLockedVm.set(p.pid, lv);
    if (op !== 'mlock' && op !== 'munlock') {
      const why = `the exporter does not know the system call '${op}'`;
      s.body.push(`tap_skip(${result.n}, ${cString(why)});`, `tap_skip(${lvTest.n}, ${cString(why)});`);
      return;
    }
    const v = big(a.addr, 'addr');
    const size = big(a.size, 'size');
    const t = this.addr(p, v, size);
    result.desc = tapText(
      `${this.at(e)}${op}(${t.note.startsWith('outside') ? hex(v) : t.note}, ${hex(size)}) = ${retText(ret, e.errno)}`,
    );
    s.body.push(
      `/* mlock'ed pages count in locked_vm (VmLck) like VFIO's charges (kernel-model.md §13.10.3) */`,
      `long r = ${op}((void *)(uintptr_t)${t.expr}, ${u64(size)}) ? -errno : 0;`,
      `check_call(${result.n}, r, ${cRet(ret, e.errno)}, NULL, 0);`,
      `check_locked_vm(${lvTest.n}, 0, ${lv}, ${host.pageSize});`,
    );
  }

  /** a hypercall is the guest's action, its handling by QEMU the VMM's: comments and a skipped check */
  private hcall(e: ExportEvent, p: Proc): void {
    const s = this.newStep(e, p.index, p.host);
    const a = e.args ?? {};
    const show = (k: string, v: unknown): string =>
      Array.isArray(v)
        ? `${k} [${v.length} entries]`
        : `${k} ${typeof v === 'bigint' || (typeof v === 'number' && k !== 'npages') ? hex(v) : String(v)}`;
    const args = Object.entries(a)
      .filter(([k]) => k !== 'hcall')
      .map(([k, v]) => show(k, v))
      .join(', ');
    s.comment.push(
      `Hypercall ${e.op ?? ''}(${args}) -> ${e.name ?? e.ret}, handled by ${e.handledBy ?? '?'} in the emulator.`,
      'A host program cannot issue it: only a guest can, and only QEMU handles what KVM passes up.',
    );
    this.skip(
      s,
      `${this.at(e)}${e.op ?? 'hcall'}(${args}) = ${e.name ?? e.ret} (handled by ${e.handledBy ?? '?'})`,
      e.handledBy === 'qemu' && e.ret !== 9999
        ? "QEMU's handling of a hypercall is the VMM's action, not a host call"
        : "a hypercall is the guest's action: a host program cannot issue it",
    );
  }

  /** locked_vm of other processes that this event changed (e.g. an adopted container's charges) */
  private lockedVmElsewhere(e: ExportEvent, actor: Proc): void {
    const s = this.steps.at(-1);
    if (!s || s.event !== e) return;
    const checkedInStep = e.kind === 'ioctl' || e.kind === 'syscall';
    for (const [pidText, lv] of Object.entries(e.lockedVm ?? {})) {
      const p = this.procs.get(Number(pidText));
      if (!p || !p.alive) continue;
      const before = this.lastLockedVm.get(p.pid);
      this.lastLockedVm.set(p.pid, lv);
      if (before === lv || (p === actor && checkedInStep)) continue;
      if (s.tests.length && s.body.some((l) => l.startsWith('tap_skip('))) continue; // a skipped step
      const host = this.input.hosts[p.host]!;
      const t = this.test(`${this.at(e)}locked_vm of ${p.name} = ${lv} pages after ${e.op ?? e.kind}`);
      s.tests.push(t);
      s.after.push(`check_locked_vm(${t.n}, child_pid[${p.index}], ${lv}, ${host.pageSize});`);
    }
  }

  // ---- writing the program ----

  private write(): string {
    const { input } = this;
    const nTests = this.nextTest - 1;
    const o: string[] = [];
    const hostsText = input.hosts.map(
      (h, i) =>
        ` *   host ${i + 1}: kernel profile ${h.kernel}, ${h.pageSize}-byte pages, ${sizeText(h.ramSize)} RAM, EEH ${h.eeh ? 'on' : 'off'}; ` +
        h.phbs
          .map(
            (p) =>
              `PHB ${p.id} ${p.model} (32-bit window ${hex(p.tce32Start)}+${sizeText(p.tce32Size)}, pgsizes ${hex(p.pgsizes)})`,
          )
          .join(', '),
    );
    const groupsText = this.groups.map(
      (g, i) =>
        ` *   $${i + 1}: ${g.name} (host ${g.host + 1}), device${g.devices.length > 1 ? 's' : ''} ${g.devices.join(', ')}`,
    );
    o.push(
      `/*`,
      ` * ${cComment(input.scenario)} as a program for a real POWER host — written by \`dmawb export-c\`${input.generator ? ` (${cComment(input.generator)})` : ''}.`,
      ` *`,
      ` * It issues the scenario's calls in the scenario's order and checks each result, and the calling process's`,
      ` * locked_vm (VmLck: in /proc/self/status), against what the emulated host returned under the`,
      ` * ${cComment(input.kernel)} profile. Output is TAP; exit status 0 all matched, 1 a mismatch, 2 bailed out (no /dev/vfio,`,
      ` * a missing IOMMU group, no permission, memory that cannot be mapped or locked).`,
      ` *`,
      ` *   cc -std=gnu11 -Wall -Wextra -Werror -o repro repro.c && sudo ./repro${this.groups.map((_, i) => ` GROUP${i + 1}`).join('')}`,
      ` *`,
      ` * Run it as root on a host whose IOMMU groups are bound to vfio-pci: every emulated group gets a real`,
      ` * group number on the command line, in the order the scenario adds them:`,
      ...(groupsText.length ? groupsText.map(cComment) : [' *   (none)']),
      ` * Emulated processes are forked children with their own RLIMIT_MEMLOCK; CAP_IPC_LOCK is dropped where`,
      ` * the scenario's process lacks it (a program cannot grant it: where the scenario's process has it, the`,
      ` * program must run with it). Memory is mmap'ed at the scenario's sizes; the kernel picks the addresses,`,
      ` * so user addresses are passed as the same offset into the same mapping.`,
      ` *`,
      ` * The emulated host${input.hosts.length > 1 ? 's' : ''} (facts a real host decides for itself; GET_INFO compares them):`,
      ...hostsText.map(cComment),
      ` * The emulated run: ${input.events.length} events, expectations ${input.expectations.passed} passed, ${input.expectations.failed} failed.`,
      ...this.preNotes.map((n) => ` * ${cComment(n)}`),
      ` */`,
      '#define _GNU_SOURCE',
      ...[
        'dirent.h',
        'errno.h',
        'fcntl.h',
        'inttypes.h',
        'signal.h',
        'stdarg.h',
        'stdint.h',
        'stdio.h',
        'stdlib.h',
        'string.h',
        'sys/ioctl.h',
        'sys/mman.h',
        'sys/prctl.h',
        'sys/resource.h',
        'sys/socket.h',
        'sys/syscall.h',
        'sys/types.h',
        'sys/uio.h',
        'sys/wait.h',
        'unistd.h',
        'linux/vfio.h',
        ...(this.usesKvm ? ['linux/kvm.h'] : []),
      ].map((h) => `#include <${h}>`),
      '',
      ...(this.usesKvm ? KVM_PPC_TYPES : []),
      '#ifndef MAP_HUGE_SHIFT',
      '#define MAP_HUGE_SHIFT 26',
      '#endif',
      '#define RT static __attribute__((unused))',
      '',
      `#define NTESTS ${nTests}`,
      `#define NSTEPS ${this.steps.length}`,
      `#define NPROCS ${this.procList.length}`,
      `#define NGROUPS ${this.groups.length}`,
      `#define NHOSTS ${input.hosts.length}`,
      `#define GROUP_USAGE ${cString(this.groups.map((g, i) => `$${i + 1} for ${g.name}`).join(', ') || 'none')}`,
      '',
      'struct step {',
      '\tint proc; /* the emulated process (forked child) that runs it; -1: the parent */',
      '\tint host;',
      '\tvoid (*fn)(void);',
      '\tvoid (*after)(void); /* parent: locked_vm of other processes after the step */',
      '\tint first_test, tests;',
      '};',
      'RT const struct step steps[NSTEPS > 0 ? NSTEPS : 1];',
      '',
      'RT const char *const test_desc[NTESTS + 1] = {',
      '\t"",',
      ...this.allTests().map((t) => `\t/* ${t.n} */ ${cString(t.desc)},`),
      '};',
      '',
      `RT const char *proc_name[NPROCS > 0 ? NPROCS : 1] = { ${this.procList.map((p) => cString(p.name)).join(', ') || '""'} };`,
      'RT pid_t child_pid[NPROCS > 0 ? NPROCS : 1];',
      'RT int child_sock[NPROCS > 0 ? NPROCS : 1];',
      `RT int container_fd[${this.maxContainer + 1}];`,
      'RT int group_fd[NGROUPS > 0 ? NGROUPS : 1];',
      `RT uint8_t *map_base[${Math.max(1, this.mappings.length)}];`,
      'RT int kvm_fd = -1;',
      'RT const char *host_skip[NHOSTS > 0 ? NHOSTS : 1];',
      'RT char host_skip_buf[NHOSTS > 0 ? NHOSTS : 1][160];',
      ...[...this.handles].map((h) => `RT int ${h} = -1;`),
      '',
      '/* a user address of the scenario: the same offset into the same mapping, here */',
      '#define ADDR(m, off) ((uint64_t)(uintptr_t)map_base[m] + (uint64_t)(off))',
      '',
      RUNTIME_C,
      '/* ---- the host facts -------------------------------------------------------------------------------- */',
      '',
    );
    for (const h of this.hostTests) {
      o.push(`static void host_${h.host + 1}(void)`, '{', ...h.lines.map((l) => '\t' + l), '}', '');
    }
    o.push(
      "/* ---- the steps: one function per recorded event, in the scenario's order ----------------------- */",
      '',
    );
    for (const n of this.preNotes.length ? [] : []) o.push(n);
    for (const s of this.steps) {
      o.push('/*', ...s.comment.map((c) => ` * ${cComment(c)}`), ' */');
      o.push(`static void step_${s.index + 1}(void)`, '{', ...s.body.map((l) => '\t' + l), '}');
      if (s.after.length)
        o.push(`static void after_${s.index + 1}(void)`, '{', ...s.after.map((l) => '\t' + l), '}');
      for (const n of s.notes) o.push(`/* ${cComment(n)} */`);
      o.push('');
    }
    o.push(
      'RT const struct step steps[NSTEPS > 0 ? NSTEPS : 1] = {',
      ...this.steps.map(
        (s) =>
          `\t{ ${s.proc}, ${s.host}, step_${s.index + 1}, ${s.after.length ? `after_${s.index + 1}` : 'NULL'}, ${s.tests[0]?.n ?? 0}, ${s.tests.length} },`,
      ),
      ...(this.steps.length ? [] : ['\t{ -1, 0, NULL, NULL, 0, 0 },']),
      '};',
      '',
      'int main(int argc, char **argv)',
      '{',
      '\tsetvbuf(stdout, NULL, _IOLBF, 0);',
      '\tfor (int i = 0; i < NPROCS; i++)',
      '\t\tchild_sock[i] = -1;',
      `\tfor (int i = 0; i < ${this.maxContainer + 1}; i++)`,
      '\t\tcontainer_fd[i] = -1;',
      '\tfor (int i = 0; i < NGROUPS; i++)',
      '\t\tgroup_fd[i] = -1;',
      '\tprintf("TAP version 13\\n");',
      '\tcheck_environment(argc, argv);',
      '\tprintf("1..%d\\n", NTESTS);',
      ...this.hostTests.map((h) => `\thost_${h.host + 1}();`),
      '\tfor (int i = 0; i < NSTEPS; i++) {',
      '\t\trun_step(i);',
      '\t\tif (steps[i].after && !host_skip[steps[i].host]) {',
      '\t\t\tsteps[i].after();',
      '\t\t\ttotal_mismatches += mismatches;',
      '\t\t\tmismatches = 0;',
      '\t\t}',
      '\t}',
      '\tfor (int i = 0; i < NPROCS; i++)',
      '\t\tend_proc(i);',
      '\ttotal_mismatches += mismatches;',
      '\tprintf("# %d of %d checks did not match the emulated host\\n", total_mismatches, NTESTS);',
      '\treturn total_mismatches ? 1 : 0;',
      '}',
      '',
    );
    return o.join('\n');
  }

  private allTests(): Test[] {
    return [...this.hostTests.flatMap((h) => h.tests), ...this.steps.flatMap((s) => s.tests)].sort(
      (a, b) => a.n - b.n,
    );
  }
}

/** The C program for a completed run (scenario-api.md §4.3). Throws ExportError on events it cannot read. */
export function generateC(input: ExportInput): string {
  return new Generator(input).generate();
}
