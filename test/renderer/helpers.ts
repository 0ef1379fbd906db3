/** Shared set-up for renderer store tests: a fresh Pinia and a fresh fake bridge per test. */
import { createPinia, setActivePinia } from 'pinia';
import { setBridge } from '../../renderer/src/bridge/api';
import { createFakeBridge, type FakeBridge, type FakeOptions } from '../../renderer/src/bridge/fake';

export function setup(opts: FakeOptions = {}): FakeBridge {
  // stores persist settings, layout and unsaved text where there is storage: each test starts without
  try {
    globalThis.localStorage?.clear();
  } catch {
    /* no storage here */
  }
  setActivePinia(createPinia());
  const fake = createFakeBridge({ windowEntries: 1 << 20, ...opts });
  setBridge(fake);
  return fake;
}

/** Waits until `cond()` holds (polling every few ms), or fails with `what`. */
export async function until(cond: () => unknown, what = 'condition', ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 3));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
