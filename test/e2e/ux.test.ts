/**
 * Issue 11 in real Chromium against browser mode: truthful labels, results tied to their run, the event
 * beside its code, views that follow the event, the layout (splitters, maximise, overflow, 1024×640),
 * keyboard and axe-core, disconnects and a server restart with a new token. Every test opens its own page
 * (fresh storage) and creates the files it needs, so the tests run in any order (`describe.shuffle`).
 * Screenshots in test-results/screenshots/ (ux-*.png).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { TEMPLATES } from '../../common/templates';
import {
  axeViolations,
  describeInBrowser,
  openFile,
  replaceEditorText,
  command,
  ROOT,
  screenshot,
  startServe,
  uiState,
  waitRunEnd,
  type BrowserSuite,
} from './harness';

const template = (id: string) => TEMPLATES.find((t) => t.id === id)!.text;
let unique = 0;

/** a new scenario file with this text, open in the editor and saved */
async function newScenario(page: Page, base: string, text: string): Promise<string> {
  const name = `${base}-${process.pid}-${++unique}`;
  await command(page, 'scenario.new');
  const input = page.locator('[data-testid="scenario-list"] input[type="text"]');
  await input.fill(name);
  await input.press('Enter');
  await page.waitForFunction((n) => window.dmawbUi!.state().openFile === n, `${name}.ts`);
  await replaceEditorText(page, text);
  await command(page, 'file.save');
  await page.waitForFunction(() => (window.dmawbUi!.state().dirty as string[]).length === 0);
  return `${name}.ts`;
}

async function runAndWait(page: Page): Promise<Record<string, unknown>> {
  await page.click('[data-testid="run"]');
  await page.waitForFunction(() => window.dmawbUi!.state().status !== 'idle');
  return waitRunEnd(page);
}

