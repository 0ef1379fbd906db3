/**
 * The host side of the boundary: serves `hostCall(op, handleId, encodedArgs, callSite)` from the guest
 * prelude against the engine's Session and its API objects (engine/api.ts).
 *
 * - Host objects never enter the guest: each one gets a small integer id here, the guest gets a handle
 *   holding that id, and a handle passed back (`g1.setContainer(C)`) is replaced by the original object
 *   before the engine sees it.
 * - Only the members listed in schema.ts are ever read, called or assigned.
 * - Before every call that may record events, `session.line` is set to the guest call site's line (the
 *   number from instrument.ts's marks, or the first scenario frame of the call's QuickJS stack).
 * - Errors: a ScenarioError (the author's mistake) becomes an ordinary Error thrown at the guest call site,
 *   which the scenario may catch. Anything else (the event budget, a bug in the engine) is fatal: the
 *   guest gets an error too, and the sandbox's interrupt handler ends the run at the next check.
 */
import { ScenarioError, type HostOptions } from '../engine/api.ts';
import { checkEq, checkErrno, checkHcall, checkOk, checkRet, show, type Check } from '../engine/expect.ts';
import {
  HandleMark,
  MAX_STRING,
  Opaque,
  WireError,
  cutText,
  decodeArgs,
  encodeError,
  encodeIoctl,
  encodeValue,
} from './codec.ts';
import { errnoName } from '../engine/errno.ts';
import { SCENARIO_FILE } from './prelude.ts';
import { OPS, OP_CREATE_HOST, OP_EXPECT, OP_EXPLAIN, OP_LOG, type ClassName } from './schema.ts';

/** What the bridge needs of a Session (engine/session.ts); tests and benchmarks pass a fake. */
export interface SessionLike {
  line: number | undefined;
  createHost(opts?: HostOptions): object;
  expect(ok: boolean, label: string, actual: string, expected: string): void;
  log(text: string): void;
}

export interface Fatal {
  kind: 'runtime' | 'memory';
  message: string;
  line: number | null;
}

/** Labels and log lines longer than this are cut (the event log lives in the host's memory). */
const MAX_TEXT = MAX_STRING;

/**
 * Text a run may send the host (log lines, expectation labels and values, names and other strings of
 * engine calls), in characters, counted as sent (before MAX_TEXT cuts it). Each piece the host keeps is
 * cut; this bounds their sum and the work of decoding them, so a flood of log() or a 40 MiB name in a
 * loop ends the run with a memory error instead of growing the host's heap until the process dies.
 */
export const DEFAULT_TEXT_BUDGET = 128 * 1024 * 1024;

export interface BridgeOptions {
  /** text budget in characters (default DEFAULT_TEXT_BUDGET) */
  textBudget?: number;
}

export class Bridge {
  /** host objects by handle id (0 = none: global functions) */
  private readonly objects: unknown[] = [undefined];
  private readonly kinds: (ClassName | undefined)[] = [undefined];
  private readonly ids = new Map<unknown, number>();
  /** set when the run must stop; the sandbox polls it */
  fatal: Fatal | null = null;
  /** number of guest→host calls served (diagnostics, benchmarks) */
  calls = 0;
  /** `explain` texts of the ioctl results that crossed as numbers, by token - 1 */
  private readonly explains: string[] = [];

  /** characters of text sent so far (see DEFAULT_TEXT_BUDGET) */
  textChars = 0;
  private readonly textBudget: number;
  private readonly countText = (n: number): void => {
    this.textChars += n;
  };

  constructor(
    private readonly session: SessionLike,
    opts: BridgeOptions = {},
  ) {
    this.textBudget = opts.textBudget ?? DEFAULT_TEXT_BUDGET;
  }

