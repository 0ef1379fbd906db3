/**
 * The application menu. Items that act on the workbench send a command id (common/commands.ts) to the
 * renderer on the 'command.run' event; the renderer's command registry does the work, so the menu, the
 * keyboard and the tests share one implementation. Editing, view and window items use Electron roles.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import { MENU_COMMANDS, type MenuCommandId } from '../common/commands.ts';

export function buildMenu(opts: {
  send: (id: MenuCommandId) => void;
  isMac: boolean;
  devTools: boolean;
}): Menu {
  const cmd = (id: MenuCommandId, accelerator?: string): MenuItemConstructorOptions => ({
    id,
    label: MENU_COMMANDS[id],
    click: () => opts.send(id),
    ...(accelerator ? { accelerator } : {}),
  });
  const template: MenuItemConstructorOptions[] = [
    ...(opts.isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        cmd('scenario.new', 'CmdOrCtrl+N'),
        cmd('file.open', 'CmdOrCtrl+O'),
        cmd('file.saveAs', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        cmd('workspace.choose'),
        { type: 'separator' },
        cmd('snapshot.import', 'CmdOrCtrl+I'),
        cmd('capture.import'),
        cmd('export.snapshot', 'CmdOrCtrl+E'),
        cmd('export.report'),
        cmd('export.csv'),
        cmd('export.c'),
        { type: 'separator' },
        opts.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&Run',
      submenu: [
        cmd('run.start', 'F5'),
        cmd('run.stop', 'Shift+F5'),
        { type: 'separator' },
        cmd('kernel.4.2'),
        cmd('kernel.mainline'),
        cmd('compare.profiles'),
      ],
    },
    {
      label: '&View',
      submenu: [
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(opts.devTools
          ? [{ type: 'separator' as const }, { role: 'reload' as const }, { role: 'toggleDevTools' as const }]
          : []),
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [cmd('help.about')] },
  ];
  return Menu.buildFromTemplate(template);
}
