/**
 * An in-memory DmawbApi for store and composable tests and for working on the UI without a server
 * (`?bridge=fake`). It is not an emulator: a run is a synthetic, deterministic event sequence over one
 * process, one v2 container and one huge DDW window (16 M entries by default), consistent across every
 * inspect.* channel so that time travel, paging, find and occupancy can be exercised.
 *
 * Scenario text steers it: a line containing `while (true)` makes a runaway run that streams until
 * stopped; `throw` makes a runtime error at that line; `@compile-error` a compile error there;
 * `@events N` sets the number of events.
 */
import type {
  DmawbApi,
  EntryRow,
  EventChannel,
  EventRow,
  Events,
  LockedVmSeries,
  MemlockSizing,
  ProfileCall,
  ProfileCompareRow,
  ProfileName,
  ProfileRunSummary,
  Reply,
  RequestChannel,
  RequestOf,
  Responses,
  RunSummary,
  StateView,
} from '../../../common/contract';
import type { Bridge } from './api';
import { hex } from '../../../common/format';

export interface FakeOptions {
  files?: Record<string, string>;
  /** entries of the fake DDW window (default 1 << 24) */
  windowEntries?: number;
  /** default number of events of a run (default 40) */
  events?: number;
  /** reply latency in ms (default 0: next macrotask) */
  latencyMs?: number;
  mode?: 'electron' | 'browser';
}

export interface FakeBridge extends Bridge {
  readonly files: Map<string, string>;
  /** every request made, in order */
  readonly calls: { channel: RequestChannel; payload: unknown }[];
  /** make workspace.write fail with this message (null: succeed) */
  failWrites: string | null;
  /** push an event as the host would */
  emit<E extends EventChannel>(event: E, payload: Events[E]): void;
  /** what file.open answers next (null: refuse, as browser mode does) */
  nextOpen: { name: string; text: string } | { cancelled: true } | null;
  /** texts passed to file.saveAs */
  readonly saved: { suggestedName: string; text: string }[];
}

const MAP_STRIDE = 4096;
const WINDOW_START = 1n << 59n;
const PAGE_SHIFT = 16;
const HPA_BASE = 0x2000_0000_0000n;
const UA_BASE = 0x7fff_0000_0000n;

interface FakeRun {
  id: string;
  kernel: string;
  rows: EventRow[];
  /** seq → run index mapped by that event */
  maps: Map<number, number>;
  windowFrom: number;
  done: boolean;
  stopped: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  error: RunSummary['error'];
  imported: boolean;
}

