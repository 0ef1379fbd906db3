/**
 * Browser mode's identity across restarts (issue 12, item 6): the token and the port are kept in a file
 * in the user's config folder (mode 0600, written atomically), so after `npm run serve` restarts, the page
 * that is still open reconnects to the same address with the same token and saves what was typed.
 * A file that cannot be read or is malformed is replaced by a new identity; a port that is taken now is
 * given up for a free one (the page then needs the new URL, which is printed).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { atomicWriteFile, readTextLimited } from '../host/workspace.ts';

export interface ServeIdentity {
  token: string;
  /** the port of the last start (0: none yet) */
  port: number;
}

const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** the saved identity, or a new one (not yet saved) */
export async function loadIdentity(file: string): Promise<ServeIdentity> {
  try {
    const raw = JSON.parse(await readTextLimited(file, 4096, { noFollow: true })) as Record<string, unknown>;
    const token = raw['token'];
    const port = raw['port'];
    if (
      typeof token === 'string' &&
      TOKEN.test(token) &&
      Number.isInteger(port) &&
      (port as number) >= 0 &&
      (port as number) <= 65535
    )
      return { token, port: port as number };
  } catch {
    // missing or unreadable: a new identity
  }
  return { token: newToken(), port: 0 };
}

export async function saveIdentity(file: string, id: ServeIdentity): Promise<void> {
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await atomicWriteFile(file, JSON.stringify(id) + '\n');
  await fs.chmod(file, 0o600);
}
