/**
 * What `dmawb run` prints (scenario-api.md §4): a readable log line per event and a summary, or one JSON
 * document of format "dmawb-run".
 */
import { docPath } from '../engine/cite.ts';
import { formatRet } from '../engine/errno.ts';
import { EventStore } from '../engine/event-store.ts';
import type { EventList, RunEvent } from '../engine/events.ts';
import { hcallBy } from '../engine/report.ts';
import { formatArgs } from '../common/format.ts';
import type { RunError } from '../runner/run.ts';

// ---- text ----

/** One log line: seq, scenario line, pid, the call with decoded arguments, its result, locked_vm after. */
export function eventLine(e: RunEvent): string {
  return eventLineWith(e);
}

/** eventLine, with advice lines (memlock refusals) under the why */
export function eventLineWith(e: RunEvent, advice?: readonly string[]): string {
  const head = `${String(e.seq).padStart(5)} ${(e.line !== undefined ? `L${e.line}` : '').padEnd(6)}`;
  switch (e.kind) {
    case 'ioctl':
    case 'syscall': {
      // an mlock/munlock prints like an ioctl: the call, its result, locked_vm after, and why when refused
      const lv = e.lockedVm[String(e.pid)];
      const line = `${head} pid ${e.pid}  ${e.op}(${formatArgs(e.args)}) = ${formatRet(e.ret, e.errno)}${lv !== undefined ? `  locked_vm ${lv}` : ''}`;
      // a call that did not simply succeed says why, right under it (the rule and its §)
      const pad = ' '.repeat(head.length + 1);
      const more = advice?.length ? advice.map((a) => `\n${pad}       ${a}`).join('') : '';
      return e.ret !== 0 ? `${line}\n${pad}  why: ${e.explain}${more}${see(e, pad)}` : line;
    }
    case 'action': {
      const lv = e.lockedVm[String(e.pid)];
      return `${head} pid ${e.pid}  ${e.op}(${formatArgs(e.args)})${lv !== undefined ? `  locked_vm ${lv}` : ''}`;
    }
    case 'hcall': {
      // a hypercall names its LIOBN and who answered it: KVM (real or virtual mode) or QEMU (§13.7)
      const lv = e.lockedVm[String(e.pid)];
      const value = e.value !== undefined ? ` value 0x${e.value.toString(16)}` : '';
      const line = `${head} pid ${e.pid}  guest ${e.op}(${formatArgs(e.args)}) = ${e.name} [${hcallBy(e)}]${value}${lv !== undefined ? `  locked_vm ${lv}` : ''}`;
      const pad = ' '.repeat(head.length + 1);
      return e.ret !== 0 ? `${line}\n${pad}  why: ${e.explain}${see(e, pad)}` : line;
    }
    case 'expect':
      return e.ok
        ? `${head} expect ok    ${e.label || '(no label)'}`
        : `${head} expect FAIL  ${e.label || '(no label)'}: expected ${e.expected}, got ${e.actual}`;
    case 'log':
      return `${head} log   ${e.text}`;
  }
}

/** under a why (and its advice): where the project's reference describes the kernel function that decided it */
function see(e: RunEvent, pad: string): string {
  const doc = 'cite' in e && e.cite ? docPath(e.cite) : undefined;
  return doc ? `\n${pad}  see ${doc}` : '';
}

/** `cite` and `doc` of an event (additions to scenario-api.md §4's event fields), when it has a cite */
function citeFields(e: RunEvent): { cite?: string; doc?: string } {
  if (!('cite' in e) || !e.cite) return {};
  const doc = docPath(e.cite);
  return { cite: `${e.cite.file}: ${e.cite.fn}`, ...(doc ? { doc } : {}) };
}

export interface SummaryInput {
  file: string;
  expectations: { passed: number; failed: number };
  peakLockedVm: Record<string, number>;
  /** system page size per pid, when known (for the byte figure) */
  pageSizes: Record<string, number>;
  error: RunError | null;
  /** the profile asked for (--kernel, default mainline) */
  kernel?: string;
  /** createHost({ kernel }) in the scenario, which wins over --kernel */
  pinned?: { kernel: string; line: number | undefined } | undefined;
}

