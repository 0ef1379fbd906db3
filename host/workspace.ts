/**
 * The workspace folder of scenario files, and the file rules of product.md §Reliability: writes are
 * atomic (a temp file in the same folder, then rename), nothing is overwritten unless the user chose it,
 * reads are size-limited. Plain Node (no Electron): the desktop app (main/files.ts) and the browser-mode
 * server use the same code, and tests run it directly.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** largest scenario file the workspace reads or writes (the contract's limit for `text`) */
export const MAX_SCENARIO_BYTES = 2 * 1024 * 1024;
/** largest file file.open reads (the snapshot import limit) */
export const MAX_OPEN_BYTES = 64 * 1024 * 1024;

export class FileError extends Error {
  override name = 'FileError';
}

/** workspace.write refused: the file changed on disk since the editor loaded it (reply code 'conflict') */
export class ConflictError extends FileError {
  readonly code = 'conflict';
}

/** SHA-256 (hex) of a file's bytes: workspace.read/write replies carry it, workspace.write's `base` too */
export function hashOf(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Checks a scenario file name: a plain `*.ts` name, no folders, nothing a file system would reject. */
export function checkName(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200)
    throw new FileError('a file name must have 1 to 200 characters');
  if (!name.endsWith('.ts'))
    throw new FileError(`${JSON.stringify(name)}: a scenario file name must end in .ts`);
  if (name !== basename(name) || /[/\\]/.test(name))
    throw new FileError(`${JSON.stringify(name)}: a file name cannot contain folders`);
  // control characters and the characters Windows refuses, so a workspace can move between systems
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f<>:"|?*]/.test(name))
    throw new FileError(
      `${JSON.stringify(name)}: the name contains a character that is not allowed in file names`,
    );
  if (name.startsWith('.') || /[. ]$/.test(name.slice(0, -3)))
    throw new FileError(
      `${JSON.stringify(name)}: a file name cannot start with a dot or end its stem with a dot or space`,
    );
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(name.slice(0, -3)))
    throw new FileError(`${JSON.stringify(name)}: the name is reserved on Windows`);
  return name;
}

