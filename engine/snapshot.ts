/**
 * Snapshot infrastructure: models no kernel file. Inspection snapshots (product.md §Snapshots): the
 * WorldState at one step of a run as a versioned, deterministic JSON document. TCE contents are stored as
 * linear runs, so a fully mapped 16-million-entry window costs a few hundred bytes. Every bigint is
 * written as a "0x…" hex string.
 *
 * The valibot schema (snapshot-format.ts) is the single source of truth: parseSnapshot() validates
 * imports strictly with it, and schema/snapshot.schema.json is generated from it
 * (test/engine/snapshot.test.ts keeps the two in step).
 */
import * as v from 'valibot';
import { CONTRIBUTOR_KEYS } from '../common/contributors.ts';
import type { KernelName } from './api.ts';
import type { EventList, RunEvent } from './events.ts';
import {
  jsonSafe,
  SNAPSHOT_FORMAT,
  SNAPSHOT_MAX_BYTES,
  SNAPSHOT_VERSION,
  SnapshotSchema,
  toHex,
  type SnapshotJson,
} from './snapshot-format.ts';
import { captureState, type Run, type WorldState } from './state.ts';
import { diffStates, DIFF_MAX_RANGES, tceRangeLines, type SnapshotDiff } from './snapshot-diff.ts';

export { jsonSafe, SNAPSHOT_FORMAT, SNAPSHOT_MAX_BYTES, SNAPSHOT_VERSION, SnapshotSchema, type SnapshotJson };
export { diffStates, DIFF_MAX_RANGES, tceRangeLines, type SnapshotDiff };

export interface SnapshotMeta {
  appName: string;
  appVersion: string;
  kernel: KernelName;
  scenarioName: string;
  /** SHA-256 of the scenario source, hex; null when not known */
  scenarioSha256: string | null;
}

export interface Snapshot {
  meta: SnapshotMeta;
  state: WorldState;
  events?: RunEvent[];
}

/** the snapshot document (deterministic: same run and step, same bytes) */
export function toSnapshotJson(s: Snapshot): SnapshotJson {
  const st = s.state;
  const doc: SnapshotJson = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    app: { name: s.meta.appName, version: s.meta.appVersion },
    kernel: s.meta.kernel,
    scenario: { name: s.meta.scenarioName, sha256: s.meta.scenarioSha256 },
    seq: st.seq,
    state: {
      hosts: st.hosts.map((h) => ({
        id: h.id,
        kernel: h.kernel as KernelName,
        pageSize: h.pageSize as 4096 | 65536,
      })),
      processes: st.processes.map((p) => ({
        pid: p.pid,
        host: p.host,
        name: p.name,
        memlock: toHex(p.memlock),
        capIpcLock: p.capIpcLock,
        exited: p.exited,
        lockedVm: p.lockedVm,
        breakdown: { ...p.breakdown },
      })),
      regions: st.regions.map((r) => ({
        pid: r.pid,
        id: r.id,
        ua: toHex(r.ua),
        size: toHex(r.size),
        entries: r.entries,
        used: r.used,
        mapped: r.mapped,
        ...(r.pageShift !== undefined ? { pageShift: r.pageShift } : {}),
        containers: [...r.containers],
      })),
      groups: st.groups.map((g) => ({
        id: g.id,
        name: g.name,
        phb: g.phb,
        container: g.container,
        owner: g.owner,
      })),
      containers: st.containers.map((c) => ({
        id: c.id,
        pid: c.pid,
        fdOpen: c.fdOpen,
        iommu: c.iommu,
        enabled: c.enabled,
        defaultWindowPending: c.defaultWindowPending,
        groups: [...c.groups],
        mm: c.mm,
      })),
      windows: st.windows.map((w) => ({
        container: w.container,
        slot: w.slot as 0 | 1,
        table: w.table,
        startAddr: toHex(w.startAddr),
        pageShift: w.pageShift,
        size: toHex(w.size),
        levels: w.levels,
        entries: w.entries,
        offset: w.offset,
        borrowed: w.borrowed,
        runs: w.runs.map((r) => ({
          start: r.start,
          count: r.count,
          value: toHex(r.value),
          ua: toHex(r.ua),
          step: r.step,
        })),
      })),
      ...(st.kvmTables?.length
        ? {
            kvmTables: st.kvmTables.map((t) => ({
              id: t.id,
              pid: t.pid,
              vm: t.vm,
              liobn: toHex(t.liobn),
              pageShift: t.pageShift,
              offset: toHex(t.offset),
              size: toHex(t.size),
              chargedPages: t.chargedPages,
              links: t.links.map((l) => ({ container: l.container, slot: l.slot as 0 | 1 })),
              runs: t.runs.map((r) => ({
                start: r.start,
                count: r.count,
                value: toHex(r.value),
                ua: toHex(r.ua),
                step: r.step,
              })),
            })),
          }
        : {}),
    },
  };
  if (s.events)
    doc.events = s.events
      .filter((e) => e.seq <= st.seq)
      .map((e) => jsonSafe(e) as { seq: number; kind: 'ioctl' });
  return doc;
}

