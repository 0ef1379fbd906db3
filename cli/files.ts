/**
 * File writes of the command line are atomic (product.md, Reliability): the text goes to a temporary file
 * in the target's directory, which is then renamed over the target. A reader never sees half a file, and
 * a failed write leaves the old file (or none) in place.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const target = resolve(path);
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A file error as the command line words it (the errno's meaning for the common ones). */
export function readError(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes a command's text to `out` atomically, or to stdout without one; false (after saying why on
 * stderr, after `prefix`) when the file cannot be written.
 */
export async function writeOutput(
  io: { stdout(text: string): void; stderr(text: string): void },
  out: string | undefined,
  text: string,
  prefix: string,
): Promise<boolean> {
  if (out === undefined) {
    io.stdout(text);
    return true;
  }
  try {
    await writeFileAtomic(out, text);
    return true;
  } catch (e) {
    io.stderr(`${prefix}: cannot write '${out}': ${readError(e)}\n`);
    return false;
  }
}
