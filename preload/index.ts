/**
 * Sandboxed preload: bundled as a single CommonJS file (see electron.vite.config.ts) because a
 * sandboxed preload can neither load ESM nor `require` node_modules.
 *
 * It exposes exactly one small typed object through contextBridge; never raw ipcRenderer.
 */
import { contextBridge } from 'electron'
import { API_KEY, type WorkbenchApi } from './api'

const api: WorkbenchApi = {
  versions: {
    electron: process.versions.electron ?? '',
    chrome: process.versions.chrome ?? '',
    node: process.versions.node,
  },
}

contextBridge.exposeInMainWorld(API_KEY, api)
