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

/** Runs `body(seed)` and, if it throws, rethrows with the seed and how to replay it in the message. */
export function withSeed<T>(label: string, seed: number, body: (seed: number) => T): T {
  try {
    return body(seed);
  } catch (e) {
    const err = e as Error;
    const cause = err.cause instanceof Error ? `\n${err.cause.message}` : '';
    throw new Error(`[${label}] seed ${seed} (rerun with DMAWB_FC_SEED=${seed}): ${err.message}${cause}`, {
      cause: e,
    });
  }
}