describeInBrowser(
  'issue 11 in Chromium (browser mode)',
  (suite) => {
    /** a page of its own (fresh storage) at this size, the app open */
    const fresh = (width = 1600, height = 1000, bypassCSP = false): Promise<Page> =>
      suite.page({ width, height, bypassCSP });

    afterAll(() => expect(suite.errors).toEqual([]));

    it('1. names the kernel a scenario pins, says so in the profile comparison, and counts expected refusals as expected', async () => {
      const page = await fresh();
      const text = template('qemu-v1').replace('createHost();', "createHost({ kernel: '4.2' });");
      await newScenario(page, 'pinned', text);
      await page.selectOption('[data-testid="kernel-select"]', 'mainline');
      const s = await runAndWait(page);
      expect(s.status).toBe('done');
      await expect
        .poll(() => page.locator('[data-testid="run-origin"]').innerText())
        .toMatch(/· 4\.2 \(pinned by the scenario at line 2; selector mainline overridden\)/);
      // expectErrno(C.mapDma(… 1<<59 …), 'ENXIO') passed: one expected refusal, no failed call
      expect(await page.locator('[data-testid="expected-failures"]').innerText()).toBe('1 expected');
      expect(await page.locator('[data-testid="failed-calls"]').innerText()).toBe('0');
      expect((s.problems as { total: number }).total).toBe(0);
      await page.click('[data-testid="compare-profiles"]');
      const verdict = page.locator('[data-testid="profile-verdict"]');
      await expect.poll(() => verdict.innerText(), { timeout: 30_000 }).toMatch(/pins its kernel/);
      expect(await verdict.innerText()).not.toMatch(/agree/);
      expect(await verdict.innerText()).toMatch(/createHost\(\{ kernel: '4\.2' \}\) at line 2/);
      await screenshot(page, 'ux-1-pinned-kernel');
    });

    it('2. results name their run and dim under a bar once the file is edited or another one is open', async () => {
      const page = await fresh();
      const name = await newScenario(page, 'stale', template('qemu-v2-ddw'));
      await runAndWait(page);
      expect(await page.locator('[data-testid="run-origin"]').innerText()).toMatch(
        new RegExp(`^${name.replace(/\./g, '\\.')} · mainline · \\d\\d:\\d\\d:\\d\\d$`),
      );
      expect(await page.locator('[data-testid="stale-bar"]').count()).toBe(0);
      // edit the file that ran
      await page.click('[data-testid="scenario-editor"] .view-lines');
      await page.keyboard.press('Control+End');
      await page.keyboard.insertText('\n// edited\n');
      const bar = page.locator('[data-testid="stale-bar"]');
      await expect.poll(() => bar.innerText()).toMatch(/Results of .* — edited since/);
      expect(await page.locator('main.grid').getAttribute('class')).toMatch(/\bstale\b/);
      await screenshot(page, 'ux-2-stale-edited');
      // another file
      await openFile(page, 'qemu-v1.ts');
      await expect.poll(() => bar.innerText()).toMatch(/not the open file/);
      await page.click('[data-testid="stale-show"]');
      await page.waitForFunction((n) => window.dmawbUi!.state().openFile === n, name);
      // run again: current
      await runAndWait(page);
      await expect.poll(() => bar.count()).toBe(0);
    });

    it('3. selecting an event reveals and highlights its line; the line number is a link; a run with problems stops on the first', async () => {
      const page = await fresh();
      await newScenario(page, 'reveal', template('qemu-v2-ddw'));
      await runAndWait(page);
      // the TCE_CREATE call is on line 15 of the template
      await command(page, 'events.select', 1);
      await page.fill('[data-testid="event-log"] >> xpath=.. >> input[type=search]', 'TCE_CREATE');
      await page.locator('[data-testid="event-row"]').first().click();
      await page.evaluate(() => window.dmawbUi!.settled());
      const link = page.locator('[data-testid="event-line-link"]');
      expect(await link.innerText()).toBe('line 15');
      const current = page.locator('[data-testid="scenario-editor"] .dmawb-current-line');
      await expect.poll(() => current.count()).toBe(1);
      // the highlighted line is line 15: its number sits at the same height
      const lineTop = await page
        .locator('[data-testid="scenario-editor"] .line-numbers', { hasText: /^15$/ })
        .evaluate((el) => el.getBoundingClientRect().top);
      expect(Math.abs((await current.boundingBox())!.y - lineTop)).toBeLessThan(3);
      // the focus stayed in the log; the link moves it to the editor, on that line
      await link.click();
      await expect
        .poll(() => page.evaluate(() => !!document.activeElement?.closest('.monaco-editor')))
        .toBe(true);
      await screenshot(page, 'ux-3-event-line');
      await command(page, 'eventLog.clearFilters');

      // a run with an unexpected refusal stops on it
      await newScenario(
        page,
        'problem',
        [
          'const host = createHost();',
          "const p = host.spawn({ name: 'q' });",
          'const C = p.openContainer();',
          'C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);',
          "log('after');",
          '',
        ].join('\n'),
      );
      const s = await runAndWait(page);
      expect((s.problems as { failedCalls: number }).failedCalls).toBe(1);
      const selected = page.locator('[data-testid="event-row"].selected');
      await expect.poll(() => selected.getAttribute('class')).toMatch(/\bfailed\b/);
      expect(Number(await selected.getAttribute('data-seq'))).toBe(s.seq);
      expect(await page.locator('[data-testid="event-line-link"]').innerText()).toBe('line 4');
    });

    it('4. the inspector follows the selected event unless pinned; pinned, a chip says where the change is', async () => {
      const page = await fresh();
      // two windows of one container; mainline seqs: 16 MAP in slot 0, 18 MAP and 20 UNMAP in slot 1,
      // 22 UNMAP in slot 0
      await newScenario(
        page,
        'follow',
        [
          'const host = createHost();',
          "const G = host.addPhb({ model: 'IODA2' }).addGroup();",
          "const q = host.spawn({ name: 'qemu', memlock: 8n * GiB });",
          'const R = q.mmap({ size: 1n * GiB, at: 0x7fff00000000n });',
          'const C = q.openContainer();',
          'expectOk(q.openGroup(G).setContainer(C));',
          'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));',
          'expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }));',
          'expectOk(C.removeWindow({ startAddr: 0n }));',
          'expectOk(C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 }));',
          'const DDW = C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 }).out!.startAddr;',
          'expectOk(C.mapDma({ vaddr: R, iova: 0x1000n, size: 0x1000n, flags: RW }));',
          'expectOk(C.mapDma({ vaddr: R, iova: DDW, size: 0x10000n, flags: RW }));',
          'expectOk(C.unmapDma({ iova: DDW, size: 0x10000n }));',
          'expectOk(C.unmapDma({ iova: 0x1000n, size: 0x1000n }));',
          '',
        ].join('\n'),
      );
      await page.selectOption('[data-testid="kernel-select"]', 'mainline');
      await runAndWait(page);
      const at = async (seq: number) => {
        await command(page, 'events.select', seq);
        await page.evaluate(() => window.dmawbUi!.settled());
        return ((await uiState(page)).window as { slot: number } | null)?.slot;
      };
      expect(await at(18)).toBe(1);
      await page.selectOption('[data-testid="window-select"]', '0');
      expect(((await uiState(page)).window as { slot: number }).slot).toBe(0);
      // the user looked at slot 0, then selects an event that changed slot 1: the view follows it
      expect(await at(20)).toBe(1);
      // pinned on slot 0, it stays there, and a chip points at the change in slot 1
      await page.selectOption('[data-testid="window-select"]', '0');
      await page.click('[data-testid="inspector-pin"]');
      expect(await at(22)).toBe(0);
      expect(await at(20)).toBe(0);
      const chip = page.locator('[data-testid="changed-elsewhere"]');
      await expect.poll(() => chip.innerText()).toMatch(/slot 1/);
      await screenshot(page, 'ux-4-pinned-chip');
      await chip.click();
      await expect.poll(async () => ((await uiState(page)).window as { slot: number }).slot).toBe(1);
      await page.click('[data-testid="inspector-pin"]');
      expect(await page.getAttribute('[data-testid="inspector-pin"]', 'aria-pressed')).toBe('false');
    });

    it('5. splitters resize and persist, a title bar double-click maximises, Esc closes overlays', async () => {
      const page = await fresh();
      const pane = page.locator('[data-pane="inspector"]');
      const w0 = (await pane.boundingBox())!.width;
      const handle = page.locator('[data-testid="splitter"][aria-label="Resize the TCE inspector"]');
      const h = (await handle.boundingBox())!;
      await page.mouse.move(h.x + h.width / 2, h.y + h.height / 2);
      await page.mouse.down();
      await page.mouse.move(h.x + h.width / 2 - 120, h.y + h.height / 2, { steps: 6 });
      await page.mouse.up();
      const w1 = (await pane.boundingBox())!.width;
      expect(Math.abs(w1 - w0 - 120)).toBeLessThan(4);
      await page.reload();
      await page.waitForFunction(() => window.dmawbUi?.state().ready === true);
      expect(Math.abs((await pane.boundingBox())!.width - w1)).toBeLessThan(2);
      // double-click the event log's title bar: it fills the window; again: back
      await page.dblclick('[data-pane="log"] .panel-title');
      expect(await page.locator('[data-pane="editor"]').isVisible()).toBe(false);
      expect((await page.locator('[data-pane="log"]').boundingBox())!.height).toBeGreaterThan(800);
      await screenshot(page, 'ux-5-maximised');
      await page.keyboard.press('Escape');
      expect(await page.locator('[data-pane="editor"]').isVisible()).toBe(true);
      // Esc closes the palette and the overflow menu
      await page.keyboard.press('F1');
      await expect.poll(() => page.locator('[data-testid="command-palette"]').count()).toBe(1);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('[data-testid="command-palette"]').count()).toBe(0);
      await page.click('[data-testid="toolbar-more"]');
      expect(await page.locator('[data-testid="toolbar-menu"]').isVisible()).toBe(true);
      await page.keyboard.press('Escape');
      await expect.poll(() => page.locator('[data-testid="toolbar-menu"]').count()).toBe(0);
    });

    for (const [width, height] of [
      [1600, 1000],
      [1280, 720],
      [1024, 640],
    ] as const)
      it(`6. at ${width}×${height} no control is clipped, and the ⋯ menu reaches every toolbar action`, async () => {
        const page = await fresh(width, height);
        await command(page, 'run.start');
        await waitRunEnd(page);
        await command(page, 'events.select', 30);
        await page.evaluate(() => window.dmawbUi!.settled());
        const clipped = await page.evaluate(() => {
          const out: string[] = [];
          const els = document.querySelectorAll<HTMLElement>(
            '.toolbar button, .toolbar select, .panel-head button, .panel-head select, .panel-head input, .status button, [role="tab"]',
          );
          for (const el of els) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) continue; // hidden on purpose (in the ⋯ menu)
            const inView =
              r.left >= 0 && r.top >= 0 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            if (!inView || !hit || !(el === hit || el.contains(hit)))
              out.push(
                `${el.tagName} "${el.textContent?.trim() || el.getAttribute('aria-label') || el.title}"`,
              );
          }
          return out;
        });
        expect(clipped).toEqual([]);
        await page.click('[data-testid="toolbar-more"]');
        const items = await page.locator('[data-testid="toolbar-menu"] [role="menuitem"]').allInnerTexts();
        for (const label of ['Compare…', 'Export snapshot', 'Report', 'CSV', 'Import snapshot…'])
          expect(items).toContain(label);
        expect(items.some((t) => t.includes('⇄'))).toBe(true); // the profile comparison
        await page.keyboard.press('Escape');
        await screenshot(page, `ux-6-${width}x${height}`);
      });

    it('7. keyboard: F6 cycles panes, Ctrl+M shows tab-focus mode, roving focus in the lists', async () => {
      const page = await fresh();
      await command(page, 'run.start');
      await waitRunEnd(page);
      await page.locator('[data-testid="status-bar"]').click({ position: { x: 5, y: 5 } });
      const seen: (string | null)[] = [];
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('F6');
        seen.push(
          await page.evaluate(
            () => document.activeElement?.closest('[data-pane]')?.getAttribute('data-pane') ?? null,
          ),
        );
      }
      expect(seen).toEqual(['list', 'editor', 'inspector', 'log', 'side']);
      // Ctrl+M in the editor: Tab moves the focus, and the status bar says so
      await command(page, 'view.focusEditor');
      await page.keyboard.press('Control+M');
      const mode = page.locator('[data-testid="tab-focus-mode"]');
      await expect.poll(() => mode.innerText()).toMatch(/moves focus/);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => !!document.activeElement?.closest('.monaco-editor'))).toBe(false);
      await page.keyboard.press('Control+M');
      await expect.poll(() => mode.innerText()).toMatch(/inserts tab/);
      // the event log: Home / End / PageDown move the selection, Enter shows the line
      await page.locator('[data-testid="event-log"]').focus();
      await page.keyboard.press('End');
      await page.evaluate(() => window.dmawbUi!.settled());
      const s = await uiState(page);
      expect(s.seq).toBe(s.rows);
      await page.keyboard.press('Home');
      await page.evaluate(() => window.dmawbUi!.settled());
      expect([
        (await uiState(page)).seq,
        await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
      ]).toEqual([1, 'event-log']);
      await page.keyboard.press('PageDown');
      await page.evaluate(() => window.dmawbUi!.settled());
      expect((await uiState(page)).seq).toBeGreaterThan(3);
      expect(await page.getAttribute('[data-testid="event-log"]', 'aria-activedescendant')).toBe(
        `event-${(await uiState(page)).seq}`,
      );
      // the scenario list: one tab stop, arrows move, Enter opens
      await page.locator('[data-testid="scenario-files"]').focus();
      const before = (await uiState(page)).openFile;
      await page.keyboard.press('Home');
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await uiState(page)).openFile).not.toBe(before);
      // focus rings are 2 px
      const ring = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineWidth);
      expect(ring).toBe('2px');
      await screenshot(page, 'ux-7-keyboard');
    });

    it('6b. axe-core finds no serious or critical violation on any screen', async () => {
      const page = await fresh(1280, 720, true);
      const screens: Record<string, unknown> = {};
      screens['start'] = await axeViolations(page);
      await command(page, 'run.start');
      await waitRunEnd(page);
      await command(page, 'events.select', 40);
      await page.evaluate(() => window.dmawbUi!.settled());
      screens['after a run'] = await axeViolations(page);
      await command(page, 'view.palette');
      screens['palette'] = await axeViolations(page);
      await page.keyboard.press('Escape');
      await page.click('[data-testid="toolbar-more"]');
      screens['overflow menu'] = await axeViolations(page);
      await page.keyboard.press('Escape');
      await command(page, 'compare.withPrevious');
      await page.waitForFunction(() => !(window.dmawbUi!.state().compare as { loading: boolean }).loading);
      screens['compare steps'] = await axeViolations(page);
      await command(page, 'compare.profiles');
      await page.waitForFunction(
        () => !(window.dmawbUi!.state().compare as { loading: boolean }).loading,
        null,
        {
          timeout: 30_000,
        },
      );
      screens['compare profiles'] = await axeViolations(page);
      await command(page, 'compare.close');
      // stale results: a file of its own (the bundled examples stay as they are for the other tests)
      await newScenario(page, 'axe-stale', template('empty'));
      await command(page, 'run.start');
      await waitRunEnd(page);
      await page.click('[data-testid="scenario-editor"] .view-lines');
      await page.keyboard.press('Control+End');
      await page.keyboard.insertText('// edited\n');
      await page.waitForSelector('[data-testid="stale-bar"]');
      screens['stale results'] = await axeViolations(page);
      await command(page, 'scenario.new');
      screens['new scenario prompt'] = await axeViolations(page);
      await screenshot(page, 'ux-6b-axe');
      for (const [k, v] of Object.entries(screens)) expect(v, k).toEqual([]);
    });

    it('10. one command namespace: dotted ids everywhere, an old dashed id still runs, the palette asks for an argument', async () => {
      const page = await fresh();
      const ids = await page.evaluate(() => window.dmawbUi!.list().map((c) => c.id));
      expect(ids).toContain('run.start');
      for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/);
      await newScenario(page, 'alias', template('qemu-v2-ddw'));
      // 'run' is the dashed id of earlier releases (COMMAND_ALIASES in common/commands.ts)
      await command(page, 'run');
      expect((await waitRunEnd(page)).status).toBe('done');
      // a command that takes an argument: the palette asks for it, refuses a bad one and runs a good one
      await command(page, 'view.palette');
      const input = page.locator('[data-testid="command-palette"] input');
      await input.fill('select event by seq');
      await input.press('Enter');
      await expect
        .poll(() => page.locator('[data-testid="palette-arg"]').innerText())
        .toMatch(/Select event by seq/);
      await input.fill('three');
      await input.press('Enter');
      await expect
        .poll(() => page.locator('[data-testid="palette-arg"] [role="alert"]').innerText())
        .toMatch(/not an event seq/);
      await screenshot(page, 'ux-10-palette-argument');
      await input.fill('3');
      await input.press('Enter');
      await page.waitForFunction(() => window.dmawbUi!.state().seq === 3);
      expect(await page.locator('[data-testid="command-palette"]').count()).toBe(0);
    });

    it('7. a Stop says "Stopped at line N", the line that was running (not the last API call), in a neutral colour', async () => {
      const page = await fresh();
      const LOGS = 300;
      // line 2 makes the last API calls; the loop on lines 4-6 makes none. Every row is on screen only once
      // the scenario is past its last API call: the engine sends the last ones from the sandbox's interrupt
      // checks while the loop spins (or with the batch the last call filled)
      const name = await newScenario(
        page,
        'stop-line',
        `const host = createHost();\nfor (let i = 0; i < ${LOGS}; i++) log(\`event \${i}\`);\nlet n = 0;\nwhile (n >= 0) {\n  n = (n + 1) % 1000;\n}\n`,
      );
      await page.click('[data-testid="run"]');
      await page.waitForFunction(
        (n) => window.dmawbUi!.state().status === 'running' && Number(window.dmawbUi!.state().rows) >= n,
        LOGS,
        { timeout: 30_000 },
      );
      await page.click('[data-testid="stop"]');
      await waitRunEnd(page);
      const strip = page.locator('[data-testid="run-stopped"]');
      await expect.poll(() => strip.innerText()).toMatch(/^Stopped at line 4\b/);
      // a Stop is not an error: no red strip, no problem counted, and the strip is in neutral colours
      expect(await page.locator('[data-testid="run-error"]').count()).toBe(0);
      expect(((await uiState(page)).problems as { total: number }).total).toBe(0);
      const colours = await strip.evaluate((el) => {
        const css = getComputedStyle(el);
        return { fg: css.color, bg: css.backgroundColor };
      });
      const rgb = (c: string) => c.match(/\d+/g)!.slice(0, 3).map(Number);
      for (const c of [colours.fg, colours.bg]) {
        const [r, g, b] = rgb(c);
        // grey, not red: no channel far above the others
        expect(Math.max(r!, g!, b!) - Math.min(r!, g!, b!), c).toBeLessThan(40);
      }
      // the line number is a link to the line
      await page.click('[data-testid="run-stopped-line"]');
      await expect
        .poll(() => page.evaluate(() => !!document.activeElement?.closest('.monaco-editor')))
        .toBe(true);
      expect((await uiState(page)).openFile).toBe(name);
      await screenshot(page, 'ux-7-stopped-at-line');
    });

    it('8. New scenario offers the templates; each creates its file and runs with every expectation met', async () => {
      const page = await fresh();
      await command(page, 'scenario.new');
      const select = page.locator('[data-testid="template-select"]');
      expect(await select.locator('option').allInnerTexts()).toEqual(TEMPLATES.map((t) => t.label));
      await page.keyboard.press('Escape');
      for (const t of TEMPLATES) {
        const name = `tpl-${t.id}-${process.pid}-${++unique}`;
        await command(page, 'scenario.new');
        await page.selectOption('[data-testid="template-select"]', t.id);
        const input = page.locator('[data-testid="scenario-list"] input[type="text"]');
        await input.fill(name);
        await input.press('Enter');
        await page.waitForFunction((n) => window.dmawbUi!.state().openFile === n, `${name}.ts`);
        if (t.id === 'memlock-failure') await screenshot(page, 'ux-8-template');
        for (const kernel of ['4.2', '5.x', 'mainline']) {
          await page.selectOption('[data-testid="kernel-select"]', kernel);
          const s = await runAndWait(page);
          expect(s.status, `${t.id} under ${kernel}`).toBe('done');
          expect(
            await page.locator('[data-testid="failed-expectations"]').innerText(),
            `${t.id} ${kernel}`,
          ).toMatch(/^0\b/);
        }
      }
    });

    it('9. the production bundle does not carry the fake bridge', () => {
      const dir = join(ROOT, 'out', 'renderer', 'assets');
      const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
      expect(js.length).toBeGreaterThan(0);
      for (const f of js) expect(readFileSync(join(dir, f), 'utf8')).not.toContain('0.0.0-fake');
    });
  },
  { shuffle: true, consoleErrors: false },
);