export function serializeSnapshot(s: Snapshot): string {
  return JSON.stringify(toSnapshotJson(s), null, 1) + '\n';
}

/**
 * A snapshot's text in pieces, its events read one at a time from the run's log (never all materialised
 * at once): the same bytes as serializeSnapshot. Stops with a SnapshotError as soon as the text would be
 * larger than `maxBytes` (default: the size a snapshot may have to be imported again), naming how far it
 * got, so a million-event log is refused in bounded memory instead of building a file nobody can open.
 */
export function snapshotPieces(
  s: Omit<Snapshot, 'events'>,
  events: EventList | null,
  maxBytes = SNAPSHOT_MAX_BYTES,
): string[] {
  const head = JSON.stringify(toSnapshotJson(s), null, 1);
  if (events === null) return [head + '\n'];
  const pieces = [head.slice(0, -2), ',\n "events": ['];
  // the head without its closing brace, the events' opening and the closing text: exact, like every event
  let bytes = utf8Length(head) - 2 + ',\n "events": ['.length + '\n ]\n}\n'.length;
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events.at(i)!;
    if (e.seq > s.state.seq) break;
    const text = (n ? ',\n  ' : '\n  ') + JSON.stringify(jsonSafe(e), null, 1).replace(/\n/g, '\n  ');
    bytes += utf8Length(text);
    if (bytes > maxBytes)
      throw new SnapshotError(
        `the snapshot with its event log would be larger than ${Math.round(maxBytes / (1024 * 1024))} MiB (the size a snapshot may be to be imported again) after ${n} of its events; export it without the event log, or stream the log with \`dmawb run --jsonl\``,
      );
    pieces.push(text);
    n++;
  }
  pieces.push(n ? '\n ]\n}\n' : ']\n}\n');
  return pieces;
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** UTF-8 byte length of a string, without TextEncoder (the engine uses no host API, not even that one). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Parses and strictly validates a snapshot file's text. Every problem is a SnapshotError whose message
 * names what is wrong and where (a JSON path); nothing is partially loaded.
 */
