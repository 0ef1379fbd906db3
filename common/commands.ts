/**
 * Command ids the desktop application menu sends to the renderer on the 'command.run' event
 * (common/contract.ts). The renderer's command registry runs the command with that id; keyboard
 * shortcuts, a command palette and end-to-end tests can reuse the same ids. Imports nothing.
 */
export const MENU_COMMANDS = {
  'scenario.new': 'New Scenario…',
  'file.open': 'Open File…',
  'file.saveAs': 'Save Scenario As…',
  'workspace.choose': 'Choose Workspace Folder…',
  'snapshot.import': 'Import Snapshot…',
  'capture.import': 'Import Capture…',
  'export.snapshot': 'Export Snapshot…',
  'export.report': 'Export Report…',
  'export.csv': 'Export Window as CSV…',
  'export.c': 'Export as C Program…',
  'run.start': 'Run',
  'run.stop': 'Stop',
  'kernel.4.2': 'Kernel 4.2',
  'kernel.mainline': 'Kernel mainline',
  'compare.profiles': 'Compare Kernel Profiles',
  'help.about': 'About DMA Workbench',
} as const;

export type MenuCommandId = keyof typeof MENU_COMMANDS;

export function isMenuCommand(id: unknown): id is MenuCommandId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(MENU_COMMANDS, id);
}
