/**
 * The wire form (common/contract.ts Wire<T>): one mapped type turns the engine's bigints into the hex
 * strings the contract carries. The type assertions are checked by `npm run typecheck` (a wrong mapping
 * is a compile error); the runtime assertions check that jsonSafe produces what the type says.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { InspectEvent, Responses, Wire, WireJson } from '../../common/contract.ts';
import type { IoctlEvent, RunEvent } from '../../engine/events.ts';
import { jsonSafe } from '../../engine/snapshot.ts';

describe('Wire<T>', () => {
  it('maps bigints to strings, field by field, through arrays, records and unions', () => {
    expectTypeOf<Wire<bigint>>().toEqualTypeOf<string>();
    expectTypeOf<Wire<{ a: bigint; b?: number; c: bigint[] }>>().toEqualTypeOf<{
      a: string;
      b?: number;
      c: string[];
    }>();
    expectTypeOf<Wire<Record<string, bigint | boolean>>>().toEqualTypeOf<Record<string, string | boolean>>();
    expectTypeOf<Wire<unknown>>().toEqualTypeOf<WireJson>();
    expectTypeOf<Wire<IoctlEvent>['args']>().toEqualTypeOf<{ [k: string]: string | number | boolean }>();
    // every engine event in wire form fits the contract's inspect.event reply
    expectTypeOf<Wire<RunEvent>>().toMatchTypeOf<InspectEvent>();
    expectTypeOf<Responses['inspect.event']['event']>().toEqualTypeOf<InspectEvent>();
    // @ts-expect-error a bigint does not travel as itself
    expectTypeOf<Wire<{ a: bigint }>>().toEqualTypeOf<{ a: bigint }>();
  });

  it('jsonSafe gives the value its type says: hex strings, no undefined fields', () => {
    const w = jsonSafe({ a: 0x800000000000000n, b: [1n, 255n], c: undefined, d: 'x', e: { f: 16n } });
    expect(w).toEqual({ a: '0x800000000000000', b: ['0x1', '0xff'], d: 'x', e: { f: '0x10' } });
    expect('c' in (w as object)).toBe(false);
    const s: string = w.e.f;
    expect(s).toBe('0x10');
  });
});