export function createFakeBridge(opts: FakeOptions = {}): FakeBridge {
  const files = new Map<string, string>(
    Object.entries(
      opts.files ?? {
        'qemu-v2-ddw.ts': 'const host = createHost();\n',
        'qemu-v1.ts': 'const host = createHost();\n',
      },
    ),
  );
  const windowEntries = opts.windowEntries ?? 1 << 24;
  const latency = opts.latencyMs ?? 0;
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const runs = new Map<string, FakeRun>();
  const calls: FakeBridge['calls'] = [];
  const saved: FakeBridge['saved'] = [];
  let nextSource = 1;

  const ok = <T>(value: T): Reply<T> => ({ ok: true, value });
  const fail = (message: string, code: 'invalid' | 'failed' = 'failed'): Reply<never> => ({
    ok: false,
    error: { code, message },
  });

  function emit<E extends EventChannel>(event: E, payload: Events[E]): void {
    const set = listeners.get(event);
    if (set) for (const fn of [...set]) fn(payload);
  }

  /** the synthetic event at seq (1-based) */
  function rowAt(_run: FakeRun, seq: number): EventRow {
    const lv = (n: number) => ({ '1': n });
    if (seq === 1)
      return {
        seq,
        line: 1,
        kind: 'ioctl',
        pid: 1,
        op: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY',
        args: `vaddr=${hex(UA_BASE)} size=0x100000000`,
        result: '0',
        failed: false,
        lockedVm: lv(65536),
        explain: 'pins and charges 65536 pages (§4.8)',
        memlockPages: { '1': 65792 },
      };
    if (seq === 2)
      return {
        seq,
        line: 2,
        kind: 'ioctl',
        pid: 1,
        op: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
        args: `page_shift=16 window_size=0x10000000000 levels=2`,
        result: '0',
        failed: false,
        lockedVm: lv(65536 + 2048),
        explain: 'creates a 16M-entry window at 1<<59 (§4.10)',
      };
    const locked = lv(65536 + 2048);
    if (seq % 7 === 0)
      return {
        seq,
        line: 3,
        kind: 'ioctl',
        pid: 1,
        op: 'VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY',
        args: `vaddr=${hex(UA_BASE)} size=0x100000000`,
        result: '-16 EBUSY',
        errno: 'EBUSY',
        failed: true,
        lockedVm: locked,
        explain: 'region still has TCEs pointing into it (§4.9)',
      };
    if (seq % 11 === 0)
      return {
        seq,
        line: 4,
        kind: 'expect',
        op: 'expectEq',
        args: `locked_vm`,
        result: 'FAILED',
        failed: true,
        lockedVm: locked,
        explain: `expected 65536, got ${65536 + 2048}`,
      };
    const k = seq - 3;
    const from = (k * MAP_STRIDE) % windowEntries;
    return {
      seq,
      line: 5,
      kind: 'ioctl',
      pid: 1,
      op: 'VFIO_IOMMU_MAP_DMA',
      args: `vaddr=${hex(UA_BASE + (BigInt(from) << 16n))} iova=${hex(WINDOW_START + (BigInt(from) << 16n))} size=${hex(MAP_STRIDE << 16)} flags=0x3`,
      result: '0',
      failed: false,
      lockedVm: locked,
      explain: 'v2 MAP through the pre-registered region (§4.6.4)',
    };
  }

  function isMap(r: EventRow): boolean {
    return r.op === 'VFIO_IOMMU_MAP_DMA' && !r.failed;
  }

  /** valid runs [start, start+count) after seq, merged and sorted */
  function runsAt(run: FakeRun, seq: number): { start: number; count: number }[] {
    const starts = new Set<number>();
    for (const r of run.rows) {
      if (r.seq > seq) break;
      if (isMap(r)) starts.add(((r.seq - 3) * MAP_STRIDE) % windowEntries);
    }
    const sorted = [...starts].sort((a, b) => a - b);
    const out: { start: number; count: number }[] = [];
    for (const s of sorted) {
      const c = Math.min(MAP_STRIDE, windowEntries - s);
      const last = out[out.length - 1];
      if (last && last.start + last.count >= s) last.count = Math.max(last.count, s + c - last.start);
      else out.push({ start: s, count: c });
    }
    return out;
  }

  function entry(index: number, valid: boolean): EntryRow {
    const iova = WINDOW_START + (BigInt(index) << BigInt(PAGE_SHIFT));
    if (!valid) return { index, iova: hex(iova), value: '0x0', hpa: '0x0', perm: 0, ua: '0x0', region: null };
    const hpa = HPA_BASE + (BigInt(index) << 16n);
    return {
      index,
      iova: hex(iova),
      value: hex(hpa | 3n),
      hpa: hex(hpa),
      perm: 3,
      ua: hex(UA_BASE + (BigInt(index) << 16n)),
      region: 0,
    };
  }

  function stateAt(run: FakeRun, seq: number): StateView {
    const hasRegion = seq >= 1;
    const hasWindow = seq >= 2;
    const valid = runsAt(run, seq).reduce((n, r) => n + r.count, 0);
    const locked = seq >= 2 ? 65536 + 2048 : seq >= 1 ? 65536 : 0;
    return {
      seq,
      hosts: [{ id: 0, kernel: run.kernel, pageSize: 65536 }],
      processes: [
        {
          pid: 1,
          name: 'qemu',
          host: 0,
          lockedVm: locked,
          memlock: '0x101000000',
          exited: false,
          breakdown: {
            v1Enable: 0,
            regions: hasRegion ? 65536 : 0,
            tables: hasWindow ? 2048 : 0,
            views: 0,
            leaked: 0,
            kvmTables: 0,
            mlocked: 0,
          },
        },
      ],
      regions: hasRegion
        ? [
            {
              pid: 1,
              id: 0,
              ua: hex(UA_BASE),
              size: '0x100000000',
              entries: 65536,
              used: 1,
              mapped: 1 + valid,
              containers: [0],
            },
          ]
        : [],
      groups: [{ id: 0, name: '0', phb: 0, container: 0, owner: 'vfio' }],
      containers: [
        {
          id: 0,
          pid: 1,
          iommu: 'v2',
          enabled: false,
          defaultWindowPending: false,
          groups: [0],
          mm: 1,
          fdOpen: true,
        },
      ],
      windows: [
        {
          container: 0,
          slot: 0,
          table: 1,
          startAddr: '0x0',
          pageShift: 12,
          size: '0x40000000',
          levels: 1,
          entries: 1 << 18,
          valid: 0,
          borrowed: false,
        },
        ...(hasWindow
          ? [
              {
                container: 0,
                slot: 1,
                table: 2,
                startAddr: hex(WINDOW_START),
                pageShift: PAGE_SHIFT,
                size: hex(BigInt(windowEntries) << 16n),
                levels: 2,
                entries: windowEntries,
                valid,
                borrowed: false,
              },
            ]
          : []),
      ],
    };
  }

  function windowOk(_run: FakeRun, seq: number, slot: number): string | null {
    if (slot === 0) return null;
    if (seq < 2) return `no window in slot ${slot} after seq ${seq}`;
    return null;
  }

  function finish(run: FakeRun): void {
    run.done = true;
    if (run.timer) clearTimeout(run.timer);
    run.timer = null;
    const failedExp = run.rows.filter((r) => r.kind === 'expect' && r.failed).length;
    const passed = run.rows.filter((r) => r.kind === 'expect' && !r.failed).length;
    emit('run.done', {
      source: run.id,
      ok: !run.error && failedExp === 0,
      expectations: { passed, failed: failedExp },
      events: run.rows.length,
      peakLockedVm: { '1': run.rows.length >= 2 ? 65536 + 2048 : run.rows.length ? 65536 : 0 },
      error: run.error,
      durationMs: 1,
    });
  }

  function startRun(source: string, kernel: string): FakeRun {
    const id = `run-${nextSource++}`;
    const run: FakeRun = {
      id,
      kernel,
      rows: [],
      maps: new Map(),
      windowFrom: 2,
      done: false,
      stopped: false,
      timer: null,
      error: null,
      imported: false,
    };
    runs.set(id, run);
    const lines = source.split('\n');
    const find = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const compile = find(/@compile-error/);
    const thrown = find(/\bthrow\b/);
    const runaway = find(/while\s*\(\s*true\s*\)/);
    const n = Number(/@events\s+(\d+)/.exec(source)?.[1] ?? opts.events ?? 40);
    const push = (count: number) => {
      const rows: EventRow[] = [];
      for (let i = 0; i < count; i++) rows.push(rowAt(run, run.rows.length + rows.length + 1));
      run.rows.push(...rows);
      if (rows.length) emit('run.events', { source: id, rows });
    };
    const later = (fn: () => void, ms = latency) => setTimeout(fn, ms);
    if (compile >= 0) {
      run.error = { kind: 'compile', message: "Cannot find name 'oops'.", line: compile + 1, column: 1 };
      later(() => finish(run));
    } else if (runaway >= 0) {
      const tick = () => {
        if (run.stopped) return;
        push(50);
        run.timer = setTimeout(tick, 20);
      };
      run.timer = setTimeout(tick, latency);
    } else {
      later(() => {
        const upTo = thrown >= 0 ? Math.min(n, 5) : n;
        for (let done = 0; done < upTo;) {
          const c = Math.min(2000, upTo - done);
          push(c);
          done += c;
        }
        if (thrown >= 0) run.error = { kind: 'runtime', message: 'Error: boom', line: thrown + 1, column: 1 };
        finish(run);
      });
    }
    return run;
  }

  /** memlock.size jobs not yet done → their timer; `@sizing-ms N` in the text sets how long one takes */
  const sizings = new Map<string, ReturnType<typeof setTimeout>>();
  let nextSizing = 1;

  const handlers: { [C in RequestChannel]: (req: RequestOf<C>) => Reply<Responses[C]> } = {
    'memlock.size': ({ source, filename, kernel }) => {
      const id = `size-${nextSizing++}`;
      const ms = Number(/@sizing-ms (\d+)/.exec(source)?.[1] ?? latency);
      const line = source.split('\n').findIndex((l) => l.includes('throw')) + 1;
      sizings.set(
        id,
        setTimeout(() => {
          sizings.delete(id);
          emit(
            'memlock.done',
            line > 0
              ? {
                  source: id,
                  sizing: null,
                  error: {
                    message: 'the sizing run could not complete: Error: thrown',
                    kind: 'runtime',
                    line,
                  },
                }
              : { source: id, sizing: fakeSizing(filename, kernel), error: null },
          );
        }, ms),
      );
      return ok({ source: id });
    },
    'app.info': () =>
      ok({
        name: 'DMA Workbench',
        version: '0.0.0-fake',
        mode: opts.mode ?? 'browser',
        workspace: '/fake/workspace',
      }),
    'workspace.list': () =>
      ok({
        folder: '/fake/workspace',
        files: [...files]
          .map(([name, text]) => ({ name, size: text.length }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      }),
    'workspace.read': ({ name }) =>
      files.has(name) ? ok({ name, text: files.get(name)! }) : fail(`workspace.read: no file ${name}`),
    'workspace.write': ({ name, text }) => {
      if (api.failWrites) return fail(api.failWrites);
      files.set(name, text);
      return ok({ name, bytes: text.length });
    },
    'workspace.create': ({ name, text }) => {
      if (files.has(name)) return fail(`workspace.create: ${name} already exists`);
      files.set(name, text ?? '');
      return ok({ name });
    },
    'workspace.choose': () => fail('workspace.choose: not available in browser mode'),
    'run.start': ({ source, kernel }) => ok({ source: startRun(source, kernel).id }),
    'run.stop': ({ source }) => {
      const job = sizings.get(source);
      if (job) {
        sizings.delete(source);
        clearTimeout(job);
        setTimeout(
          () =>
            emit('memlock.done', {
              source,
              sizing: null,
              error: { message: 'the sizing was stopped', kind: 'cancelled' },
            }),
          latency,
        );
        return ok({ stopped: true });
      }
      const run = runs.get(source);
      if (!run || run.done) return ok({ stopped: false });
      run.stopped = true;
      run.error = { kind: 'stopped', message: 'stopped by the user' };
      setTimeout(() => finish(run), latency);
      return ok({ stopped: true });
    },
    'inspect.event': ({ source, seq }) => {
      const run = runs.get(source);
      const row = run?.rows[seq - 1];
      if (!run || !row) return fail(`inspect.event: no event ${seq}`);
      const tces = isMap(row)
        ? [
            {
              container: 0,
              slot: 1,
              table: 2,
              start: ((seq - 3) * MAP_STRIDE) % windowEntries,
              count: MAP_STRIDE,
              value: '0x0',
              ua: '0x0',
              step: 65536,
            },
          ]
        : [];
      return ok({ event: { ...row, deltas: { tces } } });
    },
    'inspect.rows': ({ source, from, count }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.rows: unknown source ${source}`);
      return ok({ rows: run.rows.slice(from, from + count), total: run.rows.length });
    },
    'inspect.search': ({ source, text, from, count }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.search: unknown source ${source}`);
      const needle = text.toLowerCase();
      const indices: number[] = [];
      for (let i = from; i < Math.min(run.rows.length, from + count); i++) {
        const r = run.rows[i]!;
        if (`${r.op} ${r.args} ${r.result} ${r.explain}`.toLowerCase().includes(needle)) indices.push(i);
      }
      return ok({ indices, total: run.rows.length });
    },
    'inspect.state': ({ source, seq }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.state: unknown source ${source}`);
      return ok(stateAt(run, Math.min(seq, run.rows.length)));
    },
    'inspect.entries': ({ source, seq, slot, from, count, validOnly }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.entries: unknown source ${source}`);
      const bad = windowOk(run, seq, slot);
      if (bad) return fail(`inspect.entries: ${bad}`);
      if (slot === 0)
        return ok({
          total: validOnly ? 0 : 1 << 18,
          rows: validOnly
            ? []
            : Array.from({ length: Math.max(0, Math.min(count, (1 << 18) - from)) }, (_, i) => ({
                ...entry(from + i, false),
                iova: hex(BigInt(from + i) << 12n),
              })),
        });
      const rs = runsAt(run, seq);
      if (validOnly) {
        const total = rs.reduce((n, r) => n + r.count, 0);
        const rows: EntryRow[] = [];
        let skip = from;
        for (const r of rs) {
          if (rows.length >= count) break;
          if (skip >= r.count) {
            skip -= r.count;
            continue;
          }
          for (let i = skip; i < r.count && rows.length < count; i++) rows.push(entry(r.start + i, true));
          skip = 0;
        }
        return ok({ total, rows });
      }
      const rows: EntryRow[] = [];
      const end = Math.min(windowEntries, from + count);
      for (let i = from; i < end; i++)
        rows.push(
          entry(
            i,
            rs.some((r) => i >= r.start && i < r.start + r.count),
          ),
        );
      return ok({ total: windowEntries, rows });
    },
    'inspect.occupancy': ({ source, seq, slot, buckets }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.occupancy: unknown source ${source}`);
      const n = slot === 0 ? 1 << 18 : windowEntries;
      const out = new Array<number>(buckets).fill(0);
      if (slot === 1)
        for (const r of runsAt(run, seq))
          for (let i = r.start; i < r.start + r.count; i += 256)
            out[Math.min(buckets - 1, Math.floor((i / n) * buckets))]! += 256 / (n / buckets);
      return ok({ buckets: out.map((x) => Math.min(1, x)) });
    },
    'inspect.find': ({ source, seq, slot, iova, ua }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.find: unknown source ${source}`);
      const start = slot === 1 ? WINDOW_START : 0n;
      const shift = slot === 1 ? 16n : 12n;
      const n = BigInt(slot === 1 ? windowEntries : 1 << 18);
      /** position in the valid-only list (slot 0 of the fake has no valid entries) */
      const found = (index: number) => {
        let before = 0;
        if (slot === 1 && index >= 0) {
          for (const r of runsAt(run, seq)) {
            if (index < r.start) break;
            if (index < r.start + r.count) return ok({ index, validIndex: before + index - r.start });
            before += r.count;
          }
        }
        return ok({ index, validIndex: -1 });
      };
      if (iova !== undefined) {
        const rel = (BigInt(iova) - start) >> shift;
        return found(BigInt(iova) >= start && rel < n ? Number(rel) : -1);
      }
      if (ua !== undefined && slot === 1) {
        const rel = (BigInt(ua) - UA_BASE) >> 16n;
        const idx = Number(rel);
        return found(
          rel >= 0n && rel < n && runsAt(run, seq).some((r) => idx >= r.start && idx < r.start + r.count)
            ? idx
            : -1,
        );
      }
      return found(-1);
    },
    'inspect.lockedVm': ({ source, pid }) => {
      const run = runs.get(source);
      if (!run) return fail(`inspect.lockedVm: unknown source ${source}`);
      if (pid !== 1) return fail(`inspect.lockedVm: no process ${pid}`);
      const s: LockedVmSeries = {
        pid,
        limit: [],
        seq: [],
        total: [],
        stacks: { regions: [], tables: [] },
        failed: [],
      };
      for (const r of [{ seq: 0 } as EventRow, ...run.rows]) {
        s.seq.push(r.seq);
        s.limit.push(65792);
        const regions = r.seq >= 1 ? 65536 : 0;
        const tables = r.seq >= 2 ? 2048 : 0;
        s.stacks.regions!.push(regions);
        s.stacks.tables!.push(tables);
        s.total.push(regions + tables);
        if (r.failed) s.failed.push(r.seq);
      }
      return ok(s);
    },
    'export.snapshot': ({ source, seq, includeEvents }) => {
      const run = runs.get(source);
      if (!run) return fail(`export.snapshot: unknown source ${source}`);
      return ok({
        suggestedName: `${source}-seq${seq}.dmawb.json`,
        text: JSON.stringify({
          format: 'dmawb-snapshot',
          version: 1,
          fake: true,
          source,
          seq,
          kernel: run.kernel,
          events: includeEvents ? run.rows.length : 0,
        }),
      });
    },
    'export.report': ({ source, seq }) =>
      ok({ suggestedName: `${source}-seq${seq}.md`, text: `# Report\n\nseq ${seq}\n` }),
    'export.csv': ({ source, seq, slot }) =>
      ok({ suggestedName: `${source}-seq${seq}-slot${slot}.csv`, text: 'index,iova,value\n' }),
    'export.c': ({ filename, kernel }) =>
      ok({
        suggestedName: `${filename.replace(/\.ts$/, '')}-${kernel}.c`,
        text: `/* ${filename} as a program for a real POWER host (fake) */\nint main(void) { return 0; }\n`,
      }),
    'file.saveAs': ({ suggestedName, text }) => {
      if ((opts.mode ?? 'browser') === 'browser') return fail('file.saveAs: not available in browser mode');
      saved.push({ suggestedName, text });
      return ok({ path: `/fake/${suggestedName}` });
    },
    'file.open': () => {
      const next = api.nextOpen;
      if (!next) return fail('file.open: not available in browser mode');
      return ok(next);
    },
    'snapshot.import': ({ text }) => {
      let json: { format?: string; seq?: number; kernel?: string; events?: number };
      try {
        json = JSON.parse(text);
      } catch (e) {
        return fail(`snapshot.import: not JSON (${(e as Error).message})`, 'invalid');
      }
      if (json.format !== 'dmawb-snapshot')
        return fail('snapshot.import: format must be "dmawb-snapshot"', 'invalid');
      const id = `snap-${nextSource++}`;
      const seq = json.seq ?? 0;
      const run: FakeRun = {
        id,
        kernel: json.kernel ?? 'mainline',
        rows: [],
        maps: new Map(),
        windowFrom: 2,
        done: true,
        stopped: false,
        timer: null,
        error: null,
        imported: true,
      };
      for (let s = 1; s <= (json.events ? seq : 0); s++) run.rows.push(rowAt(run, s));
      runs.set(id, run);
      return ok({ source: id, seq, kernel: run.kernel, scenario: 'fake', events: run.rows.length });
    },
    'inspect.compare': ({ a, b }) => {
      const ra = runs.get(a.source);
      const rb = runs.get(b.source);
      if (!ra || !rb) return fail(`inspect.compare: unknown source ${!ra ? a.source : b.source}`);
      const at = (r: FakeRun, seq: number) => (r.imported ? seq : Math.min(seq, r.rows.length));
      const x = stateAt(ra, at(ra, a.seq));
      const y = stateAt(rb, at(rb, b.seq));
      const lines: string[] = [];
      const px = x.processes[0]!;
      const py = y.processes[0]!;
      if (px.lockedVm !== py.lockedVm)
        lines.push(
          `~ process 1 (qemu) locked_vm ${px.lockedVm} → 1 (qemu) locked_vm ${py.lockedVm}`,
          `    lockedVm: ${px.lockedVm} → ${py.lockedVm}`,
        );
      const [gx, gy] = [x.regions[0], y.regions[0]];
      if (gy && !gx) lines.push(`+ region pid 1 ${gy.ua}+${gy.size} used ${gy.used} mapped ${gy.mapped}`);
      else if (gx && gy && gx.mapped !== gy.mapped)
        lines.push(
          `~ region pid 1 ${gx.ua}+${gx.size} used 1 mapped ${gx.mapped} → pid 1 ${gy.ua}+${gy.size} used 1 mapped ${gy.mapped}`,
        );
      const [wx, wy] = [x.windows.find((w) => w.slot === 1), y.windows.find((w) => w.slot === 1)];
      if (wy && !wx)
        lines.push(
          `+ window container 0 slot 1 ${wy.startAddr} 2^16 × ${wy.entries}: ${wy.valid} valid TCEs`,
        );
      else if (wx && wy && wx.valid !== wy.valid)
        lines.push(
          `~ window container 0 slot 1 ${wx.startAddr} 2^16 × ${wx.entries}: ${wx.valid} valid TCEs → ${wy.valid} valid TCEs`,
        );
      const count = (c: string) => lines.filter((l) => l.startsWith(`${c} `)).length;
      const label = (r: FakeRun, s: number) =>
        `${r.imported ? 'snapshot of fake' : 'fake.ts'} · ${r.kernel} · after seq ${s}`;
      return ok({
        lines,
        summary: {
          a: label(ra, x.seq),
          b: label(rb, y.seq),
          added: count('+'),
          removed: count('-'),
          changed: count('~'),
          identical: lines.length === 0,
        },
      });
    },
    'capture.import': ({ files }) => {
      if (!files.some((f) => /vfio_|RLIMIT_MEMLOCK|__account_locked_vm/.test(f.text)))
        return fail(`nothing importable in ${files.map((f) => f.name).join(', ')}`);
      const stem = files[0]!.name.replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '_');
      return ok({
        scenario: `// Imported by \`dmawb import\` (fake bridge) from ${files[0]!.name}\nconst host = createHost();\n`,
        suggestedName: `import-${stem}.ts`,
        problems: [],
        skipped: 'none',
        calls: 1,
        checks: 1,
      });
    },
    'run.compare': ({ filename, profiles }) => {
      // canned rows written for 4.2 and mainline, relabelled for the pair asked for
      const [pa, pb] = profiles ?? ['4.2', 'mainline'];
      const relabel = <T>(r: { '4.2'?: T; mainline?: T }): Partial<Record<ProfileName, T>> => ({
        [pa]: r['4.2'],
        [pb]: r.mainline,
      });
      const call = (
        seq: number,
        op: string,
        args: string,
        result: string,
        lockedVm: number,
      ): ProfileCall => ({
        seq,
        line: seq,
        pid: 1,
        op,
        args,
        result,
        errno: result.startsWith('-') ? result.split(' ')[1]! : null,
        lockedVm,
      });
      const rows: ProfileCompareRow[] = [
        {
          index: 0,
          calls: {
            '4.2': call(1, 'VFIO_GROUP_SET_CONTAINER', 'container=1', '0', 0),
            mainline: call(1, 'VFIO_GROUP_SET_CONTAINER', 'container=1', '0', 0),
          },
          differs: [],
        },
        {
          index: 1,
          calls: {
            '4.2': call(2, 'VFIO_SET_IOMMU', 'type=7', '-12 ENOMEM', 0),
            mainline: call(2, 'VFIO_SET_IOMMU', 'type=7', '0', 0),
          },
          differs: ['result'],
        },
        {
          index: 2,
          calls: { '4.2': call(3, 'VFIO_SET_IOMMU', 'type=2', '-12 ENOMEM', 0), mainline: null },
          differs: ['missing'],
        },
        {
          index: 3,
          calls: {
            '4.2': null,
            mainline: call(
              3,
              'VFIO_IOMMU_SPAPR_REGISTER_MEMORY',
              'vaddr=0x7fff00000000 size=0x100000000',
              '-12 ENOMEM',
              0,
            ),
          },
          differs: ['missing'],
        },
        {
          index: 4,
          calls: { '4.2': null, mainline: call(4, 'VFIO_IOMMU_SPAPR_TCE_CREATE', 'pageShift=16', '0', 16) },
          differs: ['missing'],
        },
      ];
      const summary = (
        kernel: '4.2' | 'mainline',
        ioctls: number,
        failedCalls: number,
      ): ProfileRunSummary => ({
        kernel,
        ok: true,
        expectations: { passed: 3, failed: 0 },
        events: ioctls + 2,
        ioctls,
        failedCalls,
        peakLockedVm: { '1': kernel === '4.2' ? 128 : 16 },
        error: null,
      });
      return ok({
        filename,
        rows: rows.map((r) => ({ ...r, calls: relabel(r.calls) })),
        total: 5,
        differing: 4,
        firstDivergence: 1,
        omitted: 0,
        summaries: relabel({
          '4.2': { ...summary('4.2', 3, 2), kernel: pa },
          mainline: { ...summary('mainline', 4, 1), kernel: pb },
        }),
        profiles: [pa, pb],
        alignment: { method: 'diff', paired: 2, only: relabel({ '4.2': 1, mainline: 2 }) },
      });
    },
  };

  const api = {
    files,
    calls,
    saved,
    failWrites: null as string | null,
    nextOpen: null as FakeBridge['nextOpen'],
    emit,
    on(event: EventChannel, fn: (p: never) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const f = fn as (p: unknown) => void;
      set.add(f);
      return () => void set!.delete(f);
    },
  } as unknown as FakeBridge;
  const table = api as unknown as Record<string, unknown>;
  for (const channel of Object.keys(handlers) as RequestChannel[]) {
    table[channel] = (payload: never) => {
      calls.push({ channel, payload });
      const r = (handlers[channel] as (p: unknown) => Reply<unknown>)(payload);
      return new Promise((resolve) => setTimeout(() => resolve(r), latency));
    };
  }
  return api as FakeBridge;
}

