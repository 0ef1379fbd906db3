/**
 * QuickJS (bellard/quickjs 2025-09-13, compiled to WebAssembly by quickjs-emscripten 0.32) for one run.
 *
 * A fresh WebAssembly instance per run: instantiating costs about 3 ms (8 ms the first time), and it
 * means a run that ends badly (a host stack overflow inside WebAssembly, an emscripten abort) can never
 * leave a damaged interpreter behind, and all of a run's memory goes back when the run ends.
 *
 * Memory: `runtime.setMemoryLimit` alone does not bound this build. QuickJS adds `malloc_usable_size()`
 * to its counter, and under emscripten that function is unavailable and counts 0, so only single
 * allocations larger than the limit fail (measured: a loop of 1 MB strings grew the heap to 2 GiB with a
 * 256 MiB limit). The real bound is the WebAssembly memory itself, created here with `maximum` set to the
 * budget: malloc fails cleanly when it cannot grow, and QuickJS throws "out of memory".
 *
 * Portable: the variant package picks its Node or browser loader through package exports; nothing here
 * uses Node APIs. (A bundled app can pass `wasmModule` to skip locating the .wasm file.)
 */
import variant from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';

/** the WebAssembly global (its value is not in the ES2023 + Node 20 type libraries this layer compiles with) */
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (d: { initial: number; maximum: number }) => object;
      RuntimeError: new () => Error;
    };
  }
).WebAssembly;

/** An exception from inside WebAssembly: V8's stack limit (RangeError) or an emscripten abort. */
export function isWasmFailure(e: unknown): boolean {
  return e instanceof RangeError || e instanceof Wasm.RuntimeError;
}

const WASM_PAGE = 65536;
/** the interpreter's own static data and stack live in the same memory as the scenario's heap */
const BASE_BYTES = 16 * 1024 * 1024;

export interface LoadOptions {
  /** scenario heap budget in bytes */
  memoryLimitBytes: number;
  /** a precompiled emscripten-module.wasm (optional) */
  wasmModule?: WebAssembly.Module;
}

export async function loadQuickJS(opts: LoadOptions): Promise<QuickJSWASMModule> {
  const maximum = Math.ceil((BASE_BYTES + opts.memoryLimitBytes) / WASM_PAGE);
  const wasmMemory = new Wasm.Memory({ initial: BASE_BYTES / WASM_PAGE, maximum });
  return newQuickJSWASMModuleFromVariant(
    newVariant(variant, {
      wasmMemory,
      ...(opts.wasmModule ? { wasmModule: opts.wasmModule } : {}),
    }),
  );
}

/**
 * The host function the prelude calls: `hostCall(op, handleId, payload, callSite, ...fields)`
 * (prelude.ts). The payload is an encoded string, or a number: 0 for none, or the kinds of the field
 * values that follow as raw arguments (3 bits each: 0 absent, 1 bigint, 2 number). The call site is a
 * line number or a stack trace.
 */
export type HostCall = (
  op: number,
  id: number,
  payload: string | number,
  site: string | number,
  fields: unknown[] | undefined,
) => string | number | undefined;

/** the field values of a numeric payload, read with `num(i)` / `big(i)` for argument i */
function readFields(
  kinds: number,
  argc: number,
  num: (i: number) => number,
  big: (i: number) => bigint,
): unknown[] | undefined {
  if (kinds < 0x40000000) return undefined;
  const out: unknown[] = [];
  for (let i = 0; i < 6 && 4 + i < argc; i++) {
    const k = (kinds >>> (3 * i)) & 7;
    out.push(k === 1 ? big(4 + i) : k === 2 ? num(4 + i) : undefined);
  }
  return out;
}

export interface InstalledHostCall {
  handle: QuickJSHandle;
  /** true when calls take the direct FFI path below, false on the library's generic path */
  fast: boolean;
}

/**
 * Creates the guest function `hostCall`. quickjs-emscripten's generic path wraps every argument and
 * result in a Lifetime object inside a generator-based scope: about 2.4 µs per call, measured. This
 * function serves the same calls straight from the FFI (read a few doubles and strings, return one value):
 * about 0.2 µs. It hooks the context's C→host callback table, which is internal to the library (pinned
 * at 0.32.0 in package.json); if that table is not where it is expected, the generic path is used and
 * everything still works, only slower (test/runner/sandbox.test.ts checks that the fast path is on).
 *
 * `onOutOfMemory` is called when a result cannot be allocated in the guest heap.
 */
