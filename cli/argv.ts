/**
 * The command line's one argument scanner, shared by `dmawb run/size/diff/export-c` (cli/args.ts) and
 * `dmawb import` (cli/import.ts): positionals, `--flag value` and `--flag=value` options (each at most
 * once, never empty), switches that take no value, `--` ending the options and `-` as a positional.
 */
export interface Scanned {
  positional: string[];
  values: Map<string, string>;
}

/**
 * Scans `argv` in order. A switch is handed to `onSwitch` where it stands (its answer, if any, is the
 * error); an option not in `valueFlags` is an error worded by `unknown`. Returns the first error met.
 */
export function scanArgv(
  argv: readonly string[],
  opts: {
    valueFlags: ReadonlySet<string>;
    switches?: ReadonlySet<string>;
    onSwitch?: (name: string) => string | undefined;
    unknown: (name: string) => string;
  },
): Scanned | { error: string } {
  const positional: string[] = [];
  const values = new Map<string, string>();
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
    if (opts.switches?.has(name)) {
      if (eq > 0) return { error: `${name} takes no value` };
      const error = opts.onSwitch?.(name);
      if (error !== undefined) return { error };
      continue;
    }
    if (!opts.valueFlags.has(name)) return { error: opts.unknown(name) };
    if (values.has(name)) return { error: `${name} given twice` };
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return { error: `${name} needs a value` };
      i++;
    }
    if (value === '') return { error: `${name} needs a value` };
    values.set(name, value);
  }
  return { positional, values };
}
