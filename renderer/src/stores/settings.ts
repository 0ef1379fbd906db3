/** User preferences that outlive a session (kept in localStorage where there is one). */
import { isKernelName } from '../../../common/kernels';
import { defineStore } from 'pinia';
import { reactive, toRefs, watch } from 'vue';
import type { RequestOf } from '../../../common/contract';
import { loadJson, saveJson } from './persist';

export type Kernel = RequestOf<'run.start'>['kernel'];

export interface Settings {
  kernel: Kernel;
  /** autosave delay after the last keystroke (ms) */
  autosaveMs: number;
  /** exported snapshots carry the event log */
  snapshotIncludesEvents: boolean;
  /** the inspector starts in valid-only mode */
  validOnly: boolean;
  editorFontSize: number;
}

export const DEFAULT_SETTINGS: Settings = {
  kernel: 'mainline',
  autosaveMs: 600,
  snapshotIncludesEvents: true,
  validOnly: false,
  editorFontSize: 13,
};

const KEY = 'dmawb.settings';

export const useSettingsStore = defineStore('settings', () => {
  const s = reactive<Settings>(loadJson(KEY, { ...DEFAULT_SETTINGS }));
  if (!isKernelName(s.kernel)) s.kernel = DEFAULT_SETTINGS.kernel;
  watch(s, () => saveJson(KEY, s), { deep: true });
  function reset(): void {
    Object.assign(s, DEFAULT_SETTINGS);
  }
  return { ...toRefs(s), reset };
});
