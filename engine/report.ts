/**
 * Engine infrastructure: models no kernel file.
 * The human-readable Markdown report of a run (scenario-api.md §4 --report, product.md workflow 6):
 * summary, peak locked_vm and what made it up, every failed call and failed expectation with its
 * explanation, the state at the chosen step, and the event log.
 */
import { docPath } from './cite.ts';
import { formatRet } from './errno.ts';
import { CONTRIBUTORS } from '../common/contributors.ts';
import { formatArgs, hex } from '../common/format.ts';
import type { EventCite, EventList, LockedVmBreakdown, RunEvent } from './events.ts';
import type { WorldState } from './state.ts';

export interface ReportInput {
  scenario: string;
  kernel: string;
  ok: boolean;
  expectations: { passed: number; failed: number };
  error: { message: string; line?: number; column?: number } | null;
  events: EventList;
  /** the state the report describes (usually the end of the run) */
  state: WorldState;
  /** largest number of event rows to list (the rest is summarised) */
  maxRows?: number;
  /** advice lines for an event (memlock refusals: engine/memlock.ts refusalAdvice), shown under its why */
  advice?: (e: RunEvent) => readonly string[] | undefined;
  /** memlock sizing lines (engine/memlock.ts sizeText), shown as their own section */
  sizing?: readonly string[];
}

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function bytesOf(pages: number, pageSize: number): string {
  const b = pages * pageSize;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let x = b;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${Number.isInteger(x) ? x : x.toFixed(1)} ${units[u]}`;
}

/** who answered a hypercall: KVM's real- or virtual-mode handler, or QEMU after an exit (§13.7) */
/** under a problem: the reference section of the kernel function that decided it (docs/kernel/) */
function seeAlso(out: string[], cite: EventCite | undefined): void {
  const doc = cite && docPath(cite);
  if (doc) out.push(`  - see ${doc}`);
}

export function hcallBy(e: { handledBy: 'kernel' | 'qemu'; mode?: 'real' | 'virtual'; ret: number }): string {
  if (e.handledBy === 'kernel') return `KVM ${e.mode ?? 'virtual'} mode`;
  return e.ret === 9999 ? 'exit to QEMU' : 'QEMU';
}

function breakdownText(b: LockedVmBreakdown): string {
  const parts = CONTRIBUTORS.filter((c) => b[c.key]).map((c) => `${c.label} ${b[c.key]}`);
  return parts.join(', ') || 'nothing';
}

export function renderReport(r: ReportInput): string {
  const out: string[] = [];
  const pageSizeOf = (pid: number): number => {
    const p = r.state.processes.find((x) => x.pid === pid);
    return r.state.hosts.find((h) => h.id === p?.host)?.pageSize ?? 65536;
  };
  out.push(`# DMA Workbench report: ${r.scenario}`, '');
  out.push(`- kernel profile: **${r.kernel}**`);
  out.push(
    `- result: **${r.error ? 'could not complete' : r.ok ? 'passed' : 'failed'}**, expectations ${r.expectations.passed} passed, ${r.expectations.failed} failed`,
  );
  out.push(`- events: ${r.events.length}; state shown after event ${r.state.seq}`);
  if (r.error)
    out.push(
      `- error: ${r.error.message}${r.error.line ? ` (line ${r.error.line}${r.error.column ? `, column ${r.error.column}` : ''})` : ''}`,
    );
  out.push('');

  // peak locked_vm and what made it up at the peak
  out.push(
    '## Peak locked_vm',
    '',
    '| pid | peak (pages) | bytes | at event | made up of |',
    '|---|---|---|---|---|',
  );
  const peaks = new Map<string, { lv: number; seq: number; b: LockedVmBreakdown | undefined }>();
  for (const e of r.events) {
    if (e.kind === 'expect' || e.kind === 'log') continue;
    for (const [pid, lv] of Object.entries(e.lockedVm)) {
      const cur = peaks.get(pid);
      if (!cur || lv > cur.lv) peaks.set(pid, { lv, seq: e.seq, b: e.breakdown[pid] });
    }
  }
  for (const [pid, p] of peaks) {
    out.push(
      `| ${pid} | ${p.lv} | ${bytesOf(p.lv, pageSizeOf(Number(pid)))} | ${p.seq} | ${p.b ? breakdownText(p.b) : ''} |`,
    );
  }
  out.push('');

  // the events are read one at a time; a run with more problems than rows lists the first ones
  const max = r.maxRows ?? 2000;
  const problems: RunEvent[] = [];
  let problemCount = 0;
  for (let i = 0; i < r.events.length; i++) {
    const e = r.events.at(i)!;
    const problem =
      ((e.kind === 'ioctl' || e.kind === 'syscall') && e.ret < 0) ||
      (e.kind === 'hcall' && e.ret !== 0 && e.ret !== 9999) ||
      (e.kind === 'expect' && !e.ok);
    if (problem && problemCount++ < max) problems.push(e);
  }
  out.push(`## Problems (${problemCount})`, '');
  if (!problemCount)
    out.push('None: every call succeeded or returned a non-negative value, and every expectation held.');
  for (const e of problems) {
    if (e.kind === 'ioctl' || e.kind === 'syscall') {
      out.push(
        `- event ${e.seq}${e.line ? `, line ${e.line}` : ''}: ${e.op} ${formatArgs(e.args)} → **${formatRet(e.ret, e.errno)}**: ${e.explain}`,
      );
      for (const a of r.advice?.(e) ?? []) out.push(`  - ${esc(a)}`);
      seeAlso(out, e.cite);
    } else if (e.kind === 'hcall') {
      out.push(
        `- event ${e.seq}${e.line ? `, line ${e.line}` : ''}: ${e.op} ${formatArgs(e.args)} → **${e.name}** (${hcallBy(e)}): ${e.explain}`,
      );
      seeAlso(out, e.cite);
    } else if (e.kind === 'expect')
      out.push(
        `- event ${e.seq}${e.line ? `, line ${e.line}` : ''}: expectation failed: ${e.label || '(no label)'}: expected ${e.expected}, got ${e.actual}`,
      );
  }
  if (problemCount > max) out.push('', `(${problemCount - max} more problems not listed)`);
  out.push('');

  if (r.sizing?.length) out.push('## Memlock sizing', '', '```', ...r.sizing, '```', '');

  const s = r.state;
  out.push(`## State after event ${s.seq}`, '');
  out.push('| pid | name | locked_vm | limit | made up of |', '|---|---|---|---|---|');
  for (const p of s.processes) {
    const ps = pageSizeOf(p.pid);
    out.push(
      `| ${p.pid} | ${esc(p.name)}${p.exited ? ' (exited)' : ''} | ${p.lockedVm} (${bytesOf(p.lockedVm, ps)}) | ${Number(p.memlock / BigInt(ps))} pages${p.capIpcLock ? ', CAP_IPC_LOCK' : ''} | ${breakdownText(p.breakdown)} |`,
    );
  }
  if (s.regions.length) {
    out.push(
      '',
      '| region | pid | ua | size | entries | used | mapped | containers |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const x of s.regions)
      out.push(
        `| ${x.id} | ${x.pid} | ${hex(x.ua)} | ${hex(x.size)} | ${x.entries} | ${x.used} | ${x.mapped} | ${x.containers.join(', ') || '(orphaned)'} |`,
      );
  }
  if (s.containers.length) {
    out.push(
      '',
      '| container | iommu | enabled | default window pending | groups |',
      '|---|---|---|---|---|',
    );
    for (const c of s.containers)
      out.push(
        `| ${c.id} | ${c.iommu} | ${c.enabled} | ${c.defaultWindowPending} | ${c.groups.map((g) => s.groups.find((x) => x.id === g)?.name ?? g).join(', ')} |`,
      );
  }
  if (s.windows.length) {
    out.push(
      '',
      '| container | slot | bus range | page | levels | entries | valid TCEs |',
      '|---|---|---|---|---|---|---|',
    );
    for (const w of s.windows) {
      const valid = w.runs.reduce((n, x) => n + x.count, 0);
      out.push(
        `| ${w.container} | ${w.slot} | ${hex(w.startAddr)}..${hex(w.startAddr + w.size - 1n)} | 2^${w.pageShift} | ${w.levels} | ${w.entries} | ${valid} |`,
      );
    }
  }
  if (s.kvmTables?.length) {
    out.push(
      '',
      '| KVM table (LIOBN) | pid | VM | bus range | page | entries | charged pages | feeds | guest entries set |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const t of s.kvmTables) {
      const start = t.offset << BigInt(t.pageShift);
      const set = t.runs.reduce((n, x) => n + x.count, 0);
      const feeds =
        t.links.map((l) => `container ${l.container} slot ${l.slot}`).join(', ') || '(emulated only)';
      out.push(
        `| ${hex(t.liobn)} | ${t.pid} | ${t.vm} | ${hex(start)}..${hex(start + (t.size << BigInt(t.pageShift)) - 1n)} | 2^${t.pageShift} | ${t.size} | ${t.chargedPages} | ${feeds} | ${set} |`,
      );
    }
  }
  out.push('');

  out.push(
    '## Events',
    '',
    '| seq | line | pid | call | result | locked_vm | why |',
    '|---|---|---|---|---|---|---|',
  );
  for (const e of r.events.slice(0, max)) {
    if (e.kind === 'ioctl' || e.kind === 'action' || e.kind === 'syscall' || e.kind === 'hcall') {
      const res =
        e.kind === 'ioctl' || e.kind === 'syscall'
          ? formatRet(e.ret, e.errno)
          : e.kind === 'hcall'
            ? `${e.name} (${hcallBy(e)})${e.value !== undefined ? ` ${hex(e.value)}` : ''}`
            : '';
      out.push(
        `| ${e.seq} | ${e.line ?? ''} | ${e.pid} | ${e.op} ${esc(formatArgs(e.args))} | ${res} | ${e.lockedVm[e.pid] ?? ''} | ${esc(e.explain)} |`,
      );
    } else if (e.kind === 'expect') {
      out.push(
        `| ${e.seq} | ${e.line ?? ''} | | expect: ${esc(e.label)} | ${e.ok ? 'ok' : `**FAILED**: expected ${esc(e.expected)}, got ${esc(e.actual)}`} | | |`,
      );
    } else {
      out.push(`| ${e.seq} | ${e.line ?? ''} | | log | | | ${esc(e.text)} |`);
    }
  }
  if (r.events.length > max) out.push('', `(${r.events.length - max} more events not listed)`);
  return out.join('\n') + '\n';
}
