/**
 * The typed contract between the renderer and the host side (Electron main, or the browser-mode server):
 * every request channel with its request and response, every event channel with its payload, declared
 * once with runtime schemas (valibot). Main validates every request against these schemas before
 * anything runs; the preload and the WebSocket bridge expose exactly these channels as named functions.
 *
 * Wire values are JSON-safe: bigints travel as "0x…" hex strings (engine/snapshot.ts jsonSafe).
 * This file imports nothing but valibot, so every layer may use it.
 */
import { KERNEL_NAMES, type KernelName } from './kernels.ts';
import * as v from 'valibot';

export const CHANNEL_PREFIX = 'dmawb:';

const name = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(200),
  v.regex(/^[^/\\\0]+\.ts$/, 'must be a file name ending in .ts, without folders'),
);
const text = v.pipe(v.string(), v.maxLength(2 * 1024 * 1024, 'is larger than 2 MiB'));
const id = v.pipe(v.string(), v.regex(/^[a-z]+-[0-9]+$/, 'must be an id such as "run-3"'), v.maxLength(40));
const seq = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(100_000_000));
const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const hex = v.pipe(
  v.string(),
  v.regex(/^0x[0-9a-f]{1,16}$/, 'must be a hex string such as "0x800000000000000"'),
);
const kernel = v.picklist(KERNEL_NAMES);

/**
 * The wire form of an engine value, ONE mapped type for every shape that crosses the contract: bigints
 * travel as "0x…" hex strings (engine/snapshot.ts jsonSafe, common/format.ts hex), everything else as it
 * is, arrays and objects field by field, an untyped value (`unknown`) as any JSON. common/ names no engine type (it imports nothing but valibot), so
 * the sides that know both apply it: engine/snapshot.ts `jsonSafe<T>(x: T): Wire<T>`, and host/ checks at
 * compile time that what it sends (Wire<RunEvent>, the state rows) fits the shapes declared here.
 */
export type Wire<T> = unknown extends T
  ? WireJson
  : T extends bigint
    ? string
    : T extends string | number | boolean | null | undefined
      ? T
      : T extends readonly (infer U)[]
        ? Wire<U>[]
        : T extends object
          ? { [K in keyof T]: Wire<T[K]> }
          : T;

/** any JSON value as it travels; Wire<T> of an engine value is one */
export type WireJson = string | number | boolean | null | WireJson[] | { [k: string]: WireJson | undefined };

/**
 * inspect.event's event: the engine's RunEvent (engine/events.ts) as Wire<RunEvent>, every field of it
 * (arguments, deltas, locked_vm breakdown). The contract states the fields every event has; the rest is
 * JSON. host/engine-service.ts declares its reply as Wire<RunEvent>, so an engine event that stops
 * fitting this is a compile error there.
 */
export type InspectEvent = {
  seq: number;
  kind: EventRow['kind'];
  line?: number;
  [field: string]: WireJson | undefined;
};

/** a source of inspectable state: a run (by id) or an imported snapshot (by id) */
const source = v.strictObject({ source: id });
const windowRef = v.strictObject({ source: id, seq, container: count, slot: v.picklist([0, 1]) });
/** one step of a source: the state after event `seq` (an imported snapshot has one step) */
const step = v.strictObject({ source: id, seq });

/** One compact row per event, enough for the event log, the problems summary and the graph. */
export const EventRow = v.object({
  seq: count,
  line: v.optional(count),
  kind: v.picklist(['ioctl', 'action', 'hcall', 'syscall', 'expect', 'log']),
  pid: v.optional(count),
  op: v.string(),
  /** decoded arguments, addresses and sizes in hex */
  args: v.string(),
  /** "0", "1", "-16 EBUSY"; for expectations "ok"/"FAILED" */
  result: v.string(),
  errno: v.optional(v.string()),
  failed: v.boolean(),
  /** locked_vm per pid after the event (pages) */
  lockedVm: v.record(v.string(), v.number()),
  explain: v.string(),
  /**
   * the kernel function that decided the result (engine/cite.ts): `file` a source path, `fn` the function,
   * `doc` its section of the reference, "docs/kernel/<page>.md#<anchor>"; absent for logs, expectations
   * and events of older snapshots
   */
  cite: v.optional(v.object({ file: v.string(), fn: v.string(), doc: v.optional(v.string()) })),
  /** RLIMIT_MEMLOCK in pages of each pid whose limit this event set or changed (spawn, setrlimit) */
  memlockPages: v.optional(v.record(v.string(), v.number())),
  /**
   * expectations of an imported capture (label "file:line …", `dmawb import`): what the real host
   * recorded beside what the emulated host gave, and whether they differ
   */
  recorded: v.optional(
    v.object({ at: v.string(), recorded: v.string(), emulated: v.string(), differs: v.boolean() }),
  ),
});
export type EventRow = v.InferOutput<typeof EventRow>;

