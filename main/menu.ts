/**
 * The application menu. Items that act on the workbench come from the command table (common/commands.ts:
 * label, menu placement, key): a chosen item sends its command id to the renderer on the 'command.run'
 * event and the renderer's command registry does the work, so the menu, the keyboard, the palette and the
 * tests share one implementation. The key is only shown here (registerAccelerator: false): the renderer's
 * shortcut handler runs it, as it does in browser mode. Editing, view and window items use Electron roles.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import {
  MENU_COMMANDS,
  menuAccelerator,
  menuGroups,
  type CommandMenu,
  type MenuCommandId,
} from '../common/commands.ts';

export function buildMenu(opts: {
  send: (id: MenuCommandId) => void;
  isMac: boolean;
  devTools: boolean;
}): Menu {
  const cmd = (id: MenuCommandId): MenuItemConstructorOptions => {
    const accelerator = menuAccelerator(id);
    return {
      id,
      label: MENU_COMMANDS[id],
      click: () => opts.send(id),
      ...(accelerator ? { accelerator, registerAccelerator: false } : {}),
    };
  };
  /** a menu's commands, a separator between the table's groups */
  const items = (menu: CommandMenu): MenuItemConstructorOptions[] =>
    menuGroups(menu).flatMap((ids, i) => [
      ...(i > 0 ? [{ type: 'separator' as const }] : []),
      ...ids.map(cmd),
    ]);
  const template: MenuItemConstructorOptions[] = [
    ...(opts.isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [...items('file'), { type: 'separator' }, opts.isMac ? { role: 'close' } : { role: 'quit' }],
    },
    { role: 'editMenu' },
    { label: '&Run', submenu: items('run') },
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
    { role: 'help', submenu: items('help') },
  ];
  return Menu.buildFromTemplate(template);
}
