/**
 * export-c end to end without I/O: run the scenario on the emulated host, then write the program from
 * the run's events (generate.ts). The command line (cli/export-c.ts) and the workbench's engine worker
 * both call this; they only differ in where the text goes.
 */
import type { KernelName } from '../../engine/api.ts';
import { runScenario, type RunError } from '../../runner/run.ts';
import { hostFacts } from './facts.ts';
import { generateC } from './generate.ts';

export { generateC, ExportError, type ExportInput, type ExportEvent, type HostFacts } from './generate.ts';
export { hostFacts } from './facts.ts';

export interface ExportCOptions {
  source: string;
  filename: string;
  kernel: KernelName;
  timeoutMs?: number;
  memoryLimitBytes?: number;
  maxEvents?: number;
  generator?: string;
  /** the scenario runner (default: runScenario; the workbench's tests wrap it) */
  runner?: typeof runScenario;
}

export type ExportCResult =
  | { ok: true; text: string; events: number; expectations: { passed: number; failed: number } }
  | { ok: false; error: RunError };

export async function exportC(opts: ExportCOptions): Promise<ExportCResult> {
  const r = await (opts.runner ?? runScenario)({
    source: opts.source,
    filename: opts.filename,
    kernel: opts.kernel,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.memoryLimitBytes !== undefined ? { memoryLimitBytes: opts.memoryLimitBytes } : {}),
    ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
  });
  if (r.error) return { ok: false, error: r.error };
  const text = generateC({
    scenario: opts.filename,
    source: opts.source,
    kernel: opts.kernel,
    events: r.events.slice(), // the run's EventStore materialised as an array
    hosts: hostFacts(r.session.kernels),
    expectations: r.expectations,
    ...(opts.generator !== undefined ? { generator: opts.generator } : {}),
  });
  return { ok: true, text, events: r.events.length, expectations: r.expectations };
}