// Restarts of the real `npm run serve` (scripts/serve.mjs → server/main.ts), each test in a suite of its
// own (its server, workspace and token file). The token and port persist in the identity file, so a plain
// restart reconnects by itself; a restart with another identity file is a new token, which the page must
// name. (The earlier version of this test expected a new token from a plain restart and used harness
// options the identity-file change had removed, so its second server came up on another port and the page
// never heard of it.)
function restartSuite(
  tag: string,
  body: (suite: BrowserSuite, ws: { scratch: string; workspace: string; file: string }) => void,
): void {
  // made when the suite starts (not where Chromium is missing and the suite is skipped)
  const ws = { scratch: '', workspace: '', file: `restart-${tag}.ts` };
  describeInBrowser(
    `issue 11: a browser-mode server restart (${tag})`,
    (suite) => {
      afterAll(() => {
        expect(suite.errors).toEqual([]);
        if (ws.scratch) rmSync(ws.scratch, { recursive: true, force: true });
      });
      body(suite, ws);
    },
    {
      serve: () => {
        ws.scratch = mkdtempSync(join(tmpdir(), `dmawb-e2e-restart-${tag}-`));
        ws.workspace = join(ws.scratch, 'scenarios');
        mkdirSync(ws.workspace, { recursive: true });
        writeFileSync(join(ws.workspace, ws.file), template('qemu-v2-ddw'));
        return { workspace: ws.workspace };
      },
      // the page logs its failed WebSocket reconnects while the server is down
      consoleErrors: false,
    },
  );
}

