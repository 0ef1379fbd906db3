/**
 * The one seed policy (seed.ts): fixed under CI, fresh locally, DMAWB_FC_SEED to replay, the seed in every
 * failure; and every property or fuzz test in the tree takes its seed from it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CI_SEED, seededRandom, testSeed, withSeed } from './seed.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

afterEach(() => vi.unstubAllEnvs());

describe('the seed policy', () => {
  it('DMAWB_FC_SEED replays; CI is fixed; a bad DMAWB_FC_SEED is refused', () => {
    vi.stubEnv('DMAWB_FC_SEED', '12345');
    vi.stubEnv('CI', 'true');
    expect(testSeed(7)).toBe(12345);
    vi.stubEnv('DMAWB_FC_SEED', '');
    expect(testSeed(7)).toBe((CI_SEED ^ 7) | 0);
    expect(testSeed(7)).toBe(testSeed(7));
    vi.stubEnv('DMAWB_FC_SEED', 'abc');
    expect(() => testSeed()).toThrow(/DMAWB_FC_SEED must be an integer/);
  });

  it('names the seed and how to replay it when a body throws or its promise rejects', async () => {
    expect(() =>
      withSeed('p', 42, () => {
        throw new Error('boom');
      }),
    ).toThrow('[p] seed 42 (rerun with DMAWB_FC_SEED=42): boom');
    await expect(withSeed('q', 43, async () => Promise.reject(new Error('late')))).rejects.toThrow(
      '[q] seed 43 (rerun with DMAWB_FC_SEED=43): late',
    );
    expect(withSeed('r', 1, (s) => s + 1)).toBe(2);
  });

  it('seededRandom repeats for a seed and differs between seeds', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const xs = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(xs);
    expect(Array.from({ length: 5 }, seededRandom(6))).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('every seeded test uses it', () => {
  it('each test that uses fast-check or a PRNG imports test/support/seed.ts and passes no literal seed', () => {
    const seeded = testFiles(join(ROOT, 'test'))
      .filter((f) => !f.includes(`${join('test', 'support')}`) && !f.includes(join('test', 'conformance')))
      .map((f) => ({ f: relative(ROOT, f), text: readFileSync(f, 'utf8') }))
      .filter(({ text }) => /from 'fast-check'|fc\.assert|Math\.random\(\)|0x6d2b79f5|1103515245/.test(text));
    expect(seeded.length).toBeGreaterThan(2);
    for (const { f, text } of seeded) {
      expect(text, `${f} takes its seeds from test/support/seed.ts`).toMatch(
        /from '\.\.\/support\/seed(\.ts)?'/,
      );
      expect(text, `${f} passes fast-check a literal seed`).not.toMatch(/\bseed:\s*\d/);
      expect(text, `${f} seeds from the clock`).not.toMatch(/Date\.now\(\)\s*\^/);
    }
  });
});