/**
 * A sizing shaped like memlock-default-64k.ts's under mainline (peak 65616 pages at seq 11, 64 KiB pages),
 * for the panel's store and component tests; the real one comes from engine/memlock.ts.
 */
export function fakeSizing(scenario: string, kernel: ProfileName): MemlockSizing {
  const min = 65616n * 65536n;
  const verify = (bytes: bigint, refused: boolean) => ({
    memlockBytes: bytes.toString(),
    refusal: refused
      ? {
          seq: 2,
          line: 2,
          op: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
          chargePages: 16,
          lockedVmPages: 65600,
          limitPages: 65615,
          explain:
            'VFIO_IOMMU_SPAPR_TCE_CREATE: RLIMIT_MEMLOCK: locked_vm 65600 + 16 pages > 65615 pages: ENOMEM (§1.5)',
        }
      : null,
    events: 59,
    error: null,
  });
  return {
    scenario,
    kernel,
    at: '2026-12-06T00:00:00.000Z',
    durationMs: 12,
    processes: [
      {
        pid: 1,
        name: 'qemu-system-ppc64',
        pageSize: 65536,
        peakPages: 65616,
        peakSeq: 2,
        peakLine: 2,
        peakOp: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
        parts: [
          { key: 'regions', pages: 65536 },
          { key: 'tables', pages: 80 },
        ],
        minMemlockBytes: min.toString(),
        atLimit: verify(min, false),
        onePageBelow: verify(min - 65536n, true),
        verified: true,
        libvirt: {
          source: 'formula',
          limitBytes: (4255744n * 1024n).toString(),
          inputs: {
            memoryKiB: '4194304',
            maxMemoryKiB: '4194304',
            phbs: 1,
            passthrough: 1,
            nvlink2: false,
            hardLimitKiB: null,
            locked: false,
            accel: 'kvm',
          },
          terms: [
            {
              id: 'a',
              label: 'hash page table (maxMemory/128)',
              formula: '4194304/128',
              kib: '32768',
              used: true,
              covers: 'hpt',
            },
            {
              id: 'b',
              label: '32-bit DMA window per PHB + 8 MiB',
              formula: '4096·1 + 8192',
              kib: '12288',
              used: true,
              covers: 'tables',
            },
            {
              id: 'c',
              label: 'pre-DDW VFIO window: 2 GiB per PHB',
              formula: '2 GiB·1',
              kib: '2097152',
              used: false,
              covers: 'v1',
            },
            {
              id: 'd',
              label: 'guest RAM pre-registered once (memory)',
              formula: '4194304',
              kib: '4194304',
              used: true,
              covers: 'ram',
            },
            {
              id: 'e',
              label: 'a RAM-sized DDW of 4 KiB TCEs per PHB + 8 MiB',
              formula: '4194304/512·1 + 8192',
              kib: '16384',
              used: true,
              covers: 'tables',
            },
          ],
          groups: [
            {
              group: 'ram',
              needBytes: (65536n * 65536n).toString(),
              allowBytes: (4194304n * 1024n).toString(),
            },
            {
              group: 'tables',
              needBytes: (80n * 65536n).toString(),
              allowBytes: (28672n * 1024n).toString(),
            },
            { group: 'hpt', needBytes: '0', allowBytes: (32768n * 1024n).toString() },
          ],
          enough: true,
          marginBytes: (56320n * 1024n).toString(),
          shortTerms: [],
          text: "libvirt's limit 4255744 KiB covers the peak with 56320 KiB to spare.",
        },
      },
    ],
    text: [`memlock sizing: ${scenario} (kernel ${kernel})`],
  };
}

export type { DmawbApi };
