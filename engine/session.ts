/**
 * Engine infrastructure: models no kernel file.
 * A run of one scenario against the emulated kernel: the hosts it creates, the event log, expectations.
 * The runner (runner/) creates one Session per run and exposes createHost, the expect functions and log
 * to the scenario.
 */
import { ScenarioError, type HostApi, type HostOptions, type KernelName } from './api.ts';
import { Changes } from './changes.ts';
import { EventStore } from './event-store.ts';
import type { RunEvent } from './events.ts';
import { guestOf, HostFacade, toBig } from './facade.ts';
import type { ProcessPeak } from './memlock.ts';
import { Kernel } from './kernel.ts';
import { KVM_HOOKS } from './kvm/facade.ts';
import { PROFILES, profileFor } from './profile.ts';
import { BudgetError, Recorder } from './recorder.ts';
import { CHUNK_BYTES, CHUNK_SIZE, type ChunkMeter } from './tce-table.ts';

export { BudgetError };

export interface SessionOptions {
  /** profile used when createHost() names none (command line --kernel / workbench selector) */
  kernel?: KernelName;
  /**
   * the run stops with BudgetError once this many events were recorded (default: no cap; the run's CPU
   * budget and the host's memory budget bound it, and the log costs well under 200 bytes an event)
   */
  maxEvents?: number;
  /** the store to record into (the engine worker keeps it as the run's event log); default: a new one */
  events?: EventStore;
  /** called synchronously for every event as it is recorded */
  onEvent?: (e: RunEvent) => void;
  /** host memory the run's TCE tables may hold, in bytes (default DEFAULT_TABLE_MEMORY) */
  tableMemoryBytes?: number;
  /**
   * memlock sizing (scenario-api.md §4.1): how RLIMIT_MEMLOCK is checked for each process of the run —
   * not at all ('unchecked', as with CAP_IPC_LOCK: charges are still counted) or against a forced limit.
   * Default: as the kernel does.
   */
  memlock?: MemlockPolicy;
}

/** 1 GiB of TCE tables: 67 million entries, four times the 1 TiB example's fully mapped DDW */
export const DEFAULT_TABLE_MEMORY = 1024 * 1024 * 1024;

/** how a run checks RLIMIT_MEMLOCK: per pid a forced limit in bytes; pids not listed are unchecked */
export type MemlockPolicy = { kind: 'unchecked' } | { kind: 'limits'; limits: Record<number, bigint> };

type IdKind = 'pid' | 'group' | 'container' | 'table' | 'region' | 'phb';

export class Session {
  /** the event log, stored by column (event-store.ts): index it with at(i) */
  readonly events: EventStore;
  /** 1-based scenario line of the API call being executed; the runner sets it before each call */
  line: number | undefined;
  readonly kernel: KernelName;
  readonly hosts: HostFacade[] = [];
  readonly expectations = { passed: 0, failed: 0 };
  /** hosts whose createHost({ kernel }) named the profile (overriding the run's kernel), and where */
  readonly pinned: { kernel: KernelName; line: number | undefined }[] = [];
  private readonly maxEvents: number;
  private readonly onEvent: ((e: RunEvent) => void) | undefined;
  private readonly recorder: Recorder;
  private readonly counters: Record<IdKind, number> = {
    pid: 99,
    group: 0,
    container: 0,
    table: 0,
    region: 0,
    phb: -1,
  };

  /**
   * Charges TCE chunk allocations to the memory budget. The count only grows on allocation; when it
   * would pass the budget it is recounted from the tables still in use (removed windows free theirs), and
   * only a run that really holds that much ends with a BudgetError.
   */
  private readonly meter: ChunkMeter;

  constructor(opts: SessionOptions = {}) {
    const budget = opts.tableMemoryBytes ?? DEFAULT_TABLE_MEMORY;
    let used = 0;
    this.meter = {
      allocate: (bytes) => {
        if (used + bytes > budget) {
          used = 0;
          for (const k of this.recorder.kernels) used += k.liveTableChunks() * CHUNK_BYTES;
          if (used + bytes > budget)
            throw new BudgetError(
              `memory budget exceeded: the TCE tables of this run need more than ${Math.round(budget / (1024 * 1024))} MiB of host memory (${Math.round(used / CHUNK_BYTES) * CHUNK_SIZE} entries allocated)`,
            );
        }
        used += bytes;
      },
    };
    this.kernel = opts.kernel ?? 'mainline';
    this.maxEvents = opts.maxEvents ?? Infinity;
    this.events = opts.events ?? new EventStore();
    this.onEvent = opts.onEvent;
    this.recorder = new Recorder(new Changes(), {
      line: () => this.line,
      push: (e) => this.push(e),
    });
    const policy = opts.memlock;
    if (policy)
      this.recorder.memlockOverride = (pid) =>
        policy.kind === 'unchecked' || policy.limits[pid] === undefined
          ? 'unchecked'
          : { memlock: policy.limits[pid] };
  }

