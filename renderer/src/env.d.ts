/// <reference types="vite/client" />
import type { DmawbApi } from '../../common/contract';
import type { CommandHandle } from './composables/commands';

declare global {
  interface Window {
    /** Exposed by the preload; absent when the renderer runs outside Electron (browser mode, tests). */
    readonly dmawb?: DmawbApi;
    /** Test and benchmark hook: run commands by id, read the app's state (see composables/commands.ts). */
    dmawbUi?: CommandHandle;
  }
}
