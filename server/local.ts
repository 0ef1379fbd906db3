/**
 * Browser mode's answers to the channels main answers itself: the workspace on disk, app info, and a
 * clear 'unsupported' for the native dialogs (the renderer downloads and uploads instead).
 */
import { UnsupportedError, type LocalHandlers } from '../host/dispatch.ts';
import { workspaceHandlers, type Workspace } from '../host/workspace.ts';

export function browserHandlers(workspace: Workspace, version: string): LocalHandlers {
  const unsupported = (what: string, instead: string) => async (): Promise<never> => {
    throw new UnsupportedError(`${what} is not available in browser mode (no native dialogs): ${instead}`);
  };
  return {
    'app.info': async () => ({
      name: 'DMA Workbench',
      version,
      mode: 'browser',
      workspace: workspace.folder,
    }),
    ...workspaceHandlers(() => workspace),
    'workspace.choose': unsupported(
      'choosing a workspace folder',
      'restart `npm run serve` with --workspace DIR',
    ),
    'file.saveAs': unsupported('saving through a dialog', 'download the file instead'),
    'file.open': unsupported('opening through a dialog', 'upload the file instead'),
  };
}