export const RunSummary = v.object({
  source: id,
  ok: v.boolean(),
  expectations: v.object({ passed: count, failed: count }),
  events: count,
  peakLockedVm: v.record(v.string(), v.number()),
  error: v.nullable(
    v.object({ message: v.string(), line: v.optional(count), column: v.optional(count), kind: v.string() }),
  ),
  durationMs: v.number(),
  /** the scenario pinned its kernel in createHost({ kernel }) (the first host that did, and its line) */
  pinned: v.optional(v.object({ kernel: v.string(), line: v.optional(count) })),
});
export type RunSummary = v.InferOutput<typeof RunSummary>;

/**
 * Request channels: name → [request schema, response type]. Responses are produced by trusted code and
 * are typed only; requests are validated.
 */
export const requests = {
  /** app name, version, and whether this is the desktop app or browser mode */
  'app.info': v.strictObject({}),
  /** the workspace folder and its scenario files */
  'workspace.list': v.strictObject({}),
  'workspace.read': v.strictObject({ name }),
  /**
   * autosave: atomic write (temp file + rename) of a scenario the user is editing. `base`: the hash
   * (workspace.read / write reply) of the text the editor last loaded or saved; if the file on disk is no
   * longer that text (edited or deleted outside), the write is refused with code 'conflict'.
   */
  'workspace.write': v.strictObject({
    name,
    text,
    base: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex'))),
  }),
  /** a new scenario file; refuses to overwrite an existing one */
  'workspace.create': v.strictObject({ name, text: v.optional(text) }),
  /** desktop: native folder picker; browser mode: refused */
  'workspace.choose': v.strictObject({}),
  /** starts a run; events stream on 'run.events', the end on 'run.done' */
  'run.start': v.strictObject({ source: text, filename: name, kernel }),
  'run.stop': v.strictObject({ source: id }),
  /** full detail of one event (arguments, deltas, breakdown) */
  'inspect.event': v.strictObject({ source: id, seq }),
  /** rows of the event log, for sources without streaming (imported snapshots) or to refill */
  'inspect.rows': v.strictObject({ source: id, from: seq, count: v.pipe(count, v.maxValue(100_000)) }),
  /**
   * the event log's search: the indices, among the `count` events from index `from`, of those whose op,
   * arguments, result or explanation contain `text` (case-insensitive); the renderer keeps no full rows
   */
  'inspect.search': v.strictObject({
    source: id,
    text: v.pipe(v.string(), v.minLength(1, 'is empty'), v.maxLength(200, 'is longer than 200 characters')),
    from: seq,
    count: v.pipe(count, v.maxValue(1_000_000)),
  }),
  /** the state after an event: processes, regions, groups, containers, windows (without TCE contents) */
  'inspect.state': v.strictObject({ source: id, seq }),
  /** a page of a window's entries; validOnly pages through valid entries */
  'inspect.entries': v.strictObject({
    ...windowRef.entries,
    from: count,
    count: v.pipe(count, v.maxValue(10_000)),
    validOnly: v.boolean(),
  }),
  'inspect.occupancy': v.strictObject({
    ...windowRef.entries,
    buckets: v.pipe(count, v.minValue(1), v.maxValue(4096)),
  }),
  /** slot index of an IOVA or user address, -1 if none */
  'inspect.find': v.strictObject({ ...windowRef.entries, iova: v.optional(hex), ua: v.optional(hex) }),
  /** locked_vm over the run per process, stacked by contributor, with the limit and failed calls */
  /** with `buckets`: thinned for drawing (host/downsample.ts), every refused call's point kept */
  'inspect.lockedVm': v.strictObject({
    ...source.entries,
    pid: count,
    buckets: v.optional(v.pipe(count, v.minValue(1), v.maxValue(100_000))),
  }),
  /** exports: the text of the file; the host side saves it (desktop dialog) or the renderer downloads it */
  'export.snapshot': v.strictObject({ source: id, seq, includeEvents: v.boolean() }),
  'export.report': v.strictObject({ source: id, seq }),
  'export.csv': v.strictObject({ ...windowRef.entries }),
  /** the scenario as a C program for a real host (scenario-api.md §4.3): runs it (queued), then writes it */
  'export.c': v.strictObject({ source: text, filename: name, kernel }),
  /** desktop: save dialog + atomic write; nothing is overwritten unless the user chose the file */
  'file.saveAs': v.strictObject({
    suggestedName: v.pipe(v.string(), v.maxLength(200)),
    text: v.pipe(v.string(), v.maxLength(256 * 1024 * 1024)),
  }),
  /** desktop: open dialog, returns the chosen file's text (size-limited) */
  'file.open': v.strictObject({}),
  /** imports a snapshot's text; validated strictly; returns a source id to inspect it like a run */
  'snapshot.import': v.strictObject({
    text: v.pipe(v.string(), v.maxLength(64 * 1024 * 1024, 'is larger than the 64 MiB import limit')),
  }),
  /** what changed from step a to step b (product.md workflow 6): engine/snapshot.ts diffStates lines */
  'inspect.compare': v.strictObject({ a: step, b: step }),
  /**
   * runs a scenario under 4.2 and under mainline (queued behind other runs, not streamed) and aligns
   * their ioctl calls as a diff (engine/profile-compare.ts; product.md workflow 7): where the results diverge
   */
  'run.compare': v.strictObject({
    source: text,
    filename: name,
    /** the two profiles to compare (default 4.2 and mainline) */
    profiles: v.optional(
      v.pipe(
        v.tuple([kernel, kernel]),
        v.check(([a, b]) => a !== b, 'must name two different profiles'),
      ),
    ),
  }),
  /**
   * `dmawb size` in the workbench (scenario-api.md §4.1): the scenario sized in the engine worker — one
   * run with RLIMIT_MEMLOCK unchecked, then the reruns at each process's minimum and one page below —
   * queued behind the runs started so far, each rerun under a run's time budget, stopped with run.stop of
   * the id it answers at once ("size-3"). The result arrives on 'memlock.done'.
   */
  'memlock.size': v.strictObject({ source: text, filename: name, kernel }),
  /**
   * `dmawb import` in the workbench (scenario-api.md §4.2): capture texts in, a scenario text out (the
   * renderer writes it into the workspace and opens it). Host facts as the CLI flags.
   */
  'capture.import': v.strictObject({
    files: v.pipe(
      v.array(
        v.strictObject({
          name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
          text: v.pipe(v.string(), v.maxLength(64 * 1024 * 1024, 'is larger than the 64 MiB import limit')),
        }),
      ),
      v.minLength(1, 'needs at least one capture'),
      v.maxLength(16, 'takes at most 16 captures'),
    ),
    kernel: v.optional(kernel),
    pageSize: v.optional(v.picklist([4096, 65536])),
    memlock: v.optional(
      v.pipe(v.string(), v.regex(/^(\d{1,20}|unlimited)$/, 'must be bytes or "unlimited"')),
    ),
    ram: v.optional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, 'must be a number of bytes'))),
  }),
} as const;