/** "kernel: 4.2 (pinned by createHost({ kernel }) at line 3; --kernel mainline overridden)" */
export function kernelLine(kernel: string, pinned: SummaryInput['pinned']): string {
  if (!pinned) return `kernel: ${kernel}`;
  const at = pinned.line !== undefined ? ` at line ${pinned.line}` : '';
  return pinned.kernel === kernel
    ? `kernel: ${kernel} (pinned by the scenario: createHost({ kernel })${at})`
    : `kernel: ${pinned.kernel} (pinned by the scenario: createHost({ kernel })${at}; --kernel ${kernel} overridden)`;
}

export function summaryText(r: SummaryInput): string {
  const lines = [''];
  if (r.kernel !== undefined) lines.push(kernelLine(r.kernel, r.pinned));
  lines.push(`expectations: ${r.expectations.passed} passed, ${r.expectations.failed} failed`);
  const peaks = Object.entries(r.peakLockedVm);
  if (peaks.length === 0) lines.push('peak locked_vm: no processes');
  for (const [pid, pages] of peaks) {
    const ps = r.pageSizes[pid];
    lines.push(
      `peak locked_vm: pid ${pid}: ${pages} pages${ps ? ` (${bytes(BigInt(pages) * BigInt(ps))})` : ''}`,
    );
  }
  if (r.error)
    lines.push(
      `result: could not complete (${r.error.kind}) at ${where(r.file, r.error)}: ${r.error.message}`,
    );
  else lines.push(`result: ${r.expectations.failed === 0 ? 'passed' : 'failed'}`);
  return lines.join('\n') + '\n';
}

/** "file:line:column" as far as known */
export function where(file: string, e: { line: number | null; column: number | null }): string {
  if (e.line === null) return file;
  return e.column === null ? `${file}:${e.line}` : `${file}:${e.line}:${e.column}`;
}

function bytes(n: bigint): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = Number(n);
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return u === 0 ? `${x} bytes` : `${Number.isInteger(x) ? x : x.toFixed(1)} ${units[u]}`;
}

/** what --quiet prints of a run: calls that returned an error and expectations that failed */
export function isFailure(e: RunEvent): boolean {
  return (e.kind === 'ioctl' && e.ret < 0) || (e.kind === 'expect' && !e.ok);
}

/** --quiet's first summary line: how many events, calls and failed calls the run recorded */
export function quietCounts(events: EventList): string {
  let calls = 0;
  let failed = 0;
  if (events instanceof EventStore) {
    // from the columns: nothing is materialised
    for (let i = 0; i < events.length; i++) {
      if (events.kindAt(i) !== 'ioctl') continue;
      calls++;
      if ((events.retAt(i) ?? 0) < 0) failed++;
    }
  } else
    for (const e of events)
      if (e.kind === 'ioctl') {
        calls++;
        if (e.ret < 0) failed++;
      }
  const n = (x: number) => x.toLocaleString('en-US');
  return `\nevents: ${n(events.length)} recorded, ${n(calls)} ioctl calls, ${n(failed)} returned an error`;
}

// ---- JSON ----

export interface RunDocument {
  format: 'dmawb-run';
  version: 1;
  scenario: string;
  kernel: string;
  ok: boolean;
  expectations: { passed: number; failed: number };
  events: unknown[];
  peakLockedVm: Record<string, number>;
  error: { message: string; line: number | null; column: number | null } | null;
}

/**
 * The run document of runDocument() written in pieces to `write`: the pieces joined are exactly
 * JSON.stringify(runDocument(d)) + "\n", without ever holding the whole text (a million events make a
 * document larger than the longest string V8 can build).
 */
export function writeRunDocument(
  d: Omit<RunDocument, 'format' | 'version' | 'events'> & { events: EventList },
  write: (s: string) => void,
  /** an extra `memlock` object for an event (memlock refusals: the advice), added after its fields */
  memlock?: (e: RunEvent) => unknown,
): void {
  const head = JSON.stringify({ format: 'dmawb-run', version: 1, ...docFields(d) });
  write(head.slice(0, -1) + ',"events":[');
  let i = 0;
  for (const e of d.events) {
    const m = memlock?.(e);
    const j = m === undefined ? jsonEvent(e) : { ...(jsonEvent(e) as object), memlock: m };
    write((i++ ? ',' : '') + JSON.stringify(j));
  }
  const error = d.error && { message: d.error.message, line: d.error.line, column: d.error.column };
  write(`],"peakLockedVm":${JSON.stringify(d.peakLockedVm)},"error":${JSON.stringify(error)}}\n`);
}

