/// <reference types="vite/client" />
import type { WorkbenchApi } from '../../preload/api'

declare global {
  interface Window {
    /** Exposed by the preload; absent when the renderer runs outside Electron (e.g. plain Chromium tests). */
    readonly dmawb?: WorkbenchApi
  }
}
