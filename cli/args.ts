/**
 * Command-line arguments of `dmawb` (scenario-api.md §4). Anything not understood is a usage error
 * (exit code 64) with a one-line reason; nothing is guessed.
 */
import { KERNEL_NAMES, isKernelName, parseKernelPair, type KernelName } from '../common/kernels.ts';
import {
  EXPORT_C_EXIT,
  EXPORT_C_HELP,
  EXPORT_C_SYNOPSIS,
  parseExportCArgs,
  type ExportCArgs,
} from './export-c.ts';
import { IMPORT_HELP, IMPORT_SYNOPSIS, parseImportArgs, type ImportArgs } from './import.ts';
import { scanArgv } from './argv.ts';

export const USAGE = `usage: dmawb run <scenario.ts> [--kernel 4.2|5.x|mainline|both|A,B] [--json | --jsonl | --quiet] [--snapshot <out.json> [--snapshot-at <seq>]] [--report <out.md>] [--timeout <seconds>]
       dmawb size <scenario.ts> [--kernel 4.2|5.x|mainline] [--json] [--timeout <seconds>]
       dmawb diff <a.snapshot.json> <b.snapshot.json>
${EXPORT_C_SYNOPSIS}
${IMPORT_SYNOPSIS}
       dmawb --help | --version

  run <scenario.ts>     run a scenario file in the sandbox against the emulated kernel
  --kernel 4.2|5.x|mainline
                        profile for createHost() calls that name none (default: mainline)
  --kernel both         run under 4.2 and under mainline and print where their ioctl calls diverge
                        (not with --json, --snapshot or --report; exit code: the worse of the two runs)
  --kernel A,B          the same for any two profiles, e.g. --kernel 4.2,5.x or --kernel 5.x,mainline
  --json                print exactly one JSON document (format "dmawb-run") instead of the log
  --jsonl               stream JSON lines instead: a {"format":"dmawb-run-start",…} line, one line per event
                        (the fields of --json's events), a {"format":"dmawb-run-end",…} line with the result
  --quiet               print only failed calls and failed expectations (each with its why) and the summary
  --snapshot <file>     write the final state as a snapshot (only when the scenario completes)
  --snapshot-at <seq>   with --snapshot: the state after event <seq> instead of the final one (seq as the
                        log prints it, 1 to the number of events; out of range: exit 64, nothing written)
  --report <file>       write a Markdown report of the run (only when the scenario completes)
  --timeout <seconds>   CPU budget of the run (default 30)

  size <scenario.ts>    the RLIMIT_MEMLOCK each process needs: run once with the limit unchecked (as
                        with CAP_IPC_LOCK), report the peak, the event reaching it and what it is made
                        of, verify by rerunning at that limit and one page below, and compare with the
                        limit libvirt would set where the scenario describes a guest; --json prints one
                        "dmawb-size" document. Exit codes: 0 reported, 2 could not complete, 64 usage

  diff <a> <b>          print what changed from snapshot a to snapshot b (files written by --snapshot
                        or the workbench's Export snapshot)
${EXPORT_C_HELP}
${IMPORT_HELP}

exit codes: 0 completed, all expectations passed; 1 completed, an expectation failed;
            2 could not complete (compile error, exception, time or memory budget); 64 usage error
diff:       0 no differences; 1 differences; 2 a file cannot be read or is not a valid snapshot; 64 usage error
${EXPORT_C_EXIT}
import:     0 written; 2 nothing importable or a capture cannot be read (file and line named); 64 usage error
`;

export interface SizeArgs {
  file: string;
  kernel: KernelName | undefined;
  json: boolean;
  timeoutSeconds: number | undefined;
}

export interface RunArgs {
  file: string;
  /** 'both': run under each profile of `pair` and print where they diverge */
  kernel: KernelName | 'both' | undefined;
  /** the two profiles compared when kernel is 'both' (--kernel both: 4.2 and mainline; --kernel A,B) */
  pair?: readonly [KernelName, KernelName];
  json: boolean;
  /** --jsonl: JSON lines, one per event, as the run goes */
  jsonl: boolean;
  /** --quiet: failures and the summary only */
  quiet: boolean;
  snapshot: string | undefined;
  /** --snapshot-at: the snapshot is of the state after this event (checked against the run's length) */
  snapshotAt?: number;
  report: string | undefined;
  timeoutSeconds: number | undefined;
}

export type Parsed =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; args: RunArgs }
  | { kind: 'diff'; a: string; b: string }
  | { kind: 'size'; args: SizeArgs }
  | { kind: 'export-c'; args: ExportCArgs }
  | { kind: 'import'; args: ImportArgs }
  | { kind: 'usage'; message: string };

const VALUE_FLAGS = new Set(['--kernel', '--snapshot', '--snapshot-at', '--report', '--timeout', '--out']);
/** the output modes: one at most */
const MODE_FLAGS = new Set(['--json', '--jsonl', '--quiet']);

