/**
 * `npm run serve [-- --port N] [-- --workspace DIR] [-- --no-build]`: browser mode. Builds the renderer if
 * needed, starts the engine worker and the server on 127.0.0.1, and prints the URL with its token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDispatch } from '../host/dispatch.ts';
import { EngineHost } from '../host/engine-host.ts';
import { desktopUserDataDir, documentsDir } from '../host/paths.ts';
import { RUN_BUDGET_ENV, runBudgetFromEnv } from '../host/run-budget.ts';
import { sourceWorker } from '../host/worker-source.ts';
import { defaultWorkspaceFolder, loadSettings, seedWorkspace, Workspace } from '../host/workspace.ts';
import { buildRenderer, rendererStaleness } from './build-renderer.ts';
import { browserHandlers } from './local.ts';
import { loadIdentity, saveIdentity } from './identity.ts';
import { startServer } from './server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const USAGE = 'usage: npm run serve [-- --port N] [-- --workspace DIR] [-- --no-build]';

interface Args {
  /** null: the port of the last start, else any free one */
  port: number | null;
  workspace: string | null;
  build: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { port: null, workspace: null, build: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${k} needs a value`);
      return v;
    };
    if (k === '--port') {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) > 65535)
        usage(`--port must be a number from 0 to 65535, got ${JSON.stringify(v)}`);
      a.port = Number(v);
    } else if (k === '--workspace') a.workspace = value();
    else if (k === '--no-build') a.build = false;
    else if (k === '--help' || k === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${JSON.stringify(k)}`);
  }
  return a;
}

function usage(message: string): never {
  console.error(`serve: ${message}\n${USAGE}`);
  process.exit(64);
}

const args = parseArgs(process.argv.slice(2));
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

if (args.build) {
  const why = await rendererStaleness(root);
  if (why) {
    console.log(`serve: building the renderer (${why})…`);
    try {
      const ms = await buildRenderer(root);
      console.log(`serve: renderer built in ${(ms / 1000).toFixed(1)} s`);
    } catch (e) {
      if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) throw e;
      console.error(
        `serve: the renderer build failed (${(e as Error).message.split('\n')[0]}); serving the previous build`,
      );
    }
  }
}

// the desktop app's workspace: its setting, else the default under Documents
const settings = await loadSettings(join(desktopUserDataDir(), 'settings.json'));
const folder = args.workspace ?? settings.workspace ?? defaultWorkspaceFolder(documentsDir());
const seeded = await seedWorkspace(folder, join(root, 'examples'));
const workspace = new Workspace(folder);

// a run's time budget (default 30 s): DMAWB_RUN_TIMEOUT_MS, for runs of a million calls (host/run-budget.ts)
let budget: number | undefined;
try {
  budget = runBudgetFromEnv(process.env[RUN_BUDGET_ENV]);
} catch (e) {
  console.error(`serve: ${(e as Error).message}`);
  process.exit(64);
}
const engine = new EngineHost({
  factory: sourceWorker(),
  appVersion: version,
  ...(budget !== undefined ? { runTimeoutMs: budget } : {}),
});
const dispatch = createDispatch({ engine, local: browserHandlers(workspace, version) });
// the same token and, unless --port says otherwise, the same port as the last start: a page left open
// across a restart reconnects by itself and saves what was typed (server/identity.ts)
const identityFile = process.env['DMAWB_SERVE_IDENTITY'] ?? join(desktopUserDataDir(), 'serve-identity.json');
const identity = await loadIdentity(identityFile);
const serverOpts = {
  rendererDir: join(root, 'out', 'renderer'),
  dispatch,
  subscribe: (fn: Parameters<Parameters<typeof startServer>[0]['subscribe']>[0]) => engine.on(fn),
  token: identity.token,
};
const server = await startServer({ ...serverOpts, port: args.port ?? identity.port }).catch(
  (e: NodeJS.ErrnoException) => {
    if (args.port !== null || !identity.port || e.code !== 'EADDRINUSE') throw e;
    console.error(
      `serve: port ${identity.port} of the last start is taken; using a free one (open the new URL)`,
    );
    return startServer({ ...serverOpts, port: 0 });
  },
);
await saveIdentity(identityFile, { token: server.token, port: server.port }).catch((e: Error) =>
  console.error(
    `serve: could not save the token for the next start (${e.message}); a restart will need the new URL`,
  ),
);
engine.on((event, payload) => {
  if (event === 'engine.restarted') console.error(`serve: ${(payload as { reason: string }).reason}`);
});

console.log(
  `serve: workspace ${workspace.folder}${seeded.length ? ` (seeded with ${seeded.length} examples)` : ''}`,
);
// performance.now() counts from the start of the process
console.log(
  `serve: ready ${Math.round(performance.now())} ms after start; listening on 127.0.0.1 only. Open:`,
);
console.log(server.url);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  void Promise.all([server.close(), engine.dispose()]).finally(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