export function installHostCall(
  ctx: QuickJSContext,
  fn: HostCall,
  onOutOfMemory: () => void,
): InstalledHostCall {
  const generic = function (
    this: unknown,
    opH: QuickJSHandle,
    idH: QuickJSHandle,
    payloadH: QuickJSHandle,
    siteH: QuickJSHandle,
    ...rest: QuickJSHandle[]
  ): QuickJSHandle | undefined {
    const site = ctx.typeof(siteH) === 'number' ? ctx.getNumber(siteH) : ctx.getString(siteH);
    const payload = ctx.typeof(payloadH) === 'number' ? ctx.getNumber(payloadH) : ctx.getString(payloadH);
    const fields =
      typeof payload === 'number'
        ? readFields(
            payload,
            4 + rest.length,
            (i) => ctx.getNumber(rest[i - 4]!),
            (i) => ctx.getBigInt(rest[i - 4]!),
          )
        : undefined;
    const r = safe(fn, ctx.getNumber(opH), ctx.getNumber(idH), payload, site, fields);
    if (r === undefined) return undefined;
    return typeof r === 'number' ? ctx.newNumber(r) : ctx.newString(r);
  };
  const handle = ctx.newFunction('hostCall', generic);

  // --- the direct path (library internals: see the comment above) ---
  const internals = ctx as unknown as {
    cToHostCallbacks?: { callFunction?: (...a: number[]) => number };
    ffi?: Record<string, (...a: number[]) => number>;
    module?: {
      UTF8ToString(p: number): string;
      lengthBytesUTF8(s: string): number;
      stringToUTF8(s: string, p: number, n: number): void;
      _malloc(n: number): number;
      _free(p: number): void;
    };
    ctx?: { value: number };
    runtime?: { hostRefs?: { get(id: number): unknown } };
  };
  const cbs = internals.cToHostCallbacks;
  const ffi = internals.ffi;
  const mod = internals.module;
  const ctxPtr = internals.ctx?.value;
  const refs = internals.runtime?.hostRefs;
  const ok =
    cbs &&
    typeof cbs.callFunction === 'function' &&
    ffi &&
    mod &&
    typeof ctxPtr === 'number' &&
    refs &&
    [
      'QTS_ArgvGetJSValueConstPointer',
      'QTS_GetFloat64',
      'QTS_GetString',
      'QTS_FreeCString',
      'QTS_NewFloat64',
      'QTS_NewString',
    ].every((k) => typeof ffi[k] === 'function') &&
    typeof mod._malloc === 'function' &&
    typeof mod.UTF8ToString === 'function';
  if (!ok) return { handle, fast: false };

  const argv = ffi.QTS_ArgvGetJSValueConstPointer!;
  const getFloat = ffi.QTS_GetFloat64!;
  const getString = ffi.QTS_GetString!;
  const freeCString = ffi.QTS_FreeCString!;
  const newFloat = ffi.QTS_NewFloat64!;
  const newString = ffi.QTS_NewString!;
  const original = cbs.callFunction!;
  const text = (v: number): string => {
    const p = getString(ctxPtr, v);
    if (p === 0) return '';
    const t = mod.UTF8ToString(p);
    freeCString(ctxPtr, p);
    return t;
  };
  cbs.callFunction = (c: number, thisPtr: number, argc: number, argvPtr: number, fnId: number): number => {
    if (c !== ctxPtr || refs.get(fnId) !== generic) return original(c, thisPtr, argc, argvPtr, fnId);
    // QuickJS pads the arguments to the function's length (4), so argv[0..3] always exist. The payload
    // and the call site are numbers or strings; a string here reads as NaN (none of ours is numeric,
    // and '' reads as 0, "no payload").
    const payloadPtr = argv(argvPtr, 2);
    const sitePtr = argv(argvPtr, 3);
    const kinds = getFloat(ctxPtr, payloadPtr);
    const line = getFloat(ctxPtr, sitePtr);
    const fields =
      kinds === kinds
        ? readFields(
            kinds,
            argc,
            (i) => getFloat(ctxPtr, argv(argvPtr, i)),
            (i) => BigInt(text(argv(argvPtr, i))),
          )
        : undefined;
    const r = safe(
      fn,
      getFloat(ctxPtr, argv(argvPtr, 0)),
      getFloat(ctxPtr, argv(argvPtr, 1)),
      kinds === kinds ? kinds : text(payloadPtr),
      line === line ? line : text(sitePtr),
      fields,
    );
    if (r === undefined) return 0; // the C side turns a null result into undefined
    if (typeof r === 'number') return newFloat(ctxPtr, r);
    const size = mod.lengthBytesUTF8(r) + 1;
    const p = mod._malloc(size);
    if (p === 0) {
      onOutOfMemory();
      return 0;
    }
    mod.stringToUTF8(r, p, size);
    const v = newString(ctxPtr, p);
    mod._free(p);
    return v;
  };
  return { handle, fast: true };
}

/** The host function must never throw into WebAssembly: an exception there would skip C cleanup. */
function safe(
  fn: HostCall,
  op: number,
  id: number,
  payload: string | number,
  site: string | number,
  fields: unknown[] | undefined,
): string | number | undefined {
  try {
    return fn(op, id, payload, site, fields);
  } catch (e) {
    return `Ef;InternalError;internal error in the runner: ${e instanceof Error ? e.message : String(e)}`;
  }
}
