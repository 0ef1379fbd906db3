/**
 * Issue 7 item 4 in the workbench, in real Chromium against browser mode: the why of a refused call ends
 * with the kernel function that decided it, shown as a link; clicking it opens the Reference tab (the
 * bundled docs/kernel/ pages) at that function's section, and links inside the reference move between its
 * pages. No network and no CSP violation (the suite counts console errors). Screenshots in
 * test-results/screenshots/. Skips where /usr/bin/chromium is missing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { axeViolations, command, describeInBrowser, runFile, screenshot } from './harness';

const SCENARIO = [
  '// REGISTER of 1 GiB under the default 64 KiB RLIMIT_MEMLOCK: ENOMEM',
  'const host = createHost();',
  'const g = host.addPhb().addGroup();',
  'const p = host.spawn();',
  'const C = p.openContainer();',
  'p.openGroup(g).setContainer(C);',
  'C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);',
  'C.registerMemory({ vaddr: p.mmap({ size: 1n << 30n }), size: 1n << 30n });',
  '',
].join('\n');

/** whether the element is inside the scrolled reference body's visible area */
async function inView(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const body = document.querySelector('[data-testid="reference-body"]')!;
    const el = body.querySelector(sel);
    if (!el) return false;
    const b = body.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return r.top >= b.top - 1 && r.bottom <= b.bottom + 1 && r.height > 0;
  }, selector);
}

describeInBrowser('kernel reference in Chromium (browser mode)', (suite) => {
  beforeAll(() => {
    writeFileSync(join(suite.served.workspace, 'cite-memlock.ts'), SCENARIO);
  });

  it('a cite in the event detail opens the reference at the deciding function', async () => {
    const page = await suite.page();
    const s = await runFile(page, 'cite-memlock.ts', 'mainline');
    expect(s.status).toBe('done');
    await page
      .locator('[data-testid="event-row"]', { hasText: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY' })
      .first()
      .click();
    const cite = page.locator('[data-testid="event-detail"] [data-testid="event-cite"]');
    await expect.poll(() => cite.count()).toBe(1);
    expect((await cite.innerText()).trim()).toBe('mm/util.c: __account_locked_vm');
    // the why itself stays readable and no longer repeats the cite as plain text
    const why = await page.locator('[data-testid="event-detail"] .d-exp').innerText();
    expect(why).toMatch(/RLIMIT_MEMLOCK/);
    expect(why.match(/mm\/util\.c: __account_locked_vm/g)).toHaveLength(1);

    await cite.click();
    const panel = page.locator('[data-testid="reference-panel"]');
    await expect.poll(() => panel.count()).toBe(1);
    await expect
      .poll(() => page.locator('[data-testid="dock-tab-reference"]').getAttribute('aria-selected'))
      .toBe('true');
    const heading = panel.locator('h2[id="__account_locked_vm"]');
    await expect.poll(() => heading.count()).toBe(1);
    expect(await heading.innerText()).toBe('__account_locked_vm');
    expect(await heading.getAttribute('class')).toContain('target');
    await expect.poll(() => inView(page, 'h2[id="__account_locked_vm"]')).toBe(true);
    expect(await page.locator('[data-testid="reference-page"]').inputValue()).toBe('locked-vm');
    // the section's text, rendered from the bundled markdown (a table and code spans, no raw markdown)
    const text = await panel.locator('[data-testid="reference-body"]').innerText();
    expect(text).toContain('locked_vm accounting');
    expect(text).not.toContain('## ');
    expect(await panel.locator('table').count()).toBeGreaterThan(0);
    await screenshot(page, 'reference-locked-vm');

    // a link inside the reference opens another page at its section, inside the panel
    await panel.locator('a[data-page="prereg"][data-anchor="mm_iommu_do_alloc"]').first().click();
    await expect.poll(() => page.locator('[data-testid="reference-page"]').inputValue()).toBe('prereg');
    await expect.poll(() => inView(page, 'h2[id="mm_iommu_do_alloc"]')).toBe(true);
    expect(page.url()).not.toContain('.md');
    await screenshot(page, 'reference-prereg');

    // closing gives the dock back to the locked_vm graph
    await page.click('[data-testid="reference-close"]');
    await expect.poll(() => panel.count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid="lockedvm-graph"]').isVisible()).toBe(true);

    // the command opens the reference at its index
    await command(page, 'help.reference');
    await expect.poll(() => panel.count()).toBe(1);
    expect(await page.locator('[data-testid="reference-page"]').inputValue()).toBe('README');
    expect(await panel.locator('[data-testid="reference-body"]').innerText()).toContain('spapr-tce.md');
    expect(suite.errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('the reference tab has no serious or critical accessibility violation (axe-core)', async () => {
    // axe-core is injected as a script: only this page bypasses the CSP
    const page = await suite.page({ bypassCSP: true });
    await runFile(page, 'cite-memlock.ts', 'mainline');
    await page
      .locator('[data-testid="event-row"]', { hasText: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY' })
      .first()
      .click();
    await page.click('[data-testid="event-detail"] [data-testid="event-cite"]');
    await page.waitForSelector('[data-testid="reference-panel"] h2.target');
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  }, 180_000);
});
