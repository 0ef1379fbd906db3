/**
 * Electron main process entry: creates the window.
 *
 * Placeholder glue: the IPC wiring, the worker host and the custom protocol come later. The
 * security settings below are not placeholders; keep them (product.md §Reliability and security).
 */
import { app, BrowserWindow, shell } from 'electron'
import { join } from 'node:path'

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url)
    return protocol === 'https:' || protocol === 'http:'
  } catch {
    return false
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    show: false,
    title: 'DMA Workbench',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  })

  win.once('ready-to-show', () => win.show())

  // No new windows: external links open in the system browser, everything else is dropped.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isHttpUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  // No navigation away from the app.
  win.webContents.on('will-navigate', (event) => event.preventDefault())

  // `electron-vite dev` serves the renderer and sets ELECTRON_RENDERER_URL; otherwise load the build.
  const devUrl = process.env['ELECTRON_RENDERER_URL']
  if (!app.isPackaged && devUrl) {
    void win.loadURL(devUrl)
  } else {
    void win.loadFile(join(import.meta.dirname, '../renderer/index.html'))
  }
  return win
}

app.whenReady().then(() => {
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