  private push(e: RunEvent): void {
    if (this.events.length >= this.maxEvents) {
      throw new BudgetError(`event budget exceeded: the run recorded ${this.maxEvents} events`);
    }
    this.events.push(e);
    this.onEvent?.(e);
  }

  createHost(opts: HostOptions = {}): HostApi {
    if (opts === null || typeof opts !== 'object')
      throw new ScenarioError('createHost: the argument must be an object');
    const kernel = opts.kernel ?? this.kernel;
    if (typeof kernel !== 'string' || !Object.prototype.hasOwnProperty.call(PROFILES, kernel))
      throw new ScenarioError(
        `createHost: kernel must be one of ${Object.keys(PROFILES)
          .map((n) => `'${n}'`)
          .join(', ')}, got ${String(kernel)}`,
      );
    if (opts.kernel !== undefined) this.pinned.push({ kernel: kernel as KernelName, line: this.line });
    const pageSize = opts.pageSize ?? 65536;
    if (pageSize !== 4096 && pageSize !== 65536)
      throw new ScenarioError(`createHost: pageSize must be 4096 or 65536, got ${String(pageSize)}`);
    const ramSize = opts.ramSize === undefined ? 64n << 30n : toBig(opts.ramSize, 'createHost: ramSize');
    const maxAlloc =
      opts.maxAllocSize === undefined ? 16n << 20n : toBig(opts.maxAllocSize, 'createHost: maxAllocSize');
    if (maxAlloc < BigInt(pageSize) || maxAlloc > 1n << 40n || (maxAlloc & (maxAlloc - 1n)) !== 0n)
      throw new ScenarioError(
        `createHost: maxAllocSize must be a power of two from the page size to 1 TiB, got ${maxAlloc}`,
      );
    const guest = opts.guest === undefined ? null : guestOf(opts.guest, 'createHost: guest');
    const k = new Kernel({
      profile: profileFor(kernel),
      pageShift: pageSize === 4096 ? 12 : 16,
      ramSize,
      maxAllocBytes: Number(maxAlloc),
      eeh: opts.eeh ?? true,
      hostId: this.hosts.length,
      changes: this.recorder.changes,
      ids: { next: (kind: IdKind) => ++this.counters[kind] },
      meter: this.meter,
    });
    this.recorder.kernels.push(k);
    const h = new HostFacade(k, this.recorder, KVM_HOOKS, guest);
    this.hosts.push(h);
    return h;
  }

  /** records an expectation event; never throws (except when the event budget is exhausted) */
  expect(ok: boolean, label: string, actual: string, expected: string): void {
    if (ok) this.expectations.passed++;
    else this.expectations.failed++;
    const e: RunEvent = { seq: ++this.recorder.seq, kind: 'expect', ok, label, actual, expected };
    if (this.line !== undefined) e.line = this.line;
    this.push(e);
  }

  log(text: string): void {
    const e: RunEvent = { seq: ++this.recorder.seq, kind: 'log', text };
    if (this.line !== undefined) e.line = this.line;
    this.push(e);
  }

  /** peak locked_vm (pages) per pid over the run */
  get peakLockedVm(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const h of this.hosts) for (const p of h.k.procs) out[p.pid] = p.mm.peak;
    return out;
  }

  /**
   * Per process: the peak locked_vm (pages; the kernel's check sees it, even when the same call gave
   * the charge back), the event during which it was reached, the contributors at that moment, and the
   * guest the scenario described for it (memlock sizing).
   */
  memlockPeaks(): ProcessPeak[] {
    const out: ProcessPeak[] = [];
    for (const k of this.kernels)
      for (const p of k.procs) {
        out.push({
          pid: p.pid,
          name: p.name,
          pageSize: k.pageSize,
          peakPages: p.mm.peak,
          peakSeq: this.recorder.peakSeq.get(p.pid) ?? 0,
          parts: { ...p.mm.peakBreakdown },
          guest: this.recorder.guests.get(p.pid) ?? null,
        });
      }
    return out;
  }

  /** the kernels behind the hosts (inspection, snapshots) */
  get kernels(): Kernel[] {
    return this.hosts.map((h) => h.k);
  }
}
