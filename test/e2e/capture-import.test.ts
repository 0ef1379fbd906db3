/**
 * Import capture… in real Chromium against browser mode: upload a capture, the imported scenario is
 * written into the workspace and opened; running it shows, for each recorded result, the host's value
 * beside the emulated one, the divergence marked. Screenshot in test-results/screenshots/. Skips with a
 * message where /usr/bin/chromium is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeInBrowser, command, screenshot, uiState, waitRunEnd } from './harness';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describeInBrowser(
  'Import capture… in Chromium (browser mode)',
  (suite) => {
    let page: Page;

    beforeAll(async () => {
      page = await suite.page();
    });

    it('uploads a capture, opens the imported scenario, and marks where the host and the emulator differ', async () => {
      const capture = join(ROOT, 'examples/captures/register-enomem-diverges/qemu.log');
      const chooser = page.waitForEvent('filechooser');
      const done = command(page, 'capture.import');
      await (await chooser).setFiles(capture);
      expect(await done).toBe(true);
      await page.waitForFunction(() => window.dmawbUi!.state().openFile === 'import-qemu.ts');
      expect(existsSync(join(suite.served.workspace, 'import-qemu.ts'))).toBe(true);
      await page.selectOption('[data-testid="kernel-select"]', 'mainline');
      await page.click('[data-testid="run"]');
      const s = await waitRunEnd(page);
      expect(s.status).toBe('done');
      const cells = page.locator('[data-testid="recorded-result"]');
      await expect.poll(() => cells.count()).toBeGreaterThan(0);
      const differing = page.locator('[data-testid="recorded-result"].bad');
      expect(await differing.count()).toBe(1);
      expect(await differing.first().textContent()).toMatch(/≠ -12 ENOMEM \| 0/);
      await differing.first().click();
      expect(await page.locator('[data-testid="recorded-detail"]').textContent()).toMatch(
        /host \(qemu\.log:9\): -12 ENOMEM · emulated: 0 — they differ/,
      );
      await screenshot(page, 'capture-import');
      expect((await uiState(page)).openFile).toBe('import-qemu.ts');
      expect(suite.errors).toEqual([]);
    });
  },
  { consoleErrors: false },
);
