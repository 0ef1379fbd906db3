/**
 * The sandbox's member table (runner/schema.ts CLASSES) is tied to the engine API interfaces
 * (engine/api.ts): `npm run typecheck` fails when an API member is missing from it or when it names a
 * member the API does not have. The @ts-expect-error cases below are those failures, on purpose: if the
 * tie stopped working they would compile cleanly and the typecheck would fail on the unused directive.
 */
import { describe, expect, it } from 'vitest';
import { CLASSES, OPS, type ClassName, type MissingMembers, type ServesAll } from '../../runner/schema.ts';

type Table = { [C in ClassName]: readonly { name: string }[] };
/** the real table without Process.mlock */
type WithoutMlock = Omit<typeof CLASSES, 'Process'> & {
  Process: readonly { name: Exclude<(typeof CLASSES)['Process'][number]['name'], 'mlock'> }[];
};

// the real table serves every member
export type RealTableServesAll = ServesAll<MissingMembers<typeof CLASSES>>;
// @ts-expect-error a member of ProcessApi (mlock) missing from the sandbox is a compile error
export type MissingMlock = ServesAll<MissingMembers<WithoutMlock>>;

describe('sandbox member table', () => {
  it('lists what it serves at run time as the type says (every class, mlock included)', () => {
    const t: Table = CLASSES;
    expect(t.Process.map((m) => m.name)).toContain('mlock');
    expect(OPS.some((o) => o.cls === 'Container' && o.name === 'mapDma')).toBe(true);
  });
});
