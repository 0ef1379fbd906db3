import { describe, expect, it } from 'vitest';
import { DEFAULT_KERNEL_PAIR, KERNEL_NAMES, isKernelName, parseKernelPair } from '../../common/kernels.ts';
import { PROFILES } from '../../engine/profile.ts';

describe('the kernel-name list (common/kernels.ts)', () => {
  it('names exactly the engine profiles, each profile named as its key', () => {
    expect(Object.keys(PROFILES).sort()).toEqual([...KERNEL_NAMES].sort());
    for (const k of KERNEL_NAMES) expect(PROFILES[k].name).toBe(k);
  });

  it('parses pairs: both, A,B in either order, and refuses the rest', () => {
    expect(parseKernelPair('both')).toEqual(DEFAULT_KERNEL_PAIR);
    expect(parseKernelPair('mainline,4.2')).toEqual(['4.2', 'mainline']);
    expect(parseKernelPair('5.x, 4.2')).toEqual(['4.2', '5.x']);
    expect(parseKernelPair('5.x,5.x')).toMatch(/two different/);
    expect(parseKernelPair('4.2,5.x,mainline')).toMatch(/two of/);
    expect(parseKernelPair('4.2')).toMatch(/two of/);
    expect(isKernelName('5.x')).toBe(true);
    expect(isKernelName('5.0')).toBe(false);
    expect(isKernelName(undefined)).toBe(false);
  });
});
