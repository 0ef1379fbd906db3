/**
 * The layering of the tree is kept by ESLint (eslint.config.js: local/code-layering, local/no-cycle, the
 * ipcMain/ipcRenderer restrictions) and by tsconfig.engine.json. These tests feed deliberate violations to
 * the real config and check that each is refused with a message naming its rule — so a config change that
 * silently stops a rule from applying fails here. (`npm test` runs `npm run lint` on the whole tree itself.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** rule ids ESLint reports for `text` as if it were the file at `path` (repository-relative) */
async function rulesFor(path: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: join(root, path) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layering (eslint.config.js)', () => {
  it.each([
    [
      'renderer/src/x.ts',
      "import { createHost } from '../../engine/facade.ts';\nexport const x = createHost;\n",
      'renderer/ may not import engine/',
    ],
    [
      'renderer/src/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      'renderer/ may not use the package "node:fs"',
    ],
    [
      'renderer/src/x.ts',
      "import { EngineHost } from '../../host/engine-host.ts';\nexport const x = EngineHost;\n",
      'renderer/ may not import host/',
    ],
    [
      'engine/x.ts',
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
      'engine/ may not use the package "node:fs"',
    ],
    [
      'engine/x.ts',
      "import { runScenario } from '../runner/run.ts';\nexport const x = runScenario;\n",
      'engine/ may not import runner/',
    ],
    [
      'engine/x.ts',
      "import { EngineHost } from '../host/engine-host.ts';\nexport const x = EngineHost;\n",
      'engine/ may not import host/',
    ],
    [
      'server/x.ts',
      "import { registerIpc } from '../main/ipc.ts';\nexport const x = registerIpc;\n",
      'server/ may not import main/',
    ],
    [
      'server/x.ts',
      "import { app } from 'electron';\nexport const x = app;\n",
      'server/ may not use the package "electron"',
    ],
    [
      'host/x.ts',
      "import { app } from 'electron';\nexport const x = app;\n",
      'host/ may not use the package "electron"',
    ],
    [
      'common/x.ts',
      "import { Mm } from '../engine/memory.ts';\nexport const x = Mm;\n",
      'common/ may not import engine/',
    ],
    [
      'preload/x.ts',
      "import { EngineHost } from '../host/engine-host.ts';\nexport const x = EngineHost;\n",
      'preload/ may not import host/',
    ],
  ])('%s: %s is bad layering', async (path, text, expected) => {
    const messages = await rulesFor(path, text);
    expect(
      messages.some((m) => m.startsWith('local/code-layering:') && m.includes(expected)),
      messages.join('\n'),
    ).toBe(true);
  });

  it('lets the engine import types from common/ and the renderer the contract', async () => {
    expect(
      await rulesFor(
        'engine/x.ts',
        "import type { EventRow } from '../common/contract.ts';\nexport type X = EventRow;\n",
      ),
    ).toEqual([]);
    expect(
      await rulesFor(
        'renderer/src/x.ts',
        "import { requests } from '../../common/contract.ts';\nexport const x = requests;\n",
      ),
    ).toEqual([]);
  });

  it('keeps raw ipcMain in main/ipc.ts and generic sends out of the preload', async () => {
    const text = "import { ipcMain } from 'electron';\nexport const x = ipcMain;\n";
    expect((await rulesFor('main/menu.ts', text)).some((m) => m.startsWith('no-restricted-imports:'))).toBe(
      true,
    );
    expect(await rulesFor('main/ipc.ts', text)).toEqual([]);
    const send =
      "import { ipcRenderer } from 'electron';\nexport const x = () => ipcRenderer.send('anything');\n";
    expect(
      (await rulesFor('preload/index.ts', send)).some((m) => m.startsWith('no-restricted-syntax:')),
    ).toBe(true);
  });
});

describe('import cycles (local/no-cycle)', () => {
  const dir = mkdtempSync(join(root, 'test', '.lint-cycle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a value-import cycle and ignores a type-only one', async () => {
    writeFileSync(join(dir, 'b.ts'), "import { a } from './a.ts';\nexport const b = () => a;\n");
    writeFileSync(join(dir, 'c.ts'), "import type { A } from './a.ts';\nexport const c = (x: A) => x;\n");
    const rel = dir.slice(root.length);
    const a = "import { b } from './b.ts';\nexport const a = () => b;\n";
    writeFileSync(join(dir, 'a.ts'), a);
    const cycle = await rulesFor(`${rel}/a.ts`, a);
    expect(
      cycle.some((m) => m.startsWith('local/no-cycle:') && m.includes('a.ts → ') && m.includes('b.ts')),
      cycle.join('\n'),
    ).toBe(true);
    const none = await rulesFor(
      `${rel}/a.ts`,
      "import { c } from './c.ts';\nexport type A = number;\nexport const a = c;\n",
    );
    expect(none.filter((m) => m.startsWith('local/no-cycle'))).toEqual([]);
  });

  it('follows imports through renderer .vue files: a cycle through a component is reported on both sides', async () => {
    const rel = dir.slice(root.length);
    const store = "import { label } from './Panel.vue';\nexport const title = () => label;\n";
    const panel =
      '<script lang="ts">\nexport const label = \'panel\';\n</script>\n' +
      '<script setup lang="ts">\nimport { title } from \'./store.ts\';\nconst t = title();\n</script>\n' +
      '<template>\n  <p>{{ t }}</p>\n</template>\n';
    writeFileSync(join(dir, 'store.ts'), store);
    writeFileSync(join(dir, 'Panel.vue'), panel);
    const fromVue = await rulesFor(`${rel}/Panel.vue`, panel);
    expect(
      fromVue.some(
        (m) => m.startsWith('local/no-cycle:') && /Panel\.vue → .*store\.ts → .*Panel\.vue/.test(m),
      ),
      fromVue.join('\n'),
    ).toBe(true);
    const fromTs = await rulesFor(`${rel}/store.ts`, store);
    expect(
      fromTs.some((m) => m.startsWith('local/no-cycle:') && /store\.ts → .*Panel\.vue → .*store\.ts/.test(m)),
      fromTs.join('\n'),
    ).toBe(true);
    // a type-only import back from the component is no cycle
    const typed = panel.replace(
      "import { title } from './store.ts';\nconst t = title();",
      "import type { Title } from './store.ts';\nconst t: Title = 'x';",
    );
    writeFileSync(join(dir, 'Panel.vue'), typed);
    const none = await rulesFor(`${rel}/Panel.vue`, typed);
    expect(none.filter((m) => m.startsWith('local/no-cycle'))).toEqual([]);
  });
});
