/**
 * `dmawb run` and `dmawb size` in a worker thread the command line can terminate (issue 12, item 2). The sandbox's own
 * budgets stop a scenario between bytecodes and at every host call, but not inside one long built-in
 * (`String((1n << 60000n) - 1n)` in a loop) or one long engine call. So the run happens in a worker
 * (cli/run-worker.ts) with a heap limit, and this side terminates it at the scenario's deadline plus a
 * short grace: `--timeout 1` ends within about two seconds whatever the scenario does, and a run that
 * exhausts the heap ends the worker, not this process. Either way: exit 2 and a message.
 */
import { DEFAULT_KERNEL } from '../common/kernels.ts';
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { endLine, runDocument } from './output.ts';
import type { RunArgs, SizeArgs } from './args.ts';

export interface SandboxedIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** what the worker says (cli/run-worker.ts) */
export type RunWorkerMessage =
  | { type: 'out' | 'err'; text: string }
  /** a scenario starts running (its time budget starts) or has ended (outputs are written next) */
  | { type: 'scenario'; running: boolean }
  | { type: 'exit'; code: number };

export const DEFAULT_TIMEOUT_S = 30;
/** compile, QuickJS start-up and the sandbox's own stop, on top of the scenario's time budget */
export const GRACE_MS = 1000;

/** heap of the run worker: half the machine, at least 512 MiB, at most 4 GiB */
export function runHeapMb(): number {
  return Math.max(512, Math.min(4096, Math.floor(totalmem() / 2 / 1024 / 1024)));
}

export interface SandboxedOptions {
  /** heap limit of the worker in MiB (default runHeapMb()) */
  heapMb?: number;
  graceMs?: number;
}

/** what the worker runs (cli/run-worker.ts): `dmawb run` or `dmawb size` */
export type SandboxedJob = { command: 'run'; args: RunArgs } | { command: 'size'; args: SizeArgs };

export function runSandboxed(args: RunArgs, io: SandboxedIo, opts: SandboxedOptions = {}): Promise<number> {
  return sandboxed({ command: 'run', args }, io, opts);
}

/**
 * `dmawb size` under the same watchdog: each of its runs (sizing, at the limit, one page below) tells
 * when it starts and ends, and one that overruns its budget plus the grace ends the worker: exit 2.
 */
export function sizeSandboxed(args: SizeArgs, io: SandboxedIo, opts: SandboxedOptions = {}): Promise<number> {
  return sandboxed({ command: 'size', args }, io, opts);
}

function sandboxed(job: SandboxedJob, io: SandboxedIo, opts: SandboxedOptions): Promise<number> {
  const args = job.args;
  const heapMb = opts.heapMb ?? runHeapMb();
  const budgetMs = Math.round((args.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000);
  const graceMs = opts.graceMs ?? GRACE_MS;
  const worker = new Worker(new URL('../host/worker-dev.mjs', import.meta.url), {
    workerData: { entry: new URL('./run-worker.ts', import.meta.url).href, job },
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
    stdout: false,
    stderr: false,
  });
  return new Promise((resolve) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let workerError: Error | null = null;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(code);
    };
    /** the run ended from this side: say why, in the document too if --json was asked for */
    const ended = (kind: 'timeout' | 'memory', message: string): void => {
      if (settled) return;
      if (job.command === 'size') {
        // `size` prints its document only when it has one; the reason goes to stderr, as for its other errors
        io.stderr(`dmawb: ${args.file}: ${message}\n`);
        finish(2);
        return;
      }
      const run = job.args;
      if (run.json)
        io.stdout(
          JSON.stringify(
            runDocument({
              scenario: args.file,
              kernel: run.kernel === 'both' || run.kernel === undefined ? DEFAULT_KERNEL : run.kernel,
              ok: false,
              expectations: { passed: 0, failed: 0 },
              events: [],
              peakLockedVm: {},
              error: { message, line: null, column: null },
            }),
          ) + '\n',
        );
      else if (run.jsonl)
        io.stdout(
          endLine({
            scenario: args.file,
            kernel: run.kernel === '4.2' ? '4.2' : 'mainline',
            ok: false,
            expectations: { passed: 0, failed: 0 },
            events: null,
            peakLockedVm: {},
            error: { message, line: null, column: null },
          }),
        );
      else io.stdout(`\nresult: could not complete (${kind}) at ${args.file}: ${message}\n`);
      io.stderr(`dmawb: ${args.file}: ${message}\n`);
      finish(2);
    };
    worker.on('message', (m: RunWorkerMessage) => {
      if (settled) return;
      switch (m.type) {
        case 'out':
          io.stdout(m.text);
          return;
        case 'err':
          io.stderr(m.text);
          return;
        case 'scenario':
          if (timer) clearTimeout(timer);
          timer = undefined;
          if (m.running)
            timer = setTimeout(() => {
              void worker.terminate();
              ended(
                'timeout',
                `time budget exceeded: the scenario ran for more than ${formatSeconds(budgetMs)} ` +
                  `(ended from outside the sandbox ${formatSeconds(graceMs)} later: it was inside one long built-in or engine call)`,
              );
            }, budgetMs + graceMs);
          return;
        case 'exit':
          finish(m.code);
          void worker.terminate();
          return;
      }
    });
    worker.on('error', (e) => {
      workerError = e;
    });
    worker.on('exit', () => {
      if (settled) return;
      const e = workerError as (Error & { code?: string }) | null;
      if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY')
        ended(
          'memory',
          `memory budget exceeded: the run used more than its ${heapMb} MiB of host memory, so it was ended`,
        );
      else {
        io.stderr(`dmawb: internal error: ${e ? e.message : 'the run worker exited without a result'}\n`);
        finish(2);
      }
    });
  });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
