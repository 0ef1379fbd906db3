/**
 * One scenario run against a given session: compile (compile.ts), run in the sandbox (sandbox.ts), collect
 * the result. run.ts supplies the engine's Session; tests and benchmarks may supply a fake one. No Node
 * APIs: this runs in the CLI process and in the workbench's worker thread alike.
 */
import type { EventList } from '../engine/events.ts';
import { Bridge, type SessionLike } from './bridge.ts';
import { compileScenario } from './compile.ts';
import { runInSandbox, type RunError, type SandboxOptions } from './sandbox.ts';

export type { RunError, ErrorKind } from './sandbox.ts';

/** What a run needs of its session beyond the bridge's calls. */
export interface RunSession extends SessionLike {
  readonly events: EventList;
  readonly expectations: { passed: number; failed: number };
  readonly peakLockedVm: Record<string, number>;
}

export interface ExecuteOptions extends SandboxOptions {
  /** the scenario's TypeScript source */
  source: string;
  /** how the scenario is named in messages (the path as given) */
  filename?: string;
  /** characters of text (log, expectations, names) the host keeps for the run (bridge.ts) */
  textBudget?: number;
}

export interface RunResult<S extends RunSession = RunSession> {
  /** completed, and every expectation passed */
  ok: boolean;
  expectations: { passed: number; failed: number };
  events: EventList;
  /** peak locked_vm (pages) per pid */
  peakLockedVm: Record<string, number>;
  /** null when the scenario ran to its end */
  error: RunError | null;
  filename: string;
  session: S;
  /** diagnostics of the sandbox (see sandbox.ts) */
  sandbox: { fastPath: boolean; disposedCleanly: boolean; hostCalls: number; lines: 'marks' | 'stack' };
}

export async function executeScenario<S extends RunSession>(
  session: S,
  opts: ExecuteOptions,
): Promise<RunResult<S>> {
  const filename = opts.filename ?? 'scenario.ts';
  const compiled = compileScenario(opts.source);
  let error: RunError | null;
  let sandbox: RunResult['sandbox'] = {
    fastPath: false,
    disposedCleanly: true,
    hostCalls: 0,
    lines: 'stack',
  };
  if (!compiled.ok) {
    error = { kind: 'compile', ...compiled.error };
  } else {
    const bridge = new Bridge(session, opts.textBudget !== undefined ? { textBudget: opts.textBudget } : {});
    const report = await runInSandbox(compiled.js, compiled.source, bridge, opts);
    error = report.error;
    sandbox = {
      fastPath: report.fastPath,
      disposedCleanly: report.disposedCleanly,
      hostCalls: bridge.calls,
      lines: report.lines,
    };
  }
  const expectations = { ...session.expectations };
  return {
    ok: error === null && expectations.failed === 0,
    expectations,
    events: session.events,
    peakLockedVm: { ...session.peakLockedVm },
    error,
    filename,
    session,
    sandbox,
  };
}
