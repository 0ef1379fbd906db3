/**
 * Command-line arguments of `dmawb` (scenario-api.md §4). Anything not understood is a usage error
 * (exit code 64) with a one-line reason; nothing is guessed.
 */
import type { KernelName } from '../engine/api.ts';

export const USAGE = `usage: dmawb run <scenario.ts> [--kernel 4.2|mainline] [--json] [--snapshot <out.json>] [--report <out.md>] [--timeout <seconds>]
       dmawb --help | --version

  run <scenario.ts>     run a scenario file in the sandbox against the emulated kernel
  --kernel 4.2|mainline profile for createHost() calls that name none (default: mainline)
  --json                print exactly one JSON document (format "dmawb-run") instead of the log
  --snapshot <file>     write the final state as a snapshot (only when the scenario completes)
  --report <file>       write a Markdown report of the run (only when the scenario completes)
  --timeout <seconds>   CPU budget of the run (default 30)

exit codes: 0 completed, all expectations passed; 1 completed, an expectation failed;
            2 could not complete (compile error, exception, time or memory budget); 64 usage error
`;

export interface RunArgs {
  file: string;
  kernel: KernelName | undefined;
  json: boolean;
  snapshot: string | undefined;
  report: string | undefined;
  timeoutSeconds: number | undefined;
}

export type Parsed =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; args: RunArgs }
  | { kind: 'usage'; message: string };

const VALUE_FLAGS = new Set(['--kernel', '--snapshot', '--report', '--timeout']);

export function parseArgs(argv: readonly string[]): Parsed {
  const dashDash = argv.indexOf('--');
  const options = dashDash < 0 ? argv : argv.slice(0, dashDash);
  if (options.includes('--help') || options.includes('-h')) return { kind: 'help' };
  if (options.includes('--version')) return { kind: 'version' };
  const usage = (message: string): Parsed => ({ kind: 'usage', message });

  const positional: string[] = [];
  const values = new Map<string, string>();
  let json = false;
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (onlyPositional || !a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    if (a === '--') {
      onlyPositional = true;
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (name === '--json') {
      if (eq > 0) return usage('--json takes no value');
      if (json) return usage('--json given twice');
      json = true;
      continue;
    }
    if (!VALUE_FLAGS.has(name)) return usage(`unknown option '${name}'`);
    if (values.has(name)) return usage(`${name} given twice`);
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return usage(`${name} needs a value`);
      i++;
    }
    if (value === '') return usage(`${name} needs a value`);
    values.set(name, value);
  }

  if (positional.length === 0) return usage('missing command (run)');
  if (positional[0] !== 'run') return usage(`unknown command '${positional[0]}'`);
  if (positional.length < 2) return usage('missing scenario file');
  if (positional.length > 2) return usage(`unexpected argument '${positional[2]}'`);

  const kernel = values.get('--kernel');
  if (kernel !== undefined && kernel !== '4.2' && kernel !== 'mainline') return usage(`--kernel must be 4.2 or mainline, got '${kernel}'`);
  const timeout = values.get('--timeout');
  let timeoutSeconds: number | undefined;
  if (timeout !== undefined) {
    timeoutSeconds = Number(timeout);
    if (!/^\d+(\.\d+)?$/.test(timeout) || !(timeoutSeconds > 0) || timeoutSeconds > 86_400) {
      return usage(`--timeout must be a number of seconds between 0 and 86400, got '${timeout}'`);
    }
  }
  return {
    kind: 'run',
    args: {
      file: positional[1]!,
      kernel: kernel as KernelName | undefined,
      json,
      snapshot: values.get('--snapshot'),
      report: values.get('--report'),
      timeoutSeconds,
    },
  };
}
