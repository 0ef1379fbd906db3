/**
 * Scenario API layer: models no kernel file.
 * Expectation semantics (scenario-api.md §3), shared by the sandboxed runner and the engine's own tests.
 * Each check returns whether it passed and how actual and expected read in the event log.
 */
import { errno as ERRNO, formatRet } from './errno.ts';

export interface Check {
  ok: boolean;
  actual: string;
  expected: string;
}

interface ResultLike {
  ret?: unknown;
  errno?: unknown;
}

/** how a value reads in an expectation message: bigints in hex when large, results as "-16 EBUSY" */
export function show(v: unknown): string {
  if (typeof v === 'bigint')
    return v >= 0n && v < 1024n ? `${v}n` : `${v < 0n ? '-' : ''}0x${(v < 0n ? -v : v).toString(16)}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v !== 'object') return String(v);
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}n` : x));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function retOf(r: unknown): { ret: number; text: string } | null {
  if (r === null || typeof r !== 'object' || typeof (r as ResultLike).ret !== 'number') return null;
  const x = r as ResultLike;
  return {
    ret: x.ret as number,
    text: formatRet(x.ret as number, typeof x.errno === 'string' ? x.errno : null),
  };
}

export function checkOk(r: unknown): Check {
  const x = retOf(r);
  if (!x) return { ok: false, actual: `not an ioctl result: ${show(r)}`, expected: '0' };
  return { ok: x.ret === 0, actual: x.text, expected: '0' };
}

export function checkErrno(r: unknown, name: unknown): Check {
  const n = typeof name === 'string' ? (ERRNO as Record<string, number>)[name] : undefined;
  const x = retOf(r);
  if (n === undefined)
    return {
      ok: false,
      actual: x ? x.text : show(r),
      expected: `${show(name)} (not an errno name this emulator knows)`,
    };
  const expected = formatRet(-n, name as string);
  if (!x) return { ok: false, actual: `not an ioctl result: ${show(r)}`, expected };
  // the errno name must agree too (results from the engine always do; hand-made objects may not)
  return { ok: x.ret === -n && (r as ResultLike).errno === name, actual: x.text, expected };
}

export function checkRet(r: unknown, ret: unknown): Check {
  const x = retOf(r);
  const expected = typeof ret === 'number' ? formatRet(ret) : show(ret);
  if (!x) return { ok: false, actual: `not an ioctl result: ${show(r)}`, expected };
  return { ok: x.ret === ret, actual: x.text, expected };
}

/** numbers and bigints compare by value (3 equals 3n); everything else with Object.is */
export function checkEq(actual: unknown, expected: unknown): Check {
  let ok: boolean;
  const num = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
  if (num(actual) && num(expected)) {
    if (typeof actual === typeof expected)
      ok = actual === expected || (Number.isNaN(actual) && Number.isNaN(expected));
    else {
      const n = typeof actual === 'number' ? actual : (expected as number);
      const b = typeof actual === 'bigint' ? actual : (expected as bigint);
      ok = Number.isInteger(n) && BigInt(n) === b;
    }
  } else ok = Object.is(actual, expected);
  return { ok, actual: show(actual), expected: show(expected) };
}

/** expectHcall (scenario-api.md §2.1.5): r.ret === ret and, when given, r.handledBy === handledBy */
export function checkHcall(r: unknown, ret: unknown, handledBy?: unknown): Check {
  const x = r as { ret?: unknown; name?: unknown; handledBy?: unknown } | null;
  const expected = `${show(ret)}${handledBy === undefined ? '' : ` by ${String(handledBy)}`}`;
  if (x === null || typeof x !== 'object' || typeof x.ret !== 'number' || typeof x.handledBy !== 'string')
    return { ok: false, actual: `not a hypercall result: ${show(r)}`, expected };
  const ok = x.ret === ret && (handledBy === undefined || x.handledBy === handledBy);
  return { ok, actual: `${x.ret} ${String(x.name)} by ${x.handledBy}`, expected };
}
