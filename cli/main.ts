/**
 * `dmawb` (scenario-api.md §4) as a function: main(argv, io) → exit code. cli/dmawb.ts calls it with
 * the process's arguments and streams; tests call it in-process.
 *
 * Exit codes: 0 the scenario completed and every expectation passed; 1 it completed and an expectation
 * failed; 2 it could not complete (unreadable file, compile error, exception, time or memory budget,
 * or an output file that could not be written); 64 usage error. `diff`: 0 no differences, 1 differences,
 * 2 a file that cannot be read or is not a valid snapshot, 64 usage error.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KernelName } from '../engine/api.ts';
import type { RunEvent } from '../engine/events.ts';
import { renderReport } from '../engine/report.ts';
import type { Session } from '../engine/session.ts';
import {
  compareProfiles,
  PROFILES,
  profileComparisonText,
  type ProfileRunInput,
} from '../engine/profile-compare.ts';
import {
  diffStates,
  parseSnapshot,
  SnapshotError,
  SNAPSHOT_MAX_BYTES,
  snapshotOf,
  toSnapshotJson,
  type Snapshot,
} from '../engine/snapshot.ts';
import { captureState, type WorldState } from '../engine/state.ts';
import { applyEvent, emptyState } from '../engine/timeline.ts';
import {
  memlockRefusals,
  needsOf,
  refusalAdvice,
  refusalOf,
  sizeDocument,
  sizeText,
  type ScenarioNeed,
} from '../engine/memlock.ts';
import { sizeScenarioRun, runScenario, type RunResult } from '../runner/run.ts';
import { USAGE, parseArgs, type RunArgs, type SizeArgs } from './args.ts';
import { exportCCommand } from './export-c.ts';
import { readError, writeFileAtomic } from './files.ts';
import { runImport } from './import.ts';
import {
  endLine,
  eventLine,
  eventLineWith,
  isFailure,
  jsonEvent,
  quietCounts,
  runDocument,
  startLine,
  summaryText,
  where,
  writeRunDocument,
} from './output.ts';
import { runSandboxed, sizeSandboxed } from './sandboxed.ts';
import { readTextLimited } from '../host/workspace.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const EXIT = { ok: 0, failed: 1, incomplete: 2, usage: 64 } as const;

/** scenario files larger than this are refused (product.md: imports are size-limited) */
const MAX_SCENARIO_BYTES = 4 * 1024 * 1024;

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      io.stdout(USAGE);
      return EXIT.ok;
    case 'version':
      io.stdout(`dmawb ${await version()}\n`);
      return EXIT.ok;
    case 'usage':
      io.stderr(`dmawb: ${parsed.message}\n${USAGE}`);
      return EXIT.usage;
    case 'run':
      // in a worker this process can terminate at the deadline (cli/sandboxed.ts → runCommand)
      return runSandboxed(parsed.args, io);
    case 'diff':
      return diff(parsed.a, parsed.b, io);
    case 'export-c':
      return exportCCommand(parsed.args, io, await version());
    case 'import':
      return runImport(parsed.args, io);
    case 'size':
      // in a worker too, under the same deadline as `run`: each of its runs is watched (cli/sandboxed.ts)
      return sizeSandboxed(parsed.args, io);
  }
}

/** told when a scenario starts running (its time budget starts) and when it has ended */
export type ScenarioPhase = (running: boolean) => void;

/** `dmawb run` itself; cli/run-worker.ts calls it inside the worker of cli/sandboxed.ts */
export function runCommand(args: RunArgs, io: CliIo, phase: ScenarioPhase = () => {}): Promise<number> {
  return args.kernel === 'both' ? runBoth(args, io, phase) : run(args, io, phase);
}