/** the fields every run document starts with after its format and version, in the documented order */
function docFields(d: Pick<RunDocument, 'scenario' | 'kernel' | 'ok' | 'expectations'>) {
  return { scenario: d.scenario, kernel: d.kernel, ok: d.ok, expectations: d.expectations };
}

/** --jsonl's first line */
export function startLine(scenario: string, kernel: string): string {
  return JSON.stringify({ format: 'dmawb-run-start', version: 1, scenario, kernel });
}

/** --jsonl's last line: the run document's fields, with the number of events instead of the events */
export function endLine(
  d: Omit<RunDocument, 'format' | 'version' | 'events' | 'error'> & {
    /** null: not known (the run was ended from outside the sandbox) */
    events: number | null;
    error: { message: string; line: number | null; column: number | null } | null;
  },
): string {
  const error = d.error && { message: d.error.message, line: d.error.line, column: d.error.column };
  return (
    JSON.stringify({
      format: 'dmawb-run-end',
      version: 1,
      ...docFields(d),
      events: d.events,
      peakLockedVm: d.peakLockedVm,
      error,
    }) + '\n'
  );
}

export function runDocument(
  d: Omit<RunDocument, 'format' | 'version' | 'events'> & { events: EventList },
  memlock?: (e: RunEvent) => unknown,
): RunDocument {
  return {
    format: 'dmawb-run',
    version: 1,
    ...docFields(d),
    events: d.events.map((e) => {
      const j = jsonEvent(e);
      const m = memlock?.(e);
      return m === undefined ? j : { ...(j as object), memlock: m };
    }),
    peakLockedVm: d.peakLockedVm,
    error: d.error && { message: d.error.message, line: d.error.line, column: d.error.column },
  };
}

/**
 * The documented fields of an event, in the documented order (scenario-api.md §4), plus `out` when an
 * ioctl has output. Deltas, the locked_vm breakdown and the fd are workbench internals and left out.
 */
export function jsonEvent(e: RunEvent): unknown {
  if (e.kind === 'expect' || e.kind === 'log') return jsonNote(e);
  // every call kind: seq, line, pid, kind, op, args, then its own fields, then lockedVm, explain and cite
  const head = { seq: e.seq, line: e.line, pid: e.pid, kind: e.kind, op: e.op, args: jsonValues(e.args) };
  const tail = { lockedVm: e.lockedVm, explain: e.explain, ...citeFields(e) };
  switch (e.kind) {
    case 'ioctl':
      return {
        ...head,
        ret: e.ret,
        errno: e.errno,
        ...(e.out !== undefined ? { out: jsonValues(e.out) } : {}),
        ...tail,
      };
    case 'action':
      return { ...head, ...tail };
    case 'hcall':
      return {
        ...head,
        ret: e.ret,
        name: e.name,
        handledBy: e.handledBy,
        ...(e.mode ? { mode: e.mode } : {}),
        ...(e.value !== undefined ? { value: jsonBigint('value', e.value) } : {}),
        ...tail,
      };
    case 'syscall':
      return { ...head, ret: e.ret, errno: e.errno, ...tail };
  }
}

/** an expectation or a log line: no process, op or locked_vm */
function jsonNote(e: Extract<RunEvent, { kind: 'expect' | 'log' }>): unknown {
  switch (e.kind) {
    case 'expect':
      return {
        seq: e.seq,
        line: e.line,
        kind: e.kind,
        ok: e.ok,
        label: e.label,
        actual: e.actual,
        expected: e.expected,
      };
    case 'log':
      return { seq: e.seq, line: e.line, kind: e.kind, text: e.text };
  }
}

/** sizes and counts by name; every other bigint is an address or a bitmap */
const SIZE_KEY = /(^size|Size|^memlock|Bytes|^count|^entries)$/;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * bigint → JSON (scenario-api.md §4): addresses as hex strings ("0x800000000000000"); sizes and counts
 * as numbers, or decimal strings when they exceed 2^53.
 */
export function jsonBigint(key: string, v: bigint): string | number {
  if (SIZE_KEY.test(key)) return v <= SAFE && v >= -SAFE ? Number(v) : v.toString();
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

export function jsonValues(v: unknown, key = ''): unknown {
  if (typeof v === 'bigint') return jsonBigint(key, v);
  if (Array.isArray(v)) return v.map((x) => jsonValues(x, key));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonValues(x, k);
    return out;
  }
  return v;
}