export type RequestChannel = keyof typeof requests;
export type RequestOf<C extends RequestChannel> = v.InferInput<(typeof requests)[C]>;

export interface ProcessRow {
  pid: number;
  name: string;
  host: number;
  lockedVm: number;
  memlock: string;
  exited: boolean;
  breakdown: Record<string, number>;
}
export interface WindowRow {
  container: number;
  slot: number;
  table: number;
  startAddr: string;
  pageShift: number;
  size: string;
  levels: number;
  entries: number;
  valid: number;
  borrowed: boolean;
}
/** A KVM TCE table (kernel-model.md §13): the guest's view of a DMA window, by LIOBN. */
export interface KvmTableRow {
  id: number;
  pid: number;
  vm: number;
  liobn: string;
  pageShift: number;
  startAddr: string;
  entries: string;
  chargedPages: number;
  /** the VFIO hardware windows it feeds (SET_SPAPR_TCE) */
  links: { container: number; slot: number }[];
  /** guest entries set */
  valid: number;
  /** guest entries as linear runs (value + i*step), the first KVM_ROWS_MAX of them */
  runs: { start: number; count: number; value: string; step: number }[];
}
/** how many runs of a KVM table a StateView carries */
export const KVM_ROWS_MAX = 500;
export interface StateView {
  seq: number;
  hosts: { id: number; kernel: string; pageSize: number }[];
  processes: ProcessRow[];
  regions: {
    pid: number;
    id: number;
    ua: string;
    size: string;
    entries: number;
    used: number;
    mapped: number;
    pageShift?: number;
    containers: number[];
  }[];
  groups: { id: number; name: string; phb: number; container: number | null; owner: 'kernel' | 'vfio' }[];
  containers: {
    id: number;
    pid: number | null;
    iommu: 'none' | 'v1' | 'v2';
    enabled: boolean;
    defaultWindowPending: boolean;
    groups: number[];
    mm: number | null;
    fdOpen: boolean;
  }[];
  windows: WindowRow[];
  /** KVM TCE tables, when the run has any */
  kvmTables?: KvmTableRow[];
}
export interface EntryRow {
  index: number;
  iova: string;
  value: string;
  hpa: string;
  perm: number;
  ua: string;
  region: number | null;
}
export interface LockedVmSeries {
  pid: number;
  /** RLIMIT_MEMLOCK in pages at each point (it can be changed by the scenario) */
  limit: number[];
  seq: number[];
  total: number[];
  /** contributor name → pages at each point */
  stacks: Record<string, number[]>;
  /** seqs of failed calls and failed expectations of this process */
  failed: number[];
  /** present when the request asked for buckets: how many, and how many points there were before */
  downsampled?: { buckets: number; points: number };
  /**
   * charges of this process RLIMIT_MEMLOCK refused (engine/memory.ts MemlockRefusal), pages: locked_vm
   * before the charge, the charge, the limit the check used — the graph draws each from lockedVm to
   * lockedVm + charge across the limit line
   */
  refusals?: { seq: number; lockedVm: number; charge: number; limit: number }[];
}