async function run(args: RunArgs, io: CliIo, phase: ScenarioPhase): Promise<number> {
  const kernel: KernelName = args.kernel === 'both' ? 'mainline' : (args.kernel ?? 'mainline');
  const outputs = [args.snapshot, args.report]
    .filter((p): p is string => p !== undefined)
    .map((p) => resolve(p));
  if (outputs.includes(resolve(args.file))) {
    io.stderr(`dmawb: an output file is the scenario file itself (${args.file})\n${USAGE}`);
    return EXIT.usage;
  }
  if (outputs.length === 2 && outputs[0] === outputs[1]) {
    io.stderr(`dmawb: --snapshot and --report name the same file\n${USAGE}`);
    return EXIT.usage;
  }

  // -- read the scenario --
  let source: string;
  try {
    source = await readLimited(args.file, MAX_SCENARIO_BYTES);
  } catch (e) {
    const message = `cannot read scenario file '${args.file}': ${readError(e)}`;
    io.stderr(`dmawb: ${message}\n`);
    if (args.json) {
      const doc = runDocument({
        scenario: args.file,
        kernel,
        ok: false,
        expectations: { passed: 0, failed: 0 },
        events: [],
        peakLockedVm: {},
        error: { message, line: null, column: null },
      });
      io.stdout(JSON.stringify(doc) + '\n');
    }
    if (args.jsonl)
      io.stdout(
        endLine({ ...doc0(args.file, kernel), events: 0, error: { message, line: null, column: null } }),
      );
    return EXIT.incomplete;
  }

  // -- run it; the text log (or its failures, or JSON lines) streams as events happen --
  // A memlock refusal's why ends with the limit the whole scenario needs, known only from a sizing run
  // after this one: from the first refusal on, the text log is held and its refusals rendered at the end.
  const out = new Buffered(io);
  if (args.jsonl) out.line(startLine(args.file, kernel));
  const timeout =
    args.timeoutSeconds !== undefined ? { timeoutMs: Math.round(args.timeoutSeconds * 1000) } : {};
  const log = onEventFor(args, out);
  phase(true);
  const result = await runScenario({
    source,
    filename: args.file,
    kernel,
    ...timeout,
    ...(args.json ? {} : { onEvent: (e: RunEvent) => (!args.jsonl && refusalOf(e) ? out.event(e) : log(e)) }),
  });
  phase(false);
  const needs = memlockRefusals(result.events).length
    ? needsOf(await sizeScenarioRun({ source, filename: args.file, kernel, ...timeout }, phase))
    : new Map<number, ScenarioNeed>();
  const adviceOf = (e: RunEvent): string[] | undefined => {
    const m = refusalOf(e);
    return m ? refusalAdvice(m, needs.get(m.pid)) : undefined;
  };
  out.flush((e) => eventLineWith(e, adviceOf(e)));
  // a scenario that pins its kernel in createHost({ kernel }) ran under that profile, whatever --kernel said
  const pinned = result.session.pinned[0];
  const ran: KernelName = pinned?.kernel ?? kernel;

  if (args.json) {
    // written in pieces: a million events make a document larger than one string can hold
    writeRunDocument(
      {
        scenario: args.file,
        kernel: ran,
        ok: result.ok,
        expectations: result.expectations,
        events: result.events,
        peakLockedVm: result.peakLockedVm,
        error: result.error,
      },
      (s) => out.raw(s),
      (e) => {
        const m = refusalOf(e);
        if (!m) return undefined;
        const need = needs.get(m.pid);
        return {
          chargePages: m.charge,
          lockedVmPages: m.lockedVm,
          limitPages: m.limitPages,
          pageSize: m.pageSize,
          callNeedsBytes: (BigInt(m.lockedVm + m.charge) * BigInt(m.pageSize)).toString(),
          scenarioNeedsBytes: need ? need.minMemlockBytes.toString() : null,
          advice: adviceOf(e),
        };
      },
    );
    out.flush();
  } else if (args.jsonl) {
    io.stdout(
      endLine({
        ...doc0(args.file, ran),
        ok: result.ok,
        expectations: result.expectations,
        events: result.events.length,
        peakLockedVm: result.peakLockedVm,
        error: result.error,
      }),
    );
  } else {
    io.stdout(
      (args.quiet ? quietCounts(result.events) : '') +
        summaryText({
          file: args.file,
          expectations: result.expectations,
          peakLockedVm: result.peakLockedVm,
          pageSizes: pageSizes(result.session),
          error: result.error,
          kernel,
          pinned,
        }),
    );
  }

  if (result.error) {
    io.stderr(`dmawb: ${where(args.file, result.error)}: ${result.error.message}\n`);
    return EXIT.incomplete; // and no --snapshot / --report: the run did not complete
  }

  // -- outputs, only for a completed run --
  // --snapshot-at: an event of this run, else a usage error and nothing written (not even --report)
  if (args.snapshotAt !== undefined && args.snapshotAt > result.events.length) {
    io.stderr(
      `dmawb: --snapshot-at ${args.snapshotAt} is past the end of the run: its events are seq 1 to ${result.events.length}; nothing was written\n`,
    );
    return EXIT.usage;
  }
  try {
    if (args.snapshot !== undefined) {
      const meta = {
        appName: 'dma-workbench',
        appVersion: await version(),
        kernel: ran,
        scenarioName: args.file,
        scenarioSha256: createHash('sha256').update(source).digest('hex'),
      };
      const doc =
        args.snapshotAt === undefined
          ? snapshotOf(result.session, meta)
          : // the state after that event: the run's log folded as the workbench's time travel does
            toSnapshotJson({ meta, state: stateAfter(result.events, args.snapshotAt) });
      await writeFileAtomic(args.snapshot, JSON.stringify(doc, null, 1) + '\n');
    }
    if (args.report !== undefined)
      await writeFileAtomic(args.report, reportOf(result, args.file, ran, adviceOf));
  } catch (e) {
    io.stderr(`dmawb: cannot write output: ${readError(e)}\n`);
    return EXIT.incomplete;
  }
  return result.expectations.failed === 0 ? EXIT.ok : EXIT.failed;
}