/** a suggested export name as a plain file name (no folders, no characters file systems refuse) */
export function safeFileName(suggested: string): string {
  const base = suggested.split(/[\\/]/).pop() ?? '';
  const clean = base
    // eslint-disable-next-line no-control-regex -- replacing control characters is the point
    .replace(/[\u0000-\u001f<>:"|?*]/g, '_')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return clean || 'export.txt';
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

async function writeTemp(target: string, data: string | Uint8Array): Promise<string> {
  const tmp = tempPathFor(target);
  const fh = await fs.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return tmp;
}

/**
 * Writes a file atomically: readers see the old contents or the new, never a torn file, and a crash
 * leaves at most a stray `.name.*.tmp`, never a truncated file. Overwrites `target` (callers decide).
 */
export async function atomicWriteFile(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = await writeTemp(target, data);
  try {
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Like atomicWriteFile, but refuses to replace an existing file (EEXIST): the temp file is hard-linked
 * to the target, which fails if the target exists, so there is no window in which a file created by
 * someone else could be overwritten. Falls back to an exclusive create where links are not supported.
 */
export async function atomicCreateFile(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = await writeTemp(target, data);
  try {
    await fs.link(tmp, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new FileError(`${basename(target)} already exists; choose another name`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw e;
    // a file system without hard links (FAT, some network shares)
    const fh = await fs
      .open(target, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644)
      .catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST'
          ? new FileError(`${basename(target)} already exists; choose another name`)
          : err;
      });
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** what a path is, for messages: "a symbolic link", "a device", … */
function kindOf(st: {
  isSymbolicLink(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

export interface ReadLimitedOptions {
  /** refuse a symbolic link instead of reading what it points to (workspace files) */
  noFollow?: boolean;
}

/**
 * Reads a text file of at most `max` bytes. Only regular files: a device (/dev/zero), a pipe, a socket
 * or a folder is refused before it is opened, and, with `noFollow`, so is a symbolic link. The size is
 * checked on the open file and again while reading (a file that grows, or a /proc file that says 0), so
 * no more than max + 1 bytes are ever read.
 */
export async function readTextLimited(
  path: string,
  max: number,
  opts: ReadLimitedOptions = {},
): Promise<string> {
  const name = basename(path);
  const pre = opts.noFollow ? await fs.lstat(path) : await fs.stat(path);
  if (!pre.isFile()) throw new FileError(`${name} is ${kindOf(pre)}: only regular files can be read`);
  const flags =
    constants.O_RDONLY | (opts.noFollow ? (constants.O_NOFOLLOW ?? 0) : 0) | (constants.O_NONBLOCK ?? 0);
  const fh = await fs.open(path, flags).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ELOOP'
      ? new FileError(`${name} is a symbolic link: only regular files can be read`)
      : e;
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileError(`${name} is ${kindOf(st)}: only regular files can be read`);
    if (st.size > max) throw new FileError(`${name} is ${st.size} bytes, larger than the ${max}-byte limit`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, max + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw new FileError(`${name} grew beyond the ${max}-byte limit while being read`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Creates `folder` and copies the bundled examples (`examplesDir/*.ts`) into it, once: only when the
 * folder does not exist yet. An existing folder is never touched, so examples the user deleted or edited
 * do not come back. Returns the names copied.
 */
export async function seedWorkspace(folder: string, examplesDir: string | null): Promise<string[]> {
  try {
    await fs.access(folder);
    return [];
  } catch {
    // first launch with this folder
  }
  await fs.mkdir(folder, { recursive: true });
  if (!examplesDir) return [];
  let names: string[];
  try {
    names = (await fs.readdir(examplesDir)).filter((n) => n.endsWith('.ts')).sort();
  } catch {
    return [];
  }
  const copied: string[] = [];
  for (const n of names) {
    try {
      await fs.copyFile(join(examplesDir, n), join(folder, n), constants.COPYFILE_EXCL);
      copied.push(n);
    } catch {
      // an example that cannot be copied is skipped; the workspace still works
    }
  }
  return copied;
}

export interface Settings {
  /** the workspace folder the user chose (absent: the default) */
  workspace?: string;
}

export async function loadSettings(file: string): Promise<Settings> {
  try {
    const raw = JSON.parse(await readTextLimited(file, 1024 * 1024)) as unknown;
    if (!raw || typeof raw !== 'object') return {};
    const ws = (raw as Record<string, unknown>)['workspace'];
    return typeof ws === 'string' && ws.length > 0 ? { workspace: ws } : {};
  } catch {
    return {}; // missing or unreadable settings: defaults
  }
}

export async function saveSettings(file: string, s: Settings): Promise<void> {
  await fs.mkdir(dirname(file), { recursive: true });
  await atomicWriteFile(file, JSON.stringify(s, null, 2) + '\n');
}

/** The scenario files of one folder (workspace.list/read/write/create). */
export class Workspace {
  readonly folder: string;

  constructor(folder: string) {
    this.folder = resolve(folder);
  }

  private pathOf(name: string): string {
    checkName(name);
    const p = resolve(this.folder, name);
    if (dirname(p) !== this.folder)
      throw new FileError(`${JSON.stringify(name)}: not a file of the workspace folder`);
    return p;
  }

  async list(): Promise<{ folder: string; files: { name: string; size: number }[] }> {
    await fs.mkdir(this.folder, { recursive: true });
    const files: { name: string; size: number }[] = [];
    for (const d of await fs.readdir(this.folder, { withFileTypes: true })) {
      if (!d.isFile() || !d.name.endsWith('.ts')) continue;
      try {
        checkName(d.name);
        files.push({ name: d.name, size: (await fs.stat(join(this.folder, d.name))).size });
      } catch {
        // names the workspace would refuse to write are not listed
      }
    }
    files.sort((a, b) => a.name.localeCompare(b.name));
    return { folder: this.folder, files };
  }

  /**
   * The workspace is a boundary: a name is a plain file name in the folder (pathOf), and the file must be
   * a regular file there, not a symbolic link out of it, a device or a pipe.
   */
  async read(name: string): Promise<{ name: string; text: string; hash: string }> {
    const p = this.pathOf(name);
    try {
      const text = await readTextLimited(p, MAX_SCENARIO_BYTES, { noFollow: true });
      return { name, text, hash: hashOf(text) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new FileError(`${name} does not exist in the workspace`);
      throw e;
    }
  }

  /**
   * autosave: replaces the file the user is editing (atomically). With `base` (the hash of the text the
   * editor loaded or last saved), a file that was changed or deleted on disk meanwhile is not overwritten:
   * ConflictError, and the user chooses.
   */
  async write(
    name: string,
    text: string,
    base?: string,
  ): Promise<{ name: string; bytes: number; hash: string }> {
    const p = this.pathOf(name);
    const data = Buffer.from(text, 'utf8');
    if (data.length > MAX_SCENARIO_BYTES)
      throw new FileError(
        `${name}: ${data.length} bytes is larger than the ${MAX_SCENARIO_BYTES}-byte limit`,
      );
    await fs.mkdir(this.folder, { recursive: true });
    await this.checkReplaceable(p, name);
    if (base !== undefined) {
      let onDisk: string | null;
      try {
        onDisk = hashOf(await readTextLimited(p, MAX_SCENARIO_BYTES, { noFollow: true }));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        onDisk = null;
      }
      if (onDisk !== base)
        throw new ConflictError(
          onDisk === null
            ? `${name} was deleted on disk since it was opened here; your text is kept: save it again, or close it`
            : `${name} was changed on disk since it was opened here; your text is kept: keep yours (overwrite the file) or load the file from disk`,
        );
    }
    await atomicWriteFile(p, data);
    return { name, bytes: data.length, hash: hashOf(data) };
  }

  /** an existing target must be a regular file (a write never replaces a link, a device or a folder) */
  private async checkReplaceable(p: string, name: string): Promise<void> {
    let st;
    try {
      st = await fs.lstat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    if (!st.isFile())
      throw new FileError(`${name} is ${kindOf(st)}: the workspace writes only regular files`);
  }

  /** a new file; refuses to overwrite an existing one */
  async create(name: string, text = ''): Promise<{ name: string }> {
    const p = this.pathOf(name);
    const data = Buffer.from(text, 'utf8');
    if (data.length > MAX_SCENARIO_BYTES)
      throw new FileError(
        `${name}: ${data.length} bytes is larger than the ${MAX_SCENARIO_BYTES}-byte limit`,
      );
    await fs.mkdir(this.folder, { recursive: true });
    await atomicCreateFile(p, data);
    return { name };
  }
}

/**
 * The workspace channels of the contract over whichever folder `get()` returns at the time of the call
 * (the desktop app can switch folders). Shared by the desktop app and browser mode.
 */
export function workspaceHandlers(get: () => Workspace) {
  return {
    'workspace.list': async (_: object) => get().list(),
    'workspace.read': async (r: { name: string }) => get().read(r.name),
    'workspace.write': async (r: { name: string; text: string; base?: string }) =>
      get().write(r.name, r.text, r.base),
    'workspace.create': async (r: { name: string; text?: string }) => get().create(r.name, r.text ?? ''),
  };
}

/** the default workspace folder under the user's documents folder */
export function defaultWorkspaceFolder(documentsDir: string): string {
  return join(documentsDir, 'DMA Workbench', 'scenarios');
}