/** memlock sizing: one verification rerun as one process saw it (engine/memlock.ts VerifyRun) */
export interface MemlockVerifyView {
  /** the RLIMIT_MEMLOCK the rerun forced on the process, bytes (decimal) */
  memlockBytes: string;
  /** the process's first refused charge in that rerun, with its why */
  refusal: {
    seq: number;
    line: number | null;
    op: string;
    chargePages: number;
    lockedVmPages: number;
    limitPages: number;
    explain: string;
  } | null;
  events: number;
  /** the rerun could not complete */
  error: string | null;
}
/** libvirt's ppc64 limit for the process's guest, term by term, against the peak (engine/libvirt.ts) */
export interface MemlockLibvirtView {
  /** what decided the value: <hard_limit>, <locked/>, a TCG domain, or the formula */
  source: 'hard_limit' | 'locked' | 'tcg' | 'formula';
  /** bytes (decimal); null: unlimited */
  limitBytes: string | null;
  inputs: {
    memoryKiB: string;
    maxMemoryKiB: string;
    phbs: number;
    passthrough: number;
    nvlink2: boolean;
    hardLimitKiB: string | null;
    locked: boolean;
    accel: string;
  };
  terms: { id: string; label: string; formula: string; kib: string; used: boolean; covers: string }[];
  /** per kernel charge group: what the peak holds and what the used terms allow, bytes (decimal) */
  groups: { group: string; needBytes: string; allowBytes: string }[];
  enough: boolean;
  /** limit − need, bytes (decimal, negative when short); null when unlimited */
  marginBytes: string | null;
  /** the groups that exceed their terms, largest first, with the terms meant for them */
  shortTerms: { group: string; terms: string[]; byBytes: string }[];
  /** the verdict in a sentence or two */
  text: string;
}
/** memlock sizing of one process (scenario-api.md §4.1) */
export interface MemlockProcessView {
  pid: number;
  name: string;
  pageSize: number;
  peakPages: number;
  /** the event of the sizing run that reaches the peak (0: nothing charged), its line and operation */
  peakSeq: number;
  peakLine: number | null;
  peakOp: string | null;
  /** contributors at the peak, non-zero ones, in stacking order (common/contributors.ts keys) */
  parts: { key: string; pages: number }[];
  /** the smallest soft RLIMIT_MEMLOCK with no refusal: bytes (decimal); also pages (= peakPages) */
  minMemlockBytes: string;
  atLimit: MemlockVerifyView | null;
  onePageBelow: MemlockVerifyView | null;
  verified: boolean;
  libvirt: MemlockLibvirtView | null;
}
/** memlock.done: the result of a memlock.size job */
export interface MemlockSizing {
  scenario: string;
  /** the profile asked for */
  kernel: ProfileName;
  /** createHost({ kernel }) in the scenario: the sizing ran under that profile */
  pinned?: { kernel: string; line?: number };
  /** when the sizing finished (ISO 8601) */
  at: string;
  durationMs: number;
  processes: MemlockProcessView[];
  /** `dmawb size`'s text output for the same result */
  text: string[];
}

