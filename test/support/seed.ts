/**
 * One seed policy for every seeded test (fast-check properties, fuzzers): a fixed seed when `CI` is set, so
 * CI is reproducible; a fresh seed on a developer's machine, so local runs keep searching; `DMAWB_FC_SEED`
 * overrides both to replay a failure. The seed is part of every failure message (see `withSeed`).
 */

/** The fixed seed used under CI=true; change it only together with whatever depends on it. */
export const CI_SEED = 20261206;

/** The seed for one property: DMAWB_FC_SEED, else CI_SEED under CI, else a fresh one mixed with `salt`. */
export function testSeed(salt = 0): number {
  const forced = process.env.DMAWB_FC_SEED;
  if (forced !== undefined && forced !== '') {
    const n = Number(forced);
    if (!Number.isSafeInteger(n))
      throw new Error(`DMAWB_FC_SEED must be an integer, got ${JSON.stringify(forced)}`);
    return n | 0;
  }
  if (process.env.CI) return (CI_SEED ^ salt) | 0;
  return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff) ^ salt) | 0;
}

/**
 * Runs `body(seed)` and, if it throws (or the promise it returns rejects), rethrows with the seed and how
 * to replay it in the message.
 */
export function withSeed<T>(label: string, seed: number, body: (seed: number) => T): T {
  const wrap = (e: unknown): Error => {
    const err = e as Error;
    const cause = err.cause instanceof Error ? `\n${err.cause.message}` : '';
    return new Error(`[${label}] seed ${seed} (rerun with DMAWB_FC_SEED=${seed}): ${err.message}${cause}`, {
      cause: e,
    });
  };
  let out: T;
  try {
    out = body(seed);
  } catch (e) {
    throw wrap(e);
  }
  if (out instanceof Promise)
    return out.catch((e: unknown) => {
      throw wrap(e);
    }) as T;
  return out;
}

/** A small seeded PRNG (mulberry32) for fuzzers that are not fast-check properties: floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
