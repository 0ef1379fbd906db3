/**
 * What the app tells the user outside the views: the engine restarted, the server connection dropped, a
 * save or an export failed. Notices with a `key` replace each other (one per concern).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  key?: string;
  kind: 'info' | 'warning' | 'error';
  text: string;
}

export const useNoticesStore = defineStore('notices', () => {
  const items = ref<Notice[]>([]);
  let next = 1;

  /** info notices go away by themselves after this long; warnings and errors stay until dismissed */
  const INFO_MS = 6000;

  function push(kind: Notice['kind'], text: string, key?: string): number {
    if (key) items.value = items.value.filter((n) => n.key !== key);
    const id = next++;
    items.value.push({ id, kind, text, ...(key ? { key } : {}) });
    if (kind === 'info') setTimeout(() => dismiss(id), INFO_MS);
    return id;
  }
  function dismiss(idOrKey: number | string): void {
    items.value = items.value.filter((n) => n.id !== idOrKey && n.key !== idOrKey);
  }
  return { items, push, dismiss };
});