/** the state after event `seq` (1-based), folded from the run's log from the start */
function stateAfter(events: Iterable<RunEvent>, seq: number): WorldState {
  const s = emptyState();
  for (const e of events) {
    if (e.seq > seq) break;
    applyEvent(s, e);
  }
  return s;
}

/** a scenario file's text, or null after saying on stderr why it cannot be read */
async function readScenario(file: string, io: CliIo): Promise<string | null> {
  try {
    return await readLimited(file, MAX_SCENARIO_BYTES);
  } catch (e) {
    io.stderr(`dmawb: cannot read scenario file '${file}': ${readError(e)}\n`);
    return null;
  }
}

/**
 * `run <file> --kernel both` (or `--kernel A,B`): the scenario under each profile of the pair (default 4.2
 * and mainline), then where their ioctl calls diverge (engine/profile-compare.ts). Exit code: the worse of
 * the two runs' codes.
 */
async function runBoth(args: RunArgs, io: CliIo, phase: ScenarioPhase): Promise<number> {
  const source = await readScenario(args.file, io);
  if (source === null) return EXIT.incomplete;
  const runs: Partial<Record<KernelName, ProfileRunInput>> = {};
  const pair = args.pair ?? PROFILES;
  let code: number = EXIT.ok;
  for (const kernel of pair) {
    phase(true);
    const r = await runScenario({
      source,
      filename: args.file,
      kernel,
      ...(args.timeoutSeconds !== undefined ? { timeoutMs: Math.round(args.timeoutSeconds * 1000) } : {}),
    });
    phase(false);
    runs[kernel] = r;
    if (r.error) io.stderr(`dmawb: ${kernel}: ${where(args.file, r.error)}: ${r.error.message}\n`);
    code = Math.max(code, r.error ? EXIT.incomplete : r.expectations.failed > 0 ? EXIT.failed : EXIT.ok);
  }
  io.stdout(
    profileComparisonText(compareProfiles(args.file, runs, undefined, undefined, pair)).join('\n') + '\n',
  );
  return code;
}

/**
 * `size <file>` (scenario-api.md §4.1): the scenario with RLIMIT_MEMLOCK unchecked, the minimal limit per
 * process verified by two reruns, libvirt's limit beside it. Exit: 0 reported, 2 could not complete.
 * cli/run-worker.ts calls it inside the worker of cli/sandboxed.ts; `phase` is told when each run starts
 * and ends (the deadline watchdog).
 */
export async function sizeCommand(
  args: SizeArgs,
  io: CliIo,
  phase: ScenarioPhase = () => {},
): Promise<number> {
  const kernel: KernelName = args.kernel ?? 'mainline';
  const source = await readScenario(args.file, io);
  if (source === null) return EXIT.incomplete;
  const report = await sizeScenarioRun(
    {
      source,
      filename: args.file,
      kernel,
      ...(args.timeoutSeconds !== undefined ? { timeoutMs: Math.round(args.timeoutSeconds * 1000) } : {}),
    },
    phase,
  );
  if (report.error) {
    io.stderr(`dmawb: ${where(args.file, report.error)}: ${report.error.message}\n`);
    return EXIT.incomplete;
  }
  if (args.json) io.stdout(JSON.stringify(sizeDocument(args.file, kernel, report)) + '\n');
  else io.stdout(sizeText(report, args.file, kernel).join('\n') + '\n');
  return EXIT.ok;
}

