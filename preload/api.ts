/**
 * The one object the preload exposes to the renderer as `window.dmawb`.
 *
 * Placeholder: the real API is generated from the typed IPC contract. Keep this file free of
 * imports so the renderer's tsconfig can read the type without pulling in Node or Electron.
 */
export interface WorkbenchApi {
  /** Versions of the runtime the window runs in, for the About box and bug reports. */
  readonly versions: {
    readonly electron: string
    readonly chrome: string
    readonly node: string
  }
}

/** The global name under which the preload exposes {@link WorkbenchApi}. */
export const API_KEY = 'dmawb'