/** a page on the suite's server with the file open, after one run; stops the server and checks that the
 * page noticed: Run off, the results still there */
async function runThenGoDown(suite: BrowserSuite, file: string): Promise<Page> {
  const page = await suite.page({ width: 1280, height: 720 });
  await openFile(page, file);
  const s = await runAndWait(page);
  expect(s.status).toBe('done');
  await suite.served.stop();
  await page.waitForSelector('[data-testid="reconnect-bar"]', { timeout: 30_000 });
  expect(await page.locator('[data-testid="run"]').isDisabled()).toBe(true);
  expect((await uiState(page)).rows).toBe(s.rows);
  expect(await page.locator('[data-testid="event-row"]').count()).toBeGreaterThan(0);
  expect(await page.locator('[data-testid="status-connection"]').innerText()).toMatch(
    /disconnected|connecting/,
  );
  return page;
}

/** types at the end of the open file while the server is down; the page keeps the text at once */
async function typeWhileDown(page: Page, text: string): Promise<void> {
  await page.click('[data-testid="scenario-editor"] .view-lines');
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText(text);
  await page.waitForFunction((t) => (localStorage.getItem('dmawb.unsaved') ?? '').includes(t), text.trim());
}

restartSuite('same-token', (suite, ws) => {
  it('7. restarted with the same token: the page reconnects by itself and saves what was typed meanwhile', async () => {
    const { workspace, file } = ws;
    const first = suite.served;
    const page = await runThenGoDown(suite, file);
    const typed = '\n// typed while the server was down (same token)\n';
    await typeWhileDown(page, typed);
    // downloadable at once
    const download = page.waitForEvent('download');
    await page.click('[data-testid="download-unsaved"]');
    expect((await download).suggestedFilename()).toBe(file);
    await screenshot(page, 'ux-7-server-down');
    // the same identity file: the same port and token
    suite.served = await startServe({ workspace, samePort: true });
    expect(suite.served.url).toBe(first.url);
    await page.waitForSelector('[data-testid="reconnect-bar"]', { state: 'detached', timeout: 60_000 });
    expect(await page.locator('[data-testid="run"]').isEnabled()).toBe(true);
    await expect
      .poll(() => readFileSync(join(workspace, file), 'utf8'), { timeout: 30_000 })
      .toContain(typed.trim());
    // and the engine is back
    expect((await runAndWait(page)).status).toBe('done');
    await screenshot(page, 'ux-7-reconnected');
  });
});

