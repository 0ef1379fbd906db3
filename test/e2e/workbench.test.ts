/**
 * The built renderer in real Chromium against browser mode (`npm run serve`: the real engine worker
 * behind the WebSocket bridge), driven the way a user drives it. Screenshots land in
 * test-results/screenshots/. Skips with a message where /usr/bin/chromium is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { parseSnapshot } from '../../engine/snapshot';
import {
  command,
  describeInBrowser,
  runFile,
  openApp,
  replaceEditorText,
  ROOT,
  screenshot,
  uiState,
  waitRunEnd,
} from './harness';

async function newScenario(page: Page, name: string, text: string): Promise<void> {
  await command(page, 'scenario.new');
  const input = page.locator('[data-testid="scenario-list"] input');
  await input.fill(name);
  await input.press('Enter');
  await page.waitForFunction((n) => window.dmawbUi!.state().openFile === n, `${name}.ts`);
  await replaceEditorText(page, text);
}

async function tceTexts(page: Page): Promise<string[]> {
  return page.locator('[data-testid="tce-row"]').allInnerTexts();
}

describeInBrowser('workbench in Chromium (browser mode)', (suite) => {
  let page: Page;
  let snapshotPath = '';

  beforeAll(async () => {
    page = await suite.page({ open: false });
  });

  it('launches with the editor showing the first bundled example', async () => {
    const ms = await openApp(page, suite.served.url);
    expect(ms).toBeLessThan(10_000);
    const s = await uiState(page);
    expect(s.openFile).toBe('qemu-v2-ddw.ts');
    await expect
      .poll(async () =>
        (await page.locator('[data-testid="scenario-editor"] .view-lines').innerText()).replace(/\s/g, ' '),
      )
      .toContain('QEMU/KVM starting a 4 GiB sPAPR guest');
    const names = await page
      .locator('[data-testid="scenario-list"] [data-testid="scenario-item"]')
      .allInnerTexts();
    expect(names.length).toBeGreaterThanOrEqual(5);
    expect(names).toContain('qemu-v2-ddw');
    expect(await page.locator('[data-testid="kernel-select"]').inputValue()).toMatch(/^(4\.2|mainline)$/);
    await screenshot(page, '01-launch');
  });

  it('shows a Monaco marker for a type error before anything runs', async () => {
    await newScenario(
      page,
      'typo',
      "const host = createHost({ kernel: 'mainline' });\nconst lv: string = host.pageSize;\nhost.addPhb({ model: 'IODA3' });\n",
    );
    const squiggles = page.locator('[data-testid="scenario-editor"] .squiggly-error');
    await expect.poll(() => squiggles.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    // the scenario API is known: hovering createHost shows its documentation
    await page
      .locator('[data-testid="scenario-editor"] .view-line')
      .first()
      .locator('text=createHost')
      .hover();
    await expect
      .poll(() => page.locator('.monaco-hover', { hasText: 'Creates an emulated host' }).count(), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    await screenshot(page, '02-type-error');
  });

  it("puts the run's runtime error on its line in the editor", async () => {
    await page.click('[data-testid="run"]');
    const s = await waitRunEnd(page);
    expect((s.problems as { error: { kind: string; line: number } | null }).error).toMatchObject({
      kind: 'runtime',
      line: 3,
    });
    expect(await page.locator('[data-testid="run-error"]').innerText()).toMatch(/runtime error at line 3/);
    // the marker is on line 3: hovering there shows the run's message
    await page.locator('[data-testid="scenario-editor"] .view-line').nth(2).locator('text=model').hover();
    await expect
      .poll(() => page.locator('.monaco-hover', { hasText: 'runtime error' }).count(), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await page.locator('[data-testid="problems"]').innerText()).toContain('runtime error');
    await screenshot(page, '02b-runtime-error');
  });

  it('Run fills the event log, the inspector and the graph', async () => {
    const s = await runFile(page, 'qemu-v2-ddw.ts');
    expect(s.status).toBe('done');
    expect(s.rows as number).toBeGreaterThan(50);
    expect(s.problems).toMatchObject({ failedCalls: 0, failedExpectations: 0, error: null });
    expect(await page.locator('[data-testid="event-row"]').count()).toBeGreaterThan(5);
    expect(await page.locator('[data-testid="problems"]').innerText()).toMatch(/0\s*failed calls/);
    // the inspector opens on a window with valid entries, and shows them
    const w = s.window as { valid: number; entries: number };
    expect(w.valid).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid="tce-row"].valid').count()).toBeGreaterThan(0);
    // the graph draws (uPlot's canvas) for the QEMU process
    await expect.poll(() => page.locator('[data-testid="lockedvm-graph"] canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="lockedvm-graph"]').innerText()).toContain('qemu-system-ppc64');
    // hovering the graph names the event under the cursor; clicking selects it
    const over = page.locator('[data-testid="lockedvm-graph"] .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await expect
      .poll(() => page.locator('[data-testid="lockedvm-graph"] .tip').innerText())
      .toMatch(/seq \d+/);
    const hovered = Number(
      /seq (\d+)/.exec(await page.locator('[data-testid="lockedvm-graph"] .tip').innerText())![1],
    );
    await screenshot(page, '03-run');
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.evaluate(() => window.dmawbUi!.settled());
    expect((await uiState(page)).seq).toBe(hovered);
    await expect
      .poll(() => page.locator('[data-testid="event-row"].selected').getAttribute('data-seq'))
      .toBe(String(hovered));
  });

  it('selecting an event shows the state after it in the inspector', async () => {
    const before = await tceTexts(page);
    const seqBefore = (await uiState(page)).seq;
    // the guest's first H_PUT_TCE: KVM writes one 4 KiB TCE in the 32-bit window (TCE0[1])
    await page.selectOption('[data-testid="event-log"] >> xpath=../.. >> select >> nth=0', 'H_PUT_TCE');
    await page.locator('[data-testid="event-row"]').first().click();
    await page.evaluate(() => window.dmawbUi!.settled());
    const s = await uiState(page);
    expect(s.seq).not.toBe(seqBefore);
    await expect.poll(() => tceTexts(page)).not.toEqual(before);
    expect(s.window).toMatchObject({ slot: 0, valid: 1 });
    const changed = page.locator('[data-testid="tce-row"].changed');
    await expect.poll(() => changed.count()).toBe(1);
    expect(await changed.getAttribute('data-index')).toBe('1');
    // keyboard: the next event is selected
    await page.locator('[data-testid="event-log"]').focus();
    await page.keyboard.press('ArrowDown');
    await page.evaluate(() => window.dmawbUi!.settled());
    expect((await uiState(page)).seq).toBeGreaterThan(s.seq as number);
    await screenshot(page, '04-time-travel');
    await command(page, 'eventLog.clearFilters');
  });

  it('jumps to an IOVA in a 65,536-entry DDW window', async () => {
    await command(page, 'events.last');
    await page.evaluate(() => window.dmawbUi!.settled());
    // the end of the run has no window left: go to where the guest has mapped 1024 DDW entries
    await page.fill('[data-testid="event-log"] >> xpath=.. >> input[type=search]', '2 x H_PUT_TCE_INDIRECT');
    await page.locator('[data-testid="event-row"]').first().click();
    await page.fill('[data-testid="tce-jump"]', '0x0800000000f00000');
    await page.press('[data-testid="tce-jump"]', 'Enter');
    await expect
      .poll(() => page.locator('[data-testid="tce-row"][data-index="240"]').count(), { timeout: 5000 })
      .toBe(1);
    // valid-only stays on across a jump to a valid entry
    await command(page, 'inspector.toggleValidOnly');
    await expect.poll(() => page.isChecked('[data-testid="valid-only"]')).toBe(true);
    await page.fill('[data-testid="tce-jump"]', '0x0800000000e00000');
    await page.press('[data-testid="tce-jump"]', 'Enter');
    await expect
      .poll(() => page.locator('[data-testid="tce-row"][data-index="224"].jumped').count(), {
        timeout: 5000,
      })
      .toBe(1);
    expect(await page.isChecked('[data-testid="valid-only"]')).toBe(true);
    await command(page, 'inspector.toggleValidOnly');
    await command(page, 'eventLog.clearFilters');
  });

  it('scrolls a 16,777,216-entry window end to end (1 TiB through 64 KiB TCEs)', async () => {
    await page.click('[data-testid="scenario-list"] >> text=huge-ddw-1tib');
    await page.waitForFunction(() => window.dmawbUi!.state().openFile === 'huge-ddw-1tib.ts');
    await page.click('[data-testid="run"]');
    const s = await waitRunEnd(page, 120_000);
    expect(s.window).toMatchObject({ slot: 1, entries: 16_777_216, valid: 16_777_216 });
    const list = page.locator('[data-testid="tce-list"]');
    // the spacer stays below the browser's element-height cap, and the rows still reach the end
    expect(await list.evaluate((el) => el.scrollHeight)).toBeLessThanOrEqual(8_000_000);
    await list.focus();
    await page.keyboard.press('End');
    await expect.poll(() => page.locator('[data-testid="tce-row"][data-index="16777215"]').count()).toBe(1);
    expect(await page.locator('[data-testid="tce-row"][data-index="16777215"]').innerText()).toContain(
      '0x080000ffffff0000',
    );
    await list.evaluate((el) => (el.scrollTop = (el.scrollHeight - el.clientHeight) / 2));
    const firstIndex = async () =>
      Number(await page.locator('[data-testid="tce-row"]').first().getAttribute('data-index'));
    await expect.poll(async () => Math.abs((await firstIndex()) - 8_388_600) < 100).toBe(true);
    // wheel scrolling moves row by row, not by scaled pixels
    const first = await firstIndex();
    await list.hover();
    await page.mouse.wheel(0, 100);
    await expect.poll(async () => (await firstIndex()) - first).toBe(5);
    await screenshot(page, '05a-huge-window');
  });

  it('exports a snapshot that validates, and imports it again', async () => {
    const download = page.waitForEvent('download');
    await page.click('[data-testid="export-snapshot"]');
    const d = await download;
    snapshotPath = join(ROOT, 'test-results', d.suggestedFilename());
    await d.saveAs(snapshotPath);
    const text = readFileSync(snapshotPath, 'utf8');
    const snap = parseSnapshot(text);
    // the step selected after the huge run: 16,777,216 mapped TCEs, stored as runs
    expect(snap.meta.scenarioName).toContain('huge-ddw-1tib');
    expect(snap.state.windows.some((w) => w.entries === 16_777_216 && w.runs.length > 0)).toBe(true);
    expect(text.length).toBeLessThan(100_000);
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'snapshot.schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate(JSON.parse(text)), JSON.stringify(validate.errors)).toBe(true);
    const exported = await uiState(page);

    const chooser = page.waitForEvent('filechooser');
    await page.click('[data-testid="import-snapshot"]');
    await (await chooser).setFiles(snapshotPath);
    await page.waitForFunction(() => window.dmawbUi!.state().status === 'imported');
    const s = await waitRunEnd(page);
    expect(s.status).toBe('imported');
    expect(s.seq).toBe(exported.seq);
    expect(s.window).toEqual(exported.window);
    await expect.poll(() => page.locator('[data-testid="tce-row"].valid').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="event-row"]').count()).toBeGreaterThan(0);
    await screenshot(page, '05-imported');
  });

  it('draws locked_vm live while a run streams, the stacked series when it ends', async () => {
    await newScenario(
      page,
      'live-lockedvm',
      [
        'const host = createHost();',
        'const G = host.addPhb().addGroup();',
        "const p = host.spawn({ name: 'qemu', memlock: 3n * GiB });",
        'const R = p.mmap({ size: 4n * GiB, at: 0x7fff00000000n });',
        'const C = p.openContainer();',
        'p.openGroup(G).setContainer(C);',
        'C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);',
        'for (let i = 0; ; i++) {',
        '  const k = BigInt(i % 64);',
        '  C.registerMemory({ vaddr: R + k * 64n * MiB, size: 64n * MiB });',
        '  if (i % 64 === 63) for (let j = 0n; j < 64n; j++) C.unregisterMemory({ vaddr: R + j * 64n * MiB, size: 64n * MiB });',
        '}',
        '',
      ].join('\n'),
    );
    await page.click('[data-testid="run"]');
    await page.waitForFunction(() => window.dmawbUi!.state().status === 'running');
    const graph = page.locator('[data-testid="lockedvm-graph"]');
    await expect.poll(() => graph.locator('canvas').count(), { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(() => graph.locator('.key.live').count()).toBe(1);
    expect(await graph.innerText()).toMatch(/limit 49,152 pages/);
    await page.waitForTimeout(600);
    expect((await uiState(page)).status).toBe('running');
    await screenshot(page, '06a-live-lockedvm');
    await page.click('[data-testid="stop"]');
    await waitRunEnd(page, 10_000);
    await expect.poll(() => graph.locator('.key.live').count()).toBe(0);
    expect(await graph.innerText()).toContain('pre-registered');
  });

  it('Stop ends a runaway while(true){} run and the UI stays responsive', async () => {
    await newScenario(page, 'runaway', "const host = createHost();\nlog('spinning');\nwhile (true) {}\n");
    await page.click('[data-testid="run"]');
    await page.waitForFunction(() => window.dmawbUi!.state().status === 'running');
    await page.waitForTimeout(700);
    // responsive while the engine spins: the palette opens and filters
    const t0 = Date.now();
    await page.keyboard.press('Control+Shift+P');
    await page.locator('[data-testid="command-palette"] input').fill('valid only');
    expect(await page.locator('[data-testid="command-palette"] li').first().innerText()).toContain(
      'valid entries',
    );
    await page.keyboard.press('Escape');
    expect(Date.now() - t0).toBeLessThan(2000);
    await screenshot(page, '06-runaway');
    const stopAt = Date.now();
    await page.click('[data-testid="stop"]');
    const s = await waitRunEnd(page, 10_000);
    expect(Date.now() - stopAt).toBeLessThan(5000);
    expect(['done', 'failed']).toContain(s.status);
    expect(await page.locator('[data-testid="run"]').isEnabled()).toBe(true);
    // the engine still works afterwards
    await page.click('[data-testid="scenario-list"] >> text=qemu-v1');
    await page.click('[data-testid="run"]');
    expect((await waitRunEnd(page)).status).toBe('done');
    await screenshot(page, '07-after-stop');
  });

  it('logged no page errors', () => {
    expect(suite.errors).toEqual([]);
  });
});
