/**
 * The KVM side in the workbench, in real Chromium against browser mode (issue 9 item 4): after running
 * QEMU's v2 + DDW start-up on KVM, selecting a guest H_PUT_TCE shows the KVM table (the guest's view, by
 * LIOBN) under the hardware window it feeds with the entry the hypercall changed highlighted, the event
 * log names the hypercall, its LIOBN and who answered, and the locked_vm graph has the KVM-table
 * contributor. Screenshot in test-results/screenshots/. Skips where /usr/bin/chromium is missing.
 */
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeInBrowser, runFile, screenshot, uiState } from './harness';

describeInBrowser('KVM tables in Chromium (browser mode)', (suite) => {
  let page: Page;

  beforeAll(async () => {
    page = await suite.page();
  });

  it('shows the KVM table beside the window it feeds, the hypercall and the contributor', async () => {
    const s = await runFile(page, 'qemu-v2-ddw.ts');
    expect(s.status).toBe('done');
    expect(s.problems).toMatchObject({ failedCalls: 0, failedExpectations: 0, error: null });
    // the first guest H_PUT_TCE: KVM answers it
    await page.selectOption('[data-testid="event-log"] >> xpath=../.. >> select >> nth=0', 'H_PUT_TCE');
    await page.locator('[data-testid="event-row"]').first().click();
    await page.evaluate(() => window.dmawbUi!.settled());
    const seq = (await uiState(page)).seq;
    const row = page.locator(`[data-testid="event-row"][data-seq="${seq}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toMatch(/H_PUT_TCE/);
    expect(await row.innerText()).toMatch(/liobn=0x80000000/);
    expect(await row.innerText()).toMatch(/KVM virtual mode/);
    const kvm = page.locator('[data-testid="kvm-table"][data-liobn="0x80000000"]');
    await expect.poll(() => kvm.count()).toBe(1);
    expect(await kvm.innerText()).toContain('feeds the window above');
    expect(await kvm.locator('[data-testid="kvm-row"].changed').count()).toBe(1);
    expect(await kvm.locator('[data-testid="kvm-row"].changed').innerText()).toContain('0x3f23003');
    // the hardware TCE the same hypercall wrote is highlighted in the window's table
    await expect.poll(() => page.locator('[data-testid="tce-row"].changed').count()).toBeGreaterThan(0);
    // the graph's legend has the KVM-table contributor
    expect(await page.locator('[data-testid="lockedvm-graph"]').innerText()).toContain('KVM TCE tables');
    await screenshot(page, '11-kvm-table');
    expect(suite.errors).toEqual([]);
  }, 120_000);
});
