/**
 * Pane sizes and the maximised pane, kept in localStorage: the splitters (components/SplitHandle.vue)
 * change them, double-clicking a pane's title bar maximises it (and restores it).
 */
import { defineStore } from 'pinia';
import { reactive, ref, toRefs, watch } from 'vue';
import { loadJson, saveJson } from './persist';

export type PaneId = 'list' | 'editor' | 'inspector' | 'log' | 'side';

export interface PaneSizes {
  /** scenario list width (px) */
  list: number;
  /** TCE inspector width (px) */
  inspector: number;
  /** bottom row height (px) */
  bottom: number;
  /** locked_vm graph / compare dock width (px) */
  side: number;
  /** event detail height (px) */
  detail: number;
}

/** the sizes a first start gets: fixed widths, narrowed to fit a small window */
function defaults(): PaneSizes {
  const w = typeof innerWidth === 'number' && innerWidth > 0 ? innerWidth : 1600;
  const h = typeof innerHeight === 'number' && innerHeight > 0 ? innerHeight : 1000;
  return {
    list: Math.round(Math.min(160, w * 0.15)),
    inspector: Math.round(Math.min(560, w * 0.36)),
    bottom: Math.round(Math.min(300, h * 0.42)),
    side: Math.round(Math.min(440, w * 0.4)),
    detail: 84,
  };
}
export const DEFAULT_SIZES: PaneSizes = defaults();
/** the least each size may shrink to (px) */
export const MIN_SIZES: PaneSizes = { list: 90, inspector: 240, bottom: 120, side: 240, detail: 40 };

const KEY = 'dmawb.layout';
const PANES: PaneId[] = ['list', 'editor', 'inspector', 'log', 'side'];

export const useLayoutStore = defineStore('layout', () => {
  const saved = loadJson<PaneSizes & { maximized: PaneId | null }>(KEY, {
    ...DEFAULT_SIZES,
    maximized: null,
  });
  const sizes = reactive<PaneSizes>({ ...DEFAULT_SIZES });
  for (const k of Object.keys(DEFAULT_SIZES) as (keyof PaneSizes)[]) {
    const v = Number(saved[k]);
    sizes[k] = Number.isFinite(v) ? Math.max(MIN_SIZES[k], v) : DEFAULT_SIZES[k];
  }
  const maximized = ref<PaneId | null>(PANES.includes(saved.maximized as PaneId) ? saved.maximized : null);
  watch([sizes, maximized], () => saveJson(KEY, { ...sizes, maximized: maximized.value }), { deep: true });

  function setSize(k: keyof PaneSizes, px: number): void {
    sizes[k] = Math.max(MIN_SIZES[k], Math.round(px));
  }
  function toggleMaximized(p: PaneId): void {
    maximized.value = maximized.value === p ? null : p;
  }
  function reset(): void {
    Object.assign(sizes, DEFAULT_SIZES);
    maximized.value = null;
  }
  return { ...toRefs(sizes), sizes, maximized, setSize, toggleMaximized, reset };
});