export function parseSnapshot(text: string): Snapshot {
  if (typeof text !== 'string') throw new SnapshotError('snapshot: expected text');
  const bytes = utf8Length(text);
  if (bytes > SNAPSHOT_MAX_BYTES)
    throw new SnapshotError(
      `snapshot: ${bytes} bytes is larger than the ${SNAPSHOT_MAX_BYTES}-byte import limit`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SnapshotError(`snapshot: not valid JSON (${(e as Error).message}); the file may be truncated`);
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    if (o.format !== SNAPSHOT_FORMAT)
      throw new SnapshotError(
        `snapshot: format is ${JSON.stringify(o.format)}, expected "${SNAPSHOT_FORMAT}"`,
      );
    if (typeof o.version === 'number' && o.version > SNAPSHOT_VERSION) {
      throw new SnapshotError(
        `snapshot: version ${o.version} was written by a newer DMA Workbench; this one reads version ${SNAPSHOT_VERSION}`,
      );
    }
  }
  const r = v.safeParse(SnapshotSchema, raw);
  if (!r.success) {
    const issue = r.issues[0]!;
    const path = v.getDotPath(issue) ?? '(root)';
    throw new SnapshotError(
      `snapshot: ${path}: ${issue.message}${r.issues.length > 1 ? ` (and ${r.issues.length - 1} more problems)` : ''}`,
    );
  }
  const doc = r.output;
  const big = (h: string): bigint => BigInt(h);
  const state: WorldState = {
    seq: doc.seq,
    hosts: doc.state.hosts.map((h) => ({ ...h })),
    processes: doc.state.processes.map((p) => ({
      ...p,
      memlock: big(p.memlock),
      breakdown: { ...p.breakdown },
    })),
    regions: doc.state.regions.map((x) => ({
      ...x,
      ua: big(x.ua),
      size: big(x.size),
      containers: [...x.containers],
    })),
    groups: doc.state.groups.map((g) => ({ ...g })),
    containers: doc.state.containers.map((c) => ({ ...c, groups: [...c.groups] })),
    windows: doc.state.windows.map((w, i) => {
      const runs: Run[] = w.runs.map((x) => ({
        start: x.start,
        count: x.count,
        value: big(x.value),
        ua: big(x.ua),
        step: x.step,
      }));
      let end = 0;
      runs.forEach((x, j) => {
        if (x.start < end)
          throw new SnapshotError(`snapshot: state.windows.${i}.runs.${j}: runs overlap or are not sorted`);
        end = x.start + x.count;
        if (x.value === 0n)
          throw new SnapshotError(
            `snapshot: state.windows.${i}.runs.${j}: value 0 is an empty entry, not a run`,
          );
      });
      if (end > w.entries)
        throw new SnapshotError(
          `snapshot: state.windows.${i}: runs reach entry ${end - 1}, past the window's ${w.entries} entries`,
        );
      return { ...w, startAddr: big(w.startAddr), size: big(w.size), runs };
    }),
    ...(doc.state.kvmTables?.length
      ? {
          kvmTables: doc.state.kvmTables.map((t, i) => {
            const runs: Run[] = t.runs.map((x) => ({
              start: x.start,
              count: x.count,
              value: big(x.value),
              ua: big(x.ua),
              step: x.step,
            }));
            let end = 0;
            runs.forEach((x, j) => {
              if (x.start < end || x.value === 0n)
                throw new SnapshotError(
                  `snapshot: state.kvmTables.${i}.runs.${j}: runs overlap, are not sorted, or hold an empty entry`,
                );
              end = x.start + x.count;
            });
            if (BigInt(end) > big(t.size))
              throw new SnapshotError(
                `snapshot: state.kvmTables.${i}: runs reach past the table's ${big(t.size)} entries`,
              );
            return {
              ...t,
              liobn: big(t.liobn),
              offset: big(t.offset),
              size: big(t.size),
              links: t.links.map((l) => ({ ...l })),
              runs,
            };
          }),
        }
      : {}),
  };
  checkConsistency(state);
  const meta: SnapshotMeta = {
    appName: doc.app.name,
    appVersion: doc.app.version,
    kernel: doc.kernel,
    scenarioName: doc.scenario.name,
    scenarioSha256: doc.scenario.sha256,
  };
  return doc.events ? { meta, state, events: doc.events as unknown as RunEvent[] } : { meta, state };
}

/**
 * The checks after the schema (issue 12, item 5): a snapshot whose parts contradict each other is refused
 * here, with the path of the first contradiction, instead of reaching the engine's views as an internal
 * error later. Keys are unique, every reference resolves, sizes agree with entries and page sizes, and
 * each process's locked_vm is the sum of its breakdown (engine/state.ts captures them that way).
 */
