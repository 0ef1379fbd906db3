/**
 * Export as C program in real Chromium against browser mode: the toolbar's "C program" action (in the ⋯ menu at this width) downloads
 * the open scenario as a C program for a real host (scenario-api.md §4.3). Screenshot in
 * test-results/screenshots/. Skips with a message where /usr/bin/chromium is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeInBrowser, ROOT, screenshot } from './harness';

describeInBrowser('Export as C program in Chromium (browser mode)', (suite) => {
  let page: Page;

  beforeAll(async () => {
    page = await suite.page();
  });

  it('downloads the open scenario as a C program under the selected kernel profile', async () => {
    await page.click('[data-testid="scenario-list"] >> text=qemu-v1');
    await page.waitForFunction(() => window.dmawbUi!.state().openFile === 'qemu-v1.ts');
    await page.selectOption('[data-testid="kernel-select"]', '4.2');
    // at this width the toolbar keeps the most important actions; the ⋯ menu lists every one
    await page.click('[data-testid="toolbar-more"]');
    const item = page.locator('[data-testid="toolbar-menu"] [role="menuitem"]', { hasText: 'C program' });
    expect(await item.isDisabled()).toBe(false);
    await screenshot(page, '10a-export-c-menu');
    const download = page.waitForEvent('download');
    await item.click();
    const d = await download;
    expect(d.suggestedFilename()).toBe('qemu-v1-4.2.c');
    const path = join(ROOT, 'test-results', d.suggestedFilename());
    await d.saveAs(path);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^\/\*\n \* qemu-v1\.ts as a program for a real POWER host/);
    expect(text).toContain('4.2 profile');
    expect(text).toContain('VFIO_IOMMU_ENABLE');
    await expect.poll(() => page.locator('text=Downloaded qemu-v1-4.2.c').count()).toBeGreaterThan(0);
    await screenshot(page, '10-export-c');
    expect(suite.errors).toEqual([]);
  });
});
