/**
 * `dmawb import <capture>... [--out <scenario.ts>] [--kernel 4.2|5.x|mainline] [--page-size 4096|65536]
 * [--memlock <bytes>|unlimited] [--ram <bytes>]` (scenario-api.md §4.2): the Node side — argument
 * parsing, reading the captures, the atomic write and the stderr summary. The import itself is the pure
 * module interop/import/.
 *
 * Exit codes: 0 written; 2 nothing importable, or an input that cannot be read (the message names file
 * and line); 64 usage.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  CAPTURE_MAX_BYTES,
  IMPORT_KERNELS,
  importCaptureTexts,
  skippedSummary,
  type ImportKernel,
  type ImportOptions,
} from '../interop/import/index.ts';
import { scanArgv } from './argv.ts';
import { readError, writeOutput } from './files.ts';

export interface ImportArgs {
  captures: string[];
  out: string | undefined;
  opts: ImportOptions;
}

export const IMPORT_SYNOPSIS = `       dmawb import <capture>... [--out <scenario.ts>] [--kernel 4.2|5.x|mainline] [--page-size 4096|65536]
                    [--memlock <bytes>|unlimited] [--ram <bytes>]`;

export const IMPORT_HELP = `  import <capture>...   write a scenario that replays what a POWER host recorded and asserts every
                        recorded result: QEMU trace lines (log backend in any form, simpletrace.py text),
                        QEMU/libvirt error lines, kernel locked_vm debug lines, strace -y; a directory
                        stands for its files. \`dmawb run\` of it exits 1 at the first recorded result the
                        emulated host does not reproduce, naming the capture line. Flags give host facts
                        no capture records (else defaults; the scenario's header lists which)`;

type Parsed = { kind: 'import'; args: ImportArgs } | { kind: 'usage'; message: string };

const FLAGS = new Set(['--out', '--kernel', '--page-size', '--memlock', '--ram']);

/** argv after the word `import` */
export function parseImportArgs(argv: readonly string[]): Parsed {
  const usage = (message: string): Parsed => ({ kind: 'usage', message });
  const scanned = scanArgv(argv, {
    valueFlags: FLAGS,
    unknown: (name) => `import: unknown option '${name}'`,
  });
  if ('error' in scanned) return usage(scanned.error);
  const { positional: captures, values } = scanned;
  if (captures.length === 0) return usage('import: missing capture file(s)');
  const opts: ImportOptions = {};
  const kernel = values.get('--kernel');
  if (kernel !== undefined) {
    if (!(IMPORT_KERNELS as readonly string[]).includes(kernel))
      return usage(`--kernel must be one of ${IMPORT_KERNELS.join(', ')}, got '${kernel}'`);
    opts.kernel = kernel as ImportKernel;
  }
  const ps = values.get('--page-size');
  if (ps !== undefined) {
    if (ps !== '4096' && ps !== '65536') return usage(`--page-size must be 4096 or 65536, got '${ps}'`);
    opts.pageSize = Number(ps) as 4096 | 65536;
  }
  const memlock = values.get('--memlock');
  if (memlock !== undefined) {
    if (memlock === 'unlimited') opts.memlock = 'unlimited';
    else if (/^\d+$/.test(memlock) && BigInt(memlock) < 1n << 64n) opts.memlock = BigInt(memlock);
    else return usage(`--memlock must be a number of bytes or 'unlimited', got '${memlock}'`);
  }
  const ram = values.get('--ram');
  if (ram !== undefined) {
    if (!/^\d+$/.test(ram) || BigInt(ram) === 0n || BigInt(ram) >= 1n << 50n)
      return usage(`--ram must be a number of bytes between 1 and 2^50, got '${ram}'`);
    opts.ram = BigInt(ram);
  }
  const out = values.get('--out');
  if (out !== undefined && captures.some((c) => resolve(c) === resolve(out)))
    return usage(`--out names a capture file (${out})`);
  return { kind: 'import', args: { captures, out, opts } };
}

export interface ImportIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function runImport(args: ImportArgs, io: ImportIo): Promise<number> {
  const texts: { file: string; text: string }[] = [];
  // a directory stands for its files (a capture set: QEMU's log, dmesg, strace …), in name order
  const files: string[] = [];
  for (const arg of args.captures) {
    try {
      if ((await stat(arg)).isDirectory()) {
        const names = (await readdir(arg, { withFileTypes: true }))
          .filter((d) => d.isFile() && !d.name.startsWith('.') && !/\.(md|ts)$/.test(d.name))
          .map((d) => d.name)
          .sort();
        if (names.length === 0) throw new Error('a directory with no capture files');
        files.push(...names.map((n) => join(arg, n)));
      } else files.push(arg);
    } catch (e) {
      io.stderr(`dmawb import: cannot read capture '${arg}': ${readError(e)}\n`);
      return 2;
    }
  }
  for (const file of files) {
    try {
      const st = await stat(file);
      if (st.size > CAPTURE_MAX_BYTES)
        throw new Error(`it is larger than ${CAPTURE_MAX_BYTES / (1024 * 1024)} MiB`);
      texts.push({ file, text: utf8OrLatin1(await readFile(file)) });
    } catch (e) {
      io.stderr(`dmawb import: cannot read capture '${file}': ${readError(e)}\n`);
      return 2;
    }
  }
  const r = importCaptureTexts(texts, args.opts);
  for (const p of r.problems) io.stderr(`dmawb import: ${p.at.file}:${p.at.line}: ${p.message}\n`);
  io.stderr(`dmawb import: lines skipped: ${skippedSummary(r.skipped)}\n`);
  if (r.scenario === null) {
    io.stderr(
      `dmawb import: nothing importable in ${args.captures.join(', ')}: no recorded call or locked_vm line\n`,
    );
    return 2;
  }
  if (!(await writeOutput(io, args.out, r.scenario, 'dmawb import'))) return 2;
  io.stderr(
    `dmawb import: ${r.calls} recorded call(s), ${r.checks} recorded result(s) asserted${r.problems.length ? `, ${r.problems.length} problem(s) listed in the header` : ''}${args.out ? ` -> ${args.out}` : ''}\n`,
  );
  return 0;
}

/** captures are mostly ASCII; read UTF-8 when the bytes are valid UTF-8, else keep them as Latin-1 */
function utf8OrLatin1(bytes: Uint8Array): string {
  // decoded from the bytes as read (a copy through a string and an array of its characters does not fit a
  // 100 MiB trace: the array passes V8's array length limit)
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}
