/**
 * The kernel behaviour profiles, one definition for every layer: the engine's createHost({ kernel }), the
 * command line's --kernel, the IPC contract and the workbench's selector all take their names from here.
 * What each profile does is engine/profile.ts; the eras are kernel-model.md §0.1 (5.x: §13.0.4, §14).
 */

/** the profiles, oldest first */
export const KERNEL_NAMES = ['4.2', '5.x', 'mainline'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** the profile a run uses when it names none */
export const DEFAULT_KERNEL: KernelName = 'mainline';

/** the pair `--kernel both` and the workbench's compare view use unless told otherwise */
export const DEFAULT_KERNEL_PAIR: readonly [KernelName, KernelName] = ['4.2', 'mainline'];

/** one line per profile, for usage texts and selector tooltips */
export const KERNEL_DESCRIPTIONS: Record<KernelName, string> = {
  '4.2': 'the driver as merged in 4.2 (v2 and DDW), as in 4.4-era distribution kernels',
  '5.x': 'the v5.8–v5.15 generation most POWER hosts run (distribution kernels 4.18–5.15)',
  mainline: 'current mainline (≥ v6.10)',
};

export function isKernelName(x: unknown): x is KernelName {
  return typeof x === 'string' && (KERNEL_NAMES as readonly string[]).includes(x);
}

/**
 * Parses a pair of profiles to compare: "both" (= DEFAULT_KERNEL_PAIR) or "A,B" with two different names.
 * Returns the pair, oldest first, or an error text.
 */
export function parseKernelPair(text: string): readonly [KernelName, KernelName] | string {
  if (text === 'both') return DEFAULT_KERNEL_PAIR;
  const parts = text.split(',').map((s) => s.trim());
  const [a, b] = parts;
  if (parts.length !== 2 || !isKernelName(a) || !isKernelName(b))
    return `a pair of profiles is two of ${KERNEL_NAMES.join(', ')} separated by a comma (e.g. 4.2,5.x), or both`;
  if (a === b) return `a pair of profiles needs two different profiles, got ${a} twice`;
  return KERNEL_NAMES.indexOf(a) < KERNEL_NAMES.indexOf(b) ? [a, b] : [b, a];
}