export function checkConsistency(s: WorldState): void {
  const fail = (path: string, message: string): never => {
    throw new SnapshotError(`snapshot: state.${path}: ${message}`);
  };
  const keys = <T>(
    list: readonly T[],
    what: string,
    key: (x: T) => string | number,
  ): Set<string | number> => {
    const seen = new Set<string | number>();
    list.forEach((x, i) => {
      const k = key(x);
      if (seen.has(k)) fail(`${what}.${i}`, `duplicate ${what} key ${JSON.stringify(k)}`);
      seen.add(k);
    });
    return seen;
  };
  const hosts = keys(s.hosts, 'hosts', (h) => h.id);
  const pids = keys(s.processes, 'processes', (p) => p.pid);
  keys(s.regions, 'regions', (r) => r.id);
  const groups = keys(s.groups, 'groups', (g) => g.id);
  const containers = keys(s.containers, 'containers', (c) => c.id);
  keys(s.windows, 'windows', (w) => `${w.container}:${w.slot}`);
  keys(s.windows, 'windows', (w) => w.table);

  s.processes.forEach((p, i) => {
    if (!hosts.has(p.host)) fail(`processes.${i}.host`, `host ${p.host} is not in state.hosts`);
    const sum = CONTRIBUTOR_KEYS.reduce((n, k) => n + p.breakdown[k], 0);
    if (sum !== p.lockedVm)
      fail(`processes.${i}`, `locked_vm ${p.lockedVm} is not the sum of its breakdown (${sum})`);
  });
  s.regions.forEach((r, i) => {
    if (!pids.has(r.pid)) fail(`regions.${i}.pid`, `process ${r.pid} is not in state.processes`);
    r.containers.forEach((c, j) => {
      if (!containers.has(c))
        fail(`regions.${i}.containers.${j}`, `container ${c} is not in state.containers`);
    });
    if (r.used > r.entries)
      fail(`regions.${i}.used`, `${r.used} is more than the region's ${r.entries} entries`);
  });
  s.groups.forEach((g, i) => {
    if (g.container !== null && !containers.has(g.container))
      fail(`groups.${i}.container`, `container ${g.container} is not in state.containers`);
  });
  s.containers.forEach((c, i) => {
    if (c.pid !== null && !pids.has(c.pid))
      fail(`containers.${i}.pid`, `process ${c.pid} is not in state.processes`);
    if (c.mm !== null && !pids.has(c.mm))
      fail(`containers.${i}.mm`, `process ${c.mm} is not in state.processes`);
    c.groups.forEach((g, j) => {
      if (!groups.has(g)) fail(`containers.${i}.groups.${j}`, `group ${g} is not in state.groups`);
    });
  });
  s.windows.forEach((w, i) => {
    if (!containers.has(w.container))
      fail(`windows.${i}.container`, `container ${w.container} is not in state.containers`);
    const shift = BigInt(w.pageShift);
    if (w.size !== BigInt(w.entries) << shift)
      fail(
        `windows.${i}.size`,
        `0x${w.size.toString(16)} is not entries (${w.entries}) << pageShift (${w.pageShift})`,
      );
    if (w.startAddr !== BigInt(w.offset) << shift)
      fail(
        `windows.${i}.startAddr`,
        `0x${w.startAddr.toString(16)} is not offset (${w.offset}) << pageShift (${w.pageShift})`,
      );
  });
}

/** the snapshot document of a session's final state (the command line's --snapshot) */
export function snapshotOf(
  session: {
    kernels: import('./kernel.ts').Kernel[];
    events: EventList;
    kernel: KernelName;
  },
  meta: Partial<SnapshotMeta> = {},
  opts: { includeEvents?: boolean } = {},
): SnapshotJson {
  const state = captureState(session.kernels, session.events.length);
  return toSnapshotJson({
    meta: {
      appName: meta.appName ?? 'dma-workbench',
      appVersion: meta.appVersion ?? '0.0.0',
      kernel: meta.kernel ?? session.kernel,
      scenarioName: meta.scenarioName ?? 'scenario',
      scenarioSha256: meta.scenarioSha256 ?? null,
    },
    state,
    ...(opts.includeEvents ? { events: [...session.events] } : {}),
  });
}