export function parseArgs(argv: readonly string[]): Parsed {
  const dashDash = argv.indexOf('--');
  const options = dashDash < 0 ? argv : argv.slice(0, dashDash);
  if (options.includes('--help') || options.includes('-h')) return { kind: 'help' };
  if (options.includes('--version')) return { kind: 'version' };
  const usage = (message: string): Parsed => ({ kind: 'usage', message });
  // `import` has its own flags (cli/import.ts)
  if (options[0] === 'import') return parseImportArgs(argv.slice(1));

  let json = false;
  const modes = new Set<string>();
  const scanned = scanArgv(argv, {
    valueFlags: VALUE_FLAGS,
    switches: MODE_FLAGS,
    onSwitch: (name) => {
      if (modes.has(name)) return `${name} given twice`;
      if (modes.size) return `${name} cannot be combined with ${[...modes][0]}`;
      modes.add(name);
      json = name === '--json';
      return undefined;
    },
    unknown: (name) => `unknown option '${name}'`,
  });
  if ('error' in scanned) return usage(scanned.error);
  const { positional, values } = scanned;

  if (positional.length === 0) return usage('missing command (run, size or diff)');
  if (positional[0] === 'diff') {
    const given = [...values.keys(), ...modes];
    if (given.length) return usage(`diff takes no options, got '${given[0]}'`);
    if (positional.length < 3)
      return usage(
        positional.length < 2 ? 'missing snapshot files to compare' : 'missing the second snapshot file',
      );
    if (positional.length > 3) return usage(`unexpected argument '${positional[3]}'`);
    return { kind: 'diff', a: positional[1]!, b: positional[2]! };
  }
  if (positional[0] !== 'run' && (modes.has('--jsonl') || modes.has('--quiet')))
    return usage(`${[...modes][0]} is an option of run`);
  if (positional[0] === 'export-c') return parseExportCArgs(positional, values, json);
  if (values.has('--out')) return usage('--out is an option of export-c');
  if (positional[0] === 'size') {
    for (const v of ['--snapshot', '--snapshot-at', '--report'])
      if (values.has(v)) return usage(`size takes no ${v} option`);
    if (positional.length < 2) return usage('missing scenario file');
    if (positional.length > 2) return usage(`unexpected argument '${positional[2]}'`);
    const k = values.get('--kernel');
    if (k !== undefined && !isKernelName(k))
      return usage(`--kernel must be one of ${KERNEL_NAMES.join(', ')}, got '${k}'`);
    const t = values.get('--timeout');
    if (t !== undefined && (!/^\d+(\.\d+)?$/.test(t) || !(Number(t) > 0) || Number(t) > 86_400))
      return usage(`--timeout must be a number of seconds between 0 and 86400, got '${t}'`);
    return {
      kind: 'size',
      args: {
        file: positional[1]!,
        kernel: k,
        json,
        timeoutSeconds: t === undefined ? undefined : Number(t),
      },
    };
  }
  if (positional[0] !== 'run') return usage(`unknown command '${positional[0]}'`);
  if (positional.length < 2) return usage('missing scenario file');
  if (positional.length > 2) return usage(`unexpected argument '${positional[2]}'`);

  const kernelArg = values.get('--kernel');
  let kernel: KernelName | 'both' | undefined;
  let pair: readonly [KernelName, KernelName] | undefined;
  if (kernelArg === undefined || isKernelName(kernelArg)) kernel = kernelArg;
  else if (kernelArg === 'both' || kernelArg.includes(',')) {
    const p = parseKernelPair(kernelArg);
    if (typeof p === 'string') return usage(`--kernel ${kernelArg}: ${p}`);
    kernel = 'both';
    pair = p;
  } else
    return usage(
      `--kernel must be one of ${KERNEL_NAMES.join(', ')}, both or two of them as A,B, got '${kernelArg}'`,
    );
  if (kernel === 'both') {
    const other = modes.size
      ? [...modes][0]
      : values.has('--snapshot')
        ? '--snapshot'
        : values.has('--report')
          ? '--report'
          : null;
    if (other) return usage(`--kernel ${kernelArg} cannot be combined with ${other}`);
  }
  const timeout = values.get('--timeout');
  let timeoutSeconds: number | undefined;
  if (timeout !== undefined) {
    timeoutSeconds = Number(timeout);
    if (!/^\d+(\.\d+)?$/.test(timeout) || !(timeoutSeconds > 0) || timeoutSeconds > 86_400) {
      return usage(`--timeout must be a number of seconds between 0 and 86400, got '${timeout}'`);
    }
  }
  const at = values.get('--snapshot-at');
  let snapshotAt: number | undefined;
  if (at !== undefined) {
    if (!values.has('--snapshot')) return usage('--snapshot-at needs --snapshot <file> (where to write it)');
    snapshotAt = Number(at);
    if (!/^\d+$/.test(at) || snapshotAt < 1 || !Number.isSafeInteger(snapshotAt))
      return usage(`--snapshot-at must be an event seq (a whole number from 1), got '${at}'`);
  }
  return {
    kind: 'run',
    args: {
      file: positional[1]!,
      kernel,
      ...(pair ? { pair } : {}),
      json,
      jsonl: modes.has('--jsonl'),
      quiet: modes.has('--quiet'),
      snapshot: values.get('--snapshot'),
      ...(snapshotAt !== undefined ? { snapshotAt } : {}),
      report: values.get('--report'),
      timeoutSeconds,
    },
  };
}