/** `diff <a> <b>`: what changed from snapshot a to snapshot b; 0 none, 1 differences, 2 a bad file */
async function diff(a: string, b: string, io: CliIo): Promise<number> {
  const snaps: Snapshot[] = [];
  for (const f of [a, b]) {
    let text: string;
    try {
      text = await readLimited(f, SNAPSHOT_MAX_BYTES);
    } catch (e) {
      io.stderr(`dmawb: cannot read snapshot file '${f}': ${readError(e)}\n`);
      return EXIT.incomplete;
    }
    try {
      snaps.push(parseSnapshot(text));
    } catch (e) {
      io.stderr(`dmawb: ${f}: ${e instanceof SnapshotError ? e.message : String(e)}\n`);
      return EXIT.incomplete;
    }
  }
  const [x, y] = snaps as [Snapshot, Snapshot];
  const { lines } = diffStates(x.state, y.state);
  const label = (f: string, s: Snapshot) =>
    `${f} (${s.meta.scenarioName} · ${s.meta.kernel} · after seq ${s.state.seq})`;
  if (lines.length === 0) {
    io.stdout(`no differences: ${label(a, x)} and ${label(b, y)}\n`);
    return EXIT.ok;
  }
  io.stdout([`--- ${label(a, x)}`, `+++ ${label(b, y)}`, ...lines].join('\n') + '\n');
  return EXIT.failed;
}

/**
 * a file's text, refused when it is a directory or larger than `max` bytes; only regular files, read
 * through a size-guarded loop (host/workspace.ts), so /dev/zero or a /proc file cannot fill the memory
 */
async function readLimited(file: string, max: number): Promise<string> {
  const st = await stat(file);
  if (st.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
  if (st.size > max) throw new Error(`it is larger than ${max / (1024 * 1024)} MiB`);
  return readTextLimited(file, max);
}

function reportOf(
  r: RunResult<Session>,
  file: string,
  kernel: KernelName,
  advice: (e: RunEvent) => string[] | undefined,
): string {
  return renderReport({
    advice,
    scenario: file,
    kernel,
    ok: r.ok,
    expectations: r.expectations,
    error: null,
    events: r.events,
    state: captureState(r.session.kernels, r.session.events.length),
  });
}

/** system page size per pid, from the session's hosts */
function pageSizes(session: Session): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of session.kernels) for (const p of k.procs) out[p.pid] = k.pageSize;
  return out;
}

let cachedVersion: string | undefined;
async function version(): Promise<string> {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    cachedVersion = pkg.version ?? '0.0.0';
  }
  return cachedVersion;
}

/** the first fields of a --jsonl end line */
function doc0(file: string, kernel: KernelName) {
  return { scenario: file, kernel, ok: false, expectations: { passed: 0, failed: 0 }, peakLockedVm: {} };
}

/** what the run prints as each event is recorded: the text log, its failures only, or JSON lines */
function onEventFor(args: RunArgs, out: Buffered): (e: RunEvent) => void {
  if (args.jsonl) return (e) => out.line(JSON.stringify(jsonEvent(e)));
  if (args.quiet) return (e) => void (isFailure(e) && out.line(eventLine(e)));
  return (e) => out.line(eventLine(e));
}

/**
 * Collects log lines and writes them in chunks (a run can have a million events). An event given with
 * event() is rendered only at a flush with a renderer (its memlock advice), and holds everything after it.
 */
class Buffered {
  private parts: (string | RunEvent)[] = [];
  private size = 0;
  private held = false;
  constructor(private readonly io: CliIo) {}
  line(s: string): void {
    this.raw(s + '\n');
  }
  /** text as it is, no newline added */
  raw(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 64 * 1024 && !this.held) this.flush();
  }
  event(e: RunEvent): void {
    this.parts.push(e);
    this.held = true;
  }
  flush(render: (e: RunEvent) => string = (e) => eventLine(e)): void {
    if (this.parts.length === 0) return;
    this.io.stdout(this.parts.map((p) => (typeof p === 'string' ? p : render(p) + '\n')).join(''));
    this.parts = [];
    this.size = 0;
    this.held = false;
  }
}