  call(
    op: number,
    id: number,
    payload: string | number,
    site: string | number,
    fields?: unknown[],
  ): string | number | undefined {
    this.calls++;
    const line = typeof site === 'number' ? (site > 0 ? site : undefined) : site ? lineOf(site) : undefined;
    if (this.fatal) return encodeError(true, 'Error', this.fatal.message);
    const spec = OPS[op];
    if (spec === undefined) return encodeError(false, 'TypeError', 'unknown scenario API operation');
    try {
      if (!spec.inspect) this.session.line = line;
      if (typeof payload === 'number') payload = ''; // 0: no payload; field kinds: the values are in `fields`
      if (op === OP_EXPECT) return this.expect(payload);
      if (op === OP_LOG) return this.log(payload);
      if (op === OP_EXPLAIN)
        return encodeValue(this.explains[Number(decodeArgs(payload, () => ({}))[0]) - 1]);
      const args =
        fields && spec.fields
          ? [fieldsObject(spec.fields, fields)]
          : decodeArgs(payload, (h) => this.objectOf(h), { plainData: true, onText: this.countText });
      this.checkText();
      let result: unknown;
      if (op === OP_CREATE_HOST) {
        result = this.session.createHost(args[0] as never);
      } else {
        if (this.kinds[id] !== spec.cls)
          throw new ScenarioError(`${spec.name}: the object it was called on is not a ${spec.cls}`);
        const target = this.objects[id] as Record<string, unknown>;
        if (spec.type === 'get') result = target[spec.name];
        else if (spec.type === 'set') target[spec.name] = args[0];
        else result = (target[spec.name] as (...a: unknown[]) => unknown)(...args.slice(0, spec.arity ?? 1));
      }
      if (spec.returns === 'ioctl' && spec.outHandles)
        return this.ioctlWithHandles(result as IoctlResultLike, spec.outHandles);
      if (spec.returns === 'ioctl') return this.ioctlResult(result as IoctlResultLike);
      if (result === null && spec.nullable) return 'N';
      if (spec.returns === 'value') return encodeValue(result);
      return this.handleOf(result, spec.returns);
    } catch (e) {
      return this.error(e, line);
    }
  }

  /**
   * An IoctlResult without `out` crosses as one number, token · 2^22 + (ret + 2^21); the guest derives
   * errno from ret (the same table as engine/errno.ts) and fetches `explain` by token only if it is read.
   */
  private ioctlResult(r: IoctlResultLike): string | number {
    const ret = r?.ret;
    if (
      r?.out === undefined &&
      Number.isInteger(ret) &&
      ret >= -RET_BIAS &&
      ret < RET_BIAS &&
      typeof r.explain === 'string' &&
      r.errno === (ret < 0 ? (errnoName(ret) ?? `E${-ret}`) : undefined)
    ) {
      const token = this.explains.push(r.explain);
      return token * RET_SPAN + (ret + RET_BIAS);
    }
    return encodeIoctl(r);
  }

  /** an ioctl result whose `out` carries host objects: each becomes a handle of its class in the guest */
  private ioctlWithHandles(r: IoctlResultLike, handles: Readonly<Record<string, ClassName>>): string {
    if (r?.out === undefined || r.out === null || typeof r.out !== 'object') return encodeIoctl(r);
    const out: Record<string, unknown> = { ...(r.out as Record<string, unknown>) };
    for (const [k, cls] of Object.entries(handles))
      if (out[k] !== undefined) out[k] = new HandleMark(this.handleOf(out[k], cls).slice(1));
    return encodeIoctl({ ...r, out });
  }

  /** the id of a host object, registering it on first sight */
  private handleOf(obj: unknown, cls: ClassName): string {
    if (obj === null || typeof obj !== 'object')
      throw new Error(`expected a ${cls} object from the engine, got ${obj === null ? 'null' : typeof obj}`);
    let id = this.ids.get(obj);
    if (id === undefined) {
      id = this.objects.length;
      this.objects.push(obj);
      this.kinds.push(cls);
      this.ids.set(obj, id);
    }
    return `H${cls}:${id}`;
  }