restartSuite('new-token', (suite, ws) => {
  it('7. restarted with a new token: the page says so, takes the new URL, and the unsaved edits come back', async () => {
    const { scratch, workspace, file } = ws;
    const first = suite.served;
    const page = await runThenGoDown(suite, file);
    const typed = '\n// typed while the server was down (new token)\n';
    await typeWhileDown(page, typed);
    // the same port, another token file: a new token
    suite.served = await startServe({
      workspace,
      port: Number(new URL(first.url).port),
      identity: join(scratch, 'other-identity.json'),
    });
    expect(suite.served.url).not.toBe(first.url);
    await page.waitForSelector('[data-testid="token-rejected"]', { timeout: 60_000 });
    expect(await page.locator('[data-testid="run"]').isDisabled()).toBe(true);
    await screenshot(page, 'ux-7-new-token');
    await page.fill('[data-testid="new-url"]', 'http://example.com/');
    await page.press('[data-testid="new-url"]', 'Enter');
    expect(await page.locator('[data-testid="reconnect-bar"] .err').innerText()).toMatch(
      /not a workbench URL/,
    );
    // nothing typed reached the workspace yet: it is only in the page
    expect(readFileSync(join(workspace, file), 'utf8')).not.toContain(typed.trim());
    await page.fill('[data-testid="new-url"]', suite.served.url);
    await Promise.all([page.waitForURL(suite.served.url), page.press('[data-testid="new-url"]', 'Enter')]);
    await page.waitForFunction(() => window.dmawbUi?.state().ready === true, null, { timeout: 30_000 });
    await openFile(page, file);
    // the text typed on the old page is back in the editor and reaches the workspace
    await page.waitForFunction((f) => (window.dmawbUi!.state().restored as string[]).includes(f), file);
    await expect
      .poll(() => readFileSync(join(workspace, file), 'utf8'), { timeout: 30_000 })
      .toContain(typed.trim());
    expect(await page.locator('[data-testid="reconnect-bar"]').count()).toBe(0);
    await screenshot(page, 'ux-7-new-url-restored');
  });
});