/** inspect.compare: one side's label and the counts of the diff's lines */
export interface CompareSummary {
  /** "qemu-v2-ddw.ts · mainline · after seq 12" */
  a: string;
  b: string;
  added: number;
  removed: number;
  changed: number;
  /** no differences */
  identical: boolean;
}

/** run.compare: one profile's ioctl call in an aligned row */
export interface ProfileCall {
  seq: number;
  line?: number;
  pid: number;
  op: string;
  args: string;
  /** "0", "-12 ENOMEM" */
  result: string;
  errno: string | null;
  /** locked_vm of the calling process after the call (pages) */
  lockedVm: number | null;
}
export type ProfileName = KernelName;
export interface ProfileCompareRow {
  /** 0-based position of the row in the alignment (with index alignment, also the call's index in each run) */
  index: number;
  /** keyed by the two compared profiles; null: this run made no call here (an extra call of the other run) */
  calls: Partial<Record<ProfileName, ProfileCall | null>>;
  /** fields that differ: op, args, result, lockedVm, or "missing" */
  differs: string[];
}
export interface ProfileRunSummary {
  kernel: ProfileName;
  ok: boolean;
  expectations: { passed: number; failed: number };
  events: number;
  ioctls: number;
  failedCalls: number;
  peakLockedVm: Record<string, number>;
  error: { message: string; line?: number; column?: number; kind: string } | null;
  /** the scenario pinned its kernel in createHost({ kernel }): this run used that profile, not `kernel` */
  pinned?: { kernel: string; line?: number };
}
export interface ProfileComparison {
  filename: string;
  /** aligned rows: every row when there are at most ROWS_MAX (engine/profile-compare.ts), else the differing ones */
  rows: ProfileCompareRow[];
  /** number of aligned rows */
  total: number;
  /** how many rows differ */
  differing: number;
  /** index of the first row whose results, locked_vm or presence differ; null when the runs agree call for call */
  firstDivergence: number | null;
  /** aligned rows left out of `rows` */
  omitted: number;
  /** keyed by the two compared profiles */
  summaries: Partial<Record<ProfileName, ProfileRunSummary>>;
  /** the two profiles compared, oldest first (any two of KERNEL_NAMES; default 4.2 and mainline) */
  profiles: [ProfileName, ProfileName];
  /**
   * how calls were aligned: `diff` pairs calls with the same op, arguments and scenario line (a shortest
   * edit script); `index` pairs the n-th call of each run (huge or wildly different runs; `note` says
   * why). `paired`: rows with a call on both sides; `only`: calls each run made that the other did not.
   */
  alignment?: {
    method: 'diff' | 'index';
    paired: number;
    only: Partial<Record<ProfileName, number>>;
    note?: string;
  };
}

