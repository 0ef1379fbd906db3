/**
 * The TCE inspector: which window is shown, and a page cache of its entries at the selected step.
 *
 * Only pages the view asks for are fetched (inspect.entries, PAGE entries each); a window of 16 million
 * entries costs what is on screen. The cache belongs to one (source, seq, window, validOnly) key and is
 * dropped when the key changes; answers for an old key are ignored.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { EntryRow, WindowRow } from '../../../common/contract';
import { call, errorMessage } from '../bridge/api';
import { useRunStore } from './run';
import { useSelectionStore } from './selection';
import { useSettingsStore } from './settings';

export const PAGE = 256;
const MAX_PAGES = 256;
export const OCCUPANCY_BUCKETS = 1024;

export function windowKey(w: Pick<WindowRow, 'container' | 'slot'>): string {
  return `${w.container}:${w.slot}`;
}

/** Parses what the user typed in the jump field: `0x…`/hex → address, `#123` or `idx 123` → slot index. */
export function parseJump(
  text: string,
): { kind: 'index'; index: number } | { kind: 'addr'; value: bigint; force?: 'iova' | 'ua' } | null {
  let t = text.trim().toLowerCase().replace(/_/g, '');
  if (!t) return null;
  const idx = /^(?:#|idx\s*|index\s*)(\d+)$/.exec(t);
  if (idx) return { kind: 'index', index: Number(idx[1]) };
  let force: 'iova' | 'ua' | undefined;
  const pre = /^(iova|ua)\s*[:=]?\s*/.exec(t);
  if (pre) {
    force = pre[1] as 'iova' | 'ua';
    t = t.slice(pre[0].length);
  }
  if (!/^(0x)?[0-9a-f]+$/.test(t)) return null;
  try {
    const value = BigInt(t.startsWith('0x') ? t : `0x${t}`);
    if (value >= 1n << 64n) return null;
    return { kind: 'addr', value, ...(force ? { force } : {}) };
  } catch {
    return null;
  }
}

export const useInspectorStore = defineStore('inspector', () => {
  const run = useRunStore();
  const selection = useSelectionStore();
  const settings = useSettingsStore();
  /** auto: picked by the app (re-picked when it empties); otherwise the user's choice, kept while it exists */
  const chosen = ref<{ container: number; slot: number; auto: boolean } | null>(null);
  const validOnly = ref(settings.validOnly);
  const error = ref<string | null>(null);
  const pages = new Map<number, EntryRow[]>();
  const pending = new Map<number, Promise<void>>();
  const pageVersion = ref(0);
  const occupancy = shallowRef<number[] | null>(null);
  /** the view scrolls to this entry position when it changes */
  const scrollTarget = ref<{ position: number; nonce: number } | null>(null);
  /** the view scrolls to this entry position only if it is not already in view */
  const revealTarget = ref<{ position: number; nonce: number } | null>(null);
  /** entry index to outline after a jump */
  const jumped = ref<number | null>(null);
  let key = '';
  let occKey = '';
  let nonce = 0;

  const windows = computed<WindowRow[]>(() => selection.state?.windows ?? []);
  /** the view stays on its window whatever the selected event touches (the pin toggle) */
  const pinned = ref(false);
  /** the window the selected event wrote TCEs in, if any */
  const touchedWindow = computed<WindowRow | null>(() => {
    const ws = windows.value;
    for (const r of selection.changed) {
      const w = ws.find((x) => x.container === r.container && x.slot === r.slot && x.table === r.table);
      if (w) return w;
    }
    return null;
  });
  /** pinned, and the selected event changed another window: the chip that says where */
  const changedElsewhere = computed<WindowRow | null>(() => {
    const t = touchedWindow.value;
    const w = window.value;
    return pinned.value && t && w && (t.container !== w.container || t.slot !== w.slot) ? t : null;
  });
  const containers = computed(() => [...new Set(windows.value.map((w) => w.container))]);
  const window = computed<WindowRow | null>(() => {
    const c = chosen.value;
    return (c && windows.value.find((w) => w.container === c.container && w.slot === c.slot)) || null;
  });
  const total = computed(() =>
    window.value ? (validOnly.value ? window.value.valid : window.value.entries) : 0,
  );
  /** TCE runs the selected event wrote in this window */
  const changed = computed(() => {
    const w = window.value;
    if (!w) return [];
    return selection.changed.filter(
      (r) => r.container === w.container && r.slot === w.slot && r.table === w.table,
    );
  });

  function isChanged(index: number): boolean {
    for (const r of changed.value) if (index >= r.start && index < r.start + r.count) return true;
    return false;
  }

  /**
   * The app's choice of window (until the user picks one): the window the selected event wrote TCEs
   * in, else the first window with valid entries, else the first window.
   */
  function pickDefault(): void {
    const ws = windows.value;
    const cur = window.value;
    const touched = touchedWindow.value;
    // follow the selected event's window unless the user pinned the view; a window the user chose stays
    // until an event changes another one
    if (cur) {
      if (pinned.value) return;
      const elsewhere = touched && (touched.container !== cur.container || touched.slot !== cur.slot);
      if (!elsewhere && !chosen.value?.auto) return;
    }
    const best =
      touched ??
      (cur && cur.valid > 0 ? cur : undefined) ??
      ws.find((w) => w.valid > 0) ??
      cur ??
      ws[0] ??
      null;
    if (best) {
      if (!cur || best.container !== cur.container || best.slot !== cur.slot)
        chosen.value = { container: best.container, slot: best.slot, auto: true };
    } else if (chosen.value?.auto) chosen.value = null;
  }

  function currentKey(): string {
    const w = window.value;
    if (!w || !run.source || selection.seq === null) return '';
    return `${run.source}|${selection.seq}|${w.container}|${w.slot}|${w.table}|${validOnly.value}`;
  }

  function resetCache(): void {
    key = currentKey();
    pages.clear();
    pending.clear();
    pageVersion.value++;
    error.value = null;
  }

  async function loadPage(p: number): Promise<void> {
    const w = window.value;
    const seq = selection.seq;
    const source = run.source;
    if (!w || seq === null || !source) return;
    const k = key;
    try {
      const r = await call('inspect.entries', {
        source,
        seq,
        container: w.container,
        slot: w.slot as 0 | 1,
        from: p * PAGE,
        count: PAGE,
        validOnly: validOnly.value,
      });
      if (k !== key) return;
      pages.set(p, r.rows);
      if (pages.size > MAX_PAGES) {
        const first = pages.keys().next().value as number;
        pages.delete(first);
      }
      pageVersion.value++;
    } catch (e) {
      if (k === key) error.value = errorMessage(e);
    } finally {
      if (k === key) pending.delete(p);
    }
  }

  /** Makes sure entries [first, first+count) are loaded or loading; resolves when they are. */
  function ensure(first: number, count: number): Promise<void> {
    if (currentKey() !== key) resetCache();
    const n = total.value;
    if (!n || !key) return Promise.resolve();
    const lo = Math.max(0, Math.floor(first / PAGE));
    const hi = Math.min(Math.ceil(n / PAGE) - 1, Math.floor((first + Math.max(1, count) - 1) / PAGE));
    const waits: Promise<void>[] = [];
    for (let p = lo; p <= hi; p++) {
      if (pages.has(p)) continue;
      let job = pending.get(p);
      if (!job) {
        job = loadPage(p);
        pending.set(p, job);
      }
      waits.push(job);
    }
    return Promise.all(waits).then(() => undefined);
  }

  function rowAt(position: number): EntryRow | undefined {
    return pages.get(Math.floor(position / PAGE))?.[position % PAGE];
  }

  async function loadOccupancy(): Promise<void> {
    const w = window.value;
    const seq = selection.seq;
    const source = run.source;
    if (!w || seq === null || !source) {
      occupancy.value = null;
      occKey = '';
      return;
    }
    const k = `${source}|${seq}|${w.container}|${w.slot}|${w.table}`;
    if (k === occKey) return;
    occKey = k;
    try {
      const r = await call('inspect.occupancy', {
        source,
        seq,
        container: w.container,
        slot: w.slot as 0 | 1,
        buckets: OCCUPANCY_BUCKETS,
      });
      if (occKey === k) occupancy.value = r.buckets;
    } catch (e) {
      if (occKey === k) {
        occupancy.value = null;
        error.value = errorMessage(e);
      }
    }
  }

  function scrollTo(position: number): void {
    scrollTarget.value = { position, nonce: ++nonce };
  }

  function choose(container: number, slot: number): void {
    chosen.value = { container, slot, auto: false };
  }

  function setValidOnly(v: boolean): void {
    validOnly.value = v;
    settings.validOnly = v;
  }

  /**
   * Jumps to an IOVA, a userspace address or a slot index. Addresses inside another window's bus range
   * switch to that window. In valid-only mode the view scrolls to the entry's position in the valid-only
   * list (inspect.find's validIndex) and stays valid-only; only a jump to an empty entry, which that list
   * does not show, leaves it. Returns an error message, or null on success.
   */
  async function jump(text: string): Promise<string | null> {
    const q = parseJump(text);
    if (!q) return 'type an address (0x…, iova:0x…, ua:0x…) or a slot index (#123)';
    const w = window.value;
    const seq = selection.seq;
    const source = run.source;
    if (!w || seq === null || !source) return 'no window to jump in';
    let target: WindowRow = w;
    let index = -1;
    let validIndex = -1;
    if (q.kind === 'index') {
      if (q.index >= w.entries) return `slot index ${q.index} is outside this window (${w.entries} entries)`;
      index = q.index;
      if (validOnly.value && w.valid > 0) {
        // the slot's position among the valid entries: ask by the slot's bus address
        const iova = BigInt(w.startAddr) + (BigInt(q.index) << BigInt(w.pageShift));
        try {
          const r = await call('inspect.find', {
            source,
            seq,
            container: w.container,
            slot: w.slot as 0 | 1,
            iova: `0x${iova.toString(16)}`,
          });
          if (r.index === q.index) validIndex = r.validIndex;
        } catch (e) {
          return errorMessage(e);
        }
      }
    } else {
      const inRange = (x: WindowRow) => {
        const start = BigInt(x.startAddr);
        return q.value >= start && q.value < start + BigInt(x.size);
      };
      const candidates = [
        w,
        ...windows.value.filter((x) => x !== w && x.container === w.container),
        ...windows.value.filter((x) => x.container !== w.container),
      ];
      const hexValue = `0x${q.value.toString(16)}`;
      try {
        if (q.force !== 'ua') {
          const byIova = candidates.find(inRange);
          if (byIova) {
            const r = await call('inspect.find', {
              source,
              seq,
              container: byIova.container,
              slot: byIova.slot as 0 | 1,
              iova: hexValue,
            });
            if (r.index >= 0) {
              target = byIova;
              index = r.index;
              validIndex = r.validIndex;
            }
          }
        }
        if (index < 0 && q.force !== 'iova') {
          for (const x of candidates) {
            if (!x.valid) continue;
            const r = await call('inspect.find', {
              source,
              seq,
              container: x.container,
              slot: x.slot as 0 | 1,
              ua: hexValue,
            });
            if (r.index >= 0) {
              target = x;
              index = r.index;
              validIndex = r.validIndex;
              break;
            }
          }
        }
      } catch (e) {
        return errorMessage(e);
      }
      if (index < 0)
        return `${hexValue} is neither a bus address of a window nor a mapped userspace address at seq ${seq}`;
    }
    if (target !== w) chosen.value = { container: target.container, slot: target.slot, auto: false };
    if (validOnly.value && validIndex < 0) setValidOnly(false);
    jumped.value = index;
    scrollTo(validOnly.value ? validIndex : index);
    return null;
  }

  watch([windows, () => selection.changed], pickDefault, { immediate: true });
  // follow the selected event: bring the first entry it wrote into view (the view decides if it must scroll)
  watch(
    () => selection.event,
    () => {
      const first = changed.value[0];
      if (first && !validOnly.value) revealTarget.value = { position: first.start, nonce: ++nonce };
    },
  );
  watch(
    [window, () => selection.seq, validOnly, () => run.source],
    () => {
      resetCache();
      void loadOccupancy();
    },
    { immediate: true },
  );

  function setPinned(v: boolean): void {
    pinned.value = v;
    if (!v) pickDefault();
  }
  /** the chip: show the window the event changed (the pin stays) */
  function showChanged(): void {
    const t = changedElsewhere.value;
    if (t) chosen.value = { container: t.container, slot: t.slot, auto: false };
  }

  return {
    pinned,
    touchedWindow,
    changedElsewhere,
    setPinned,
    showChanged,
    chosen,
    validOnly,
    error,
    pageVersion,
    occupancy,
    scrollTarget,
    revealTarget,
    jumped,
    windows,
    containers,
    window,
    total,
    changed,
    isChanged,
    pickDefault,
    ensure,
    rowAt,
    choose,
    setValidOnly,
    jump,
    scrollTo,
    loadOccupancy,
  };
});
