/**
 * `dmawb export-c <scenario.ts> [--kernel 4.2|5.x|mainline] [--out <file.c>] [--timeout <seconds>]`
 * (scenario-api.md §4.3): runs the scenario on the emulated host and writes the C program that replays
 * it on a real one (interop/export-c). Exit codes: 0 written; 2 the scenario could not complete (or the
 * output could not be written); 64 usage. The file is written atomically, and only for a completed run.
 */
import { KERNEL_NAMES } from '../common/kernels.ts';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { KernelName } from '../engine/api.ts';
import { exportC, ExportError } from '../interop/export-c/index.ts';
import { readError, writeOutput } from './files.ts';
import { where } from './output.ts';

export const EXPORT_C_SYNOPSIS =
  '       dmawb export-c <scenario.ts> [--kernel 4.2|5.x|mainline] [--out <file.c>] [--timeout <seconds>]';

export const EXPORT_C_HELP = `  export-c <scenario.ts> write the scenario as a C11 program for a real POWER host (to --out, else
                        stdout): the same calls in the same order, each result and locked_vm checked
                        against the emulated host's, TAP output. Build it with cc -std=gnu11, run it as
                        root with one real IOMMU group number per emulated group (./repro 42 43)`;

export const EXPORT_C_EXIT = 'export-c:   0 written; 2 the scenario could not complete; 64 usage error';

/** the profiles export-c accepts: every profile (common/kernels.ts) */
const KERNELS = KERNEL_NAMES;

export interface ExportCArgs {
  file: string;
  kernel: string;
  out: string | undefined;
  timeoutSeconds: number | undefined;
}

/** the export-c part of the command line, after args.ts has split options from operands */
export function parseExportCArgs(
  positional: readonly string[],
  values: ReadonlyMap<string, string>,
  json: boolean,
): { kind: 'export-c'; args: ExportCArgs } | { kind: 'usage'; message: string } {
  const usage = (message: string) => ({ kind: 'usage' as const, message });
  if (json) return usage('export-c takes no --json');
  for (const name of values.keys())
    if (name !== '--kernel' && name !== '--out' && name !== '--timeout')
      return usage(`export-c takes no ${name}`);
  if (positional.length < 2) return usage('missing scenario file');
  if (positional.length > 2) return usage(`unexpected argument '${positional[2]}'`);
  const kernel = values.get('--kernel') ?? 'mainline';
  if (!(KERNELS as readonly string[]).includes(kernel))
    return usage(`--kernel must be 4.2, 5.x or mainline, got '${kernel}'`);
  const timeout = values.get('--timeout');
  let timeoutSeconds: number | undefined;
  if (timeout !== undefined) {
    timeoutSeconds = Number(timeout);
    if (!/^\d+(\.\d+)?$/.test(timeout) || !(timeoutSeconds > 0) || timeoutSeconds > 86_400)
      return usage(`--timeout must be a number of seconds between 0 and 86400, got '${timeout}'`);
  }
  const out = values.get('--out');
  if (out !== undefined && resolve(out) === resolve(positional[1]!))
    return usage(`--out is the scenario file itself (${out})`);
  return { kind: 'export-c', args: { file: positional[1]!, kernel, out, timeoutSeconds } };
}

interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function exportCCommand(args: ExportCArgs, io: Io, version: string): Promise<number> {
  let source: string;
  try {
    const st = await stat(args.file);
    if (st.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (st.size > 4 * 1024 * 1024) throw new Error('it is larger than 4 MiB');
    source = await readFile(args.file, 'utf8');
  } catch (e) {
    io.stderr(`dmawb: cannot read scenario file '${args.file}': ${readError(e)}\n`);
    return 2;
  }
  let r;
  try {
    r = await exportC({
      source,
      filename: args.file,
      kernel: args.kernel as KernelName,
      generator: `dma-workbench ${version}`,
      ...(args.timeoutSeconds !== undefined ? { timeoutMs: Math.round(args.timeoutSeconds * 1000) } : {}),
    });
  } catch (e) {
    if (!(e instanceof ExportError)) throw e;
    io.stderr(`dmawb: ${args.file}: cannot export: ${e.message}\n`);
    return 2;
  }
  if (!r.ok) {
    io.stderr(`dmawb: ${where(args.file, r.error)}: ${r.error.message}\n`);
    io.stderr('dmawb: the scenario did not complete, so there is no program to write\n');
    return 2;
  }
  if (!(await writeOutput(io, args.out, r.text, 'dmawb'))) return 2;
  if (args.out !== undefined) {
    io.stderr(
      `dmawb: wrote ${args.out} (${r.events} events; emulated expectations ${r.expectations.passed} passed, ${r.expectations.failed} failed)\n`,
    );
  }
  return 0;
}