export interface Responses {
  'app.info': { name: string; version: string; mode: 'electron' | 'browser'; workspace: string };
  'workspace.list': { folder: string; files: { name: string; size: number }[] };
  /** hash: SHA-256 (hex) of the file's bytes, to pass back as workspace.write's `base` */
  'workspace.read': { name: string; text: string; hash?: string };
  'workspace.write': { name: string; bytes: number; hash?: string };
  'workspace.create': { name: string };
  'workspace.choose': { folder: string } | { cancelled: true };
  'run.start': { source: string };
  'run.stop': { stopped: boolean };
  'inspect.event': { event: InspectEvent };
  'inspect.rows': { rows: EventRow[]; total: number };
  'inspect.search': { indices: number[]; total: number };
  'inspect.state': StateView;
  'inspect.entries': { total: number; rows: EntryRow[] };
  'inspect.occupancy': { buckets: number[] };
  /**
   * `index`: the slot of the entry, -1 if none. `validIndex`: its position in the valid-only list
   * (inspect.entries with validOnly), -1 if the entry is empty or there is none.
   */
  'inspect.find': { index: number; validIndex: number };
  'inspect.lockedVm': LockedVmSeries;
  'export.snapshot': { suggestedName: string; text: string };
  'export.report': { suggestedName: string; text: string };
  'export.csv': { suggestedName: string; text: string };
  'export.c': { suggestedName: string; text: string };
  'file.saveAs': { path: string } | { cancelled: true };
  'file.open': { name: string; text: string } | { cancelled: true };
  'snapshot.import': { source: string; seq: number; kernel: string; scenario: string; events: number };
  'inspect.compare': { lines: string[]; summary: CompareSummary };
  'run.compare': ProfileComparison;
  /** the sizing job's id; its result arrives on 'memlock.done' */
  'memlock.size': { source: string };
  'capture.import': {
    scenario: string;
    /** a scenario file name for it, from the first capture's name */
    suggestedName: string;
    /** bad input, "file:line: message" */
    problems: string[];
    /** unused lines by kind, "3 comment, 1 unrecognised" */
    skipped: string;
    calls: number;
    checks: number;
  };
}

/** Event channels (host → renderer). */
export interface Events {
  /** a batch of event rows of a running source (at most every 50 ms or 2,000 rows) */
  'run.events': { source: string; rows: EventRow[] };
  'run.done': RunSummary;
  /** a memlock.size job ended: its sizing, or why there is none (kind: compile, runtime, timeout, cancelled, …) */
  'memlock.done': {
    source: string;
    sizing: MemlockSizing | null;
    error: { message: string; line?: number; column?: number; kind: string } | null;
  };
  /** the engine worker died and was restarted; the user's files are untouched */
  'engine.restarted': { reason: string };
  /** desktop only: an application-menu item was chosen; `id` is a command id of common/commands.ts */
  'command.run': { id: string };
}
export type EventChannel = keyof Events;
export const EVENT_CHANNELS: EventChannel[] = [
  'run.events',
  'run.done',
  'memlock.done',
  'engine.restarted',
  'command.run',
];

/**
 * Reply envelope of every request: a value, or an explicit error (never a thrown exception across IPC).
 * 'unsupported': the channel exists but not in this mode (browser mode: workspace.choose, file.saveAs,
 * file.open); the renderer downloads or uploads instead. 'conflict': workspace.write's file changed on
 * disk since the editor loaded it (its `base`); nothing was written, the user chooses.
 */
export type Reply<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      error: { code: 'invalid' | 'failed' | 'unknown-channel' | 'unsupported' | 'conflict'; message: string };
    };

/** Validates a request payload; returns a readable error naming the field, or the parsed value. */
export function validateRequest<C extends RequestChannel>(
  channel: C,
  payload: unknown,
): { ok: true; value: RequestOf<C> } | { ok: false; message: string } {
  const schema = requests[channel];
  if (!schema) return { ok: false, message: `unknown channel ${String(channel)}` };
  const r = v.safeParse(schema, payload);
  if (r.success) return { ok: true, value: r.output as RequestOf<C> };
  const issue = r.issues[0]!;
  const path = v.getDotPath(issue);
  return { ok: false, message: `${channel}: ${path ? `${path} ` : ''}${issue.message}` };
}

export function isRequestChannel(c: unknown): c is RequestChannel {
  return typeof c === 'string' && Object.prototype.hasOwnProperty.call(requests, c);
}

/** The API object the preload and the WebSocket bridge both implement for the renderer. */
export type DmawbApi = {
  [C in RequestChannel]: (req: RequestOf<C>) => Promise<Reply<Responses[C]>>;
} & {
  on<E extends EventChannel>(event: E, fn: (payload: Events[E]) => void): () => void;
};