  private objectOf(id: number): object {
    const o = this.objects[id];
    if (!Number.isInteger(id) || id <= 0 || o === undefined) throw new WireError('unknown object handle');
    return o as object;
  }

  /** expect(kind, actual, expected, label, sameObject) — semantics of engine/expect.ts (scenario-api.md §3) */
  private expect(payload: string): undefined {
    const [kind, a, b, label, same] = decodeArgs(payload, (h) => this.describe(h), {
      onText: this.countText,
    });
    this.checkText();
    let c: Check;
    switch (kind) {
      case 'ok':
        c = checkOk(a);
        break;
      case 'errno':
        c = checkErrno(a, b);
        break;
      case 'ret':
        c = checkRet(a, b);
        break;
      case 'hcall': {
        const [ret, by] = Array.isArray(b) ? b : [];
        c = checkHcall(a, ret, by);
        break;
      }
      default:
        c = checkEq(a, b);
        // objects are copies on this side: identity was decided in the guest (Object.is)
        if (isObject(a) || isObject(b)) c = { ...c, ok: same === true };
    }
    this.session.expect(c.ok, cut(String(label ?? '')), cut(c.actual), cut(c.expected));
    return undefined;
  }

  /** over the text budget the run ends (a fatal BudgetError, reported as a memory error) */
  private checkText(): void {
    if (this.textChars > this.textBudget)
      throw new BudgetError(
        `memory budget exceeded: the scenario's log, expectation and name text passed ${Math.round(this.textBudget / (1024 * 1024))} MiB`,
      );
  }

  private log(payload: string): undefined {
    const [values] = decodeArgs(payload, (h) => this.describe(h), { onText: this.countText }) as [unknown[]];
    this.checkText();
    this.session.log(cut(values.map((v) => (typeof v === 'string' ? v : show(v))).join(' ')));
    return undefined;
  }

  /** how a handle reads in expectation messages and log lines */
  private describe(id: number): object {
    const cls = this.kinds[id];
    if (cls === undefined) throw new WireError('unknown object handle');
    return new Opaque(`[${cls} ${id}]`);
  }

  private error(e: unknown, line: number | undefined): string {
    if (e instanceof ScenarioError || e instanceof WireError) return encodeError(false, e.name, e.message);
    const err = e instanceof Error ? e : new Error(String(e));
    const at = line ?? null;
    if (err.name === 'BudgetError') this.fatal = { kind: 'memory', message: err.message, line: at };
    else if (err instanceof RangeError && /call stack/i.test(err.message)) {
      this.fatal = { kind: 'memory', message: 'stack overflow inside the emulator', line: at };
    } else
      this.fatal = { kind: 'runtime', message: `internal error in the emulator: ${err.message}`, line: at };
    return encodeError(true, err.name, this.fatal.message);
  }
}

interface IoctlResultLike {
  ret: number;
  errno?: string;
  out?: unknown;
  explain?: string;
}

const RET_BIAS = 2 ** 21;
const RET_SPAN = 2 ** 22;
const MARK = ` (${SCENARIO_FILE}:`;

/** the line of the first scenario frame of a QuickJS stack ("    at <eval> (scenario:12:5)") */
export function lineOf(stack: string): number | undefined {
  const i = stack.indexOf(MARK);
  if (i < 0) return undefined;
  const n = parseInt(stack.slice(i + MARK.length), 10);
  return n > 0 ? n : undefined;
}

/** the options object of a call whose fields came as raw values (prelude.ts fieldsMethod) */
function fieldsObject(names: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) if (values[i] !== undefined) o[names[i]!] = values[i];
  return o;
}

function isObject(v: unknown): boolean {
  return (v !== null && typeof v === 'object') || typeof v === 'function';
}

function cut(s: string): string {
  return cutText(s, MAX_TEXT);
}

/** the text budget: the bridge reports it like the engine's event budget (a memory error) */
class BudgetError extends Error {
  override name = 'BudgetError';
}
