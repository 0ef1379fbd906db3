/**
 * What the app tells the user outside the views: the engine restarted, the server connection dropped, a
 * save or an export failed. Notices with a `key` replace each other (one per concern).
 */
import { defineStore } from 'pinia'
import { ref } from 'vue'

export interface Notice {
  id: number
  key?: string
  kind: 'info' | 'warning' | 'error'
  text: string
}

export const useNoticesStore = defineStore('notices', () => {
  const items = ref<Notice[]>([])
  let next = 1

  function push(kind: Notice['kind'], text: string, key?: string): number {
    if (key) items.value = items.value.filter((n) => n.key !== key)
    const id = next++
    items.value.push({ id, kind, text, ...(key ? { key } : {}) })
    return id
  }
  function dismiss(idOrKey: number | string): void {
    items.value = items.value.filter((n) => n.id !== idOrKey && n.key !== idOrKey)
  }
  return { items, push, dismiss }
})
