/**
 * Comparisons in real Chromium against browser mode: "Compare…" on a run's selected event (what it
 * changed), and "4.2 ⇄ mainline" on the memlock example (where the profiles diverge). Screenshots in
 * test-results/screenshots/. Skips with a message where /usr/bin/chromium is missing.
 */
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { describeInBrowser, command, screenshot, uiState, waitRunEnd } from './harness';

describeInBrowser('comparisons in Chromium (browser mode)', (suite) => {
  let page: Page;

  beforeAll(async () => {
    page = await suite.page();
  });

  it('Compare… shows what the selected event changed against the previous event', async () => {
    await page.click('[data-testid="scenario-list"] >> text=qemu-v2-ddw');
    await page.waitForFunction(() => window.dmawbUi!.state().openFile === 'qemu-v2-ddw.ts');
    await page.selectOption('[data-testid="kernel-select"]', 'mainline');
    expect(await page.locator('[data-testid="compare"]').isDisabled()).toBe(true);
    await page.click('[data-testid="run"]');
    expect((await waitRunEnd(page)).status).toBe('done');
    // the guest's first H_PUT_TCE: KVM writes one 4 KiB TCE in the 32-bit window
    await page.selectOption('[data-testid="event-log"] >> xpath=../.. >> select >> nth=0', 'H_PUT_TCE');
    await page.locator('[data-testid="event-row"]').first().click();
    await page.evaluate(() => window.dmawbUi!.settled());
    const seq = (await uiState(page)).seq as number;
    await command(page, 'eventLog.clearFilters');

    await page.click('[data-testid="compare"]');
    const view = page.locator('[data-testid="compare-view"]');
    await view.waitFor();
    await expect.poll(() => page.locator('[data-testid="compare-line"]').count()).toBeGreaterThan(0);
    const lines = await page.locator('[data-testid="compare-line"]').allInnerTexts();
    expect(lines.some((l) => l.startsWith('~ window') && l.includes('valid TCEs'))).toBe(true);
    expect(lines.some((l) => /^\s*TCE 1 \(iova 0x1000\.\.0x1fff, 1 entry\): mapped$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('~ region'))).toBe(true);
    expect(await view.innerText()).toContain(`after seq ${seq - 1}`);
    expect(await view.innerText()).toContain(`after seq ${seq}`);
    expect(await page.locator('[data-testid="compare-summary"]').innerText()).toMatch(
      /\d+ changed · \d+ added · \d+ removed/,
    );
    expect(await page.locator('[data-testid="compare-a-seq"]').inputValue()).toBe(String(seq - 1));
    await screenshot(page, '08-compare-previous-event');

    // another pair from the form: the start of the run against the selected step
    await page.fill('[data-testid="compare-a-seq"]', '0');
    await page.click('[data-testid="compare-go"]');
    await expect
      .poll(() => page.locator('[data-testid="compare-line"]').first().innerText())
      .toMatch(/^\+ process/);
    await page.keyboard.press('Escape');
    await command(page, 'compare.close');
    expect(await view.count()).toBe(0);
  });

  it('4.2 ⇄ mainline on memlock-default-64k shows the divergence at SET_IOMMU(7) / REGISTER_MEMORY', async () => {
    await page.click('[data-testid="scenario-list"] >> text=memlock-default-64k');
    await page.waitForFunction(() => window.dmawbUi!.state().openFile === 'memlock-default-64k.ts');
    await page.click('[data-testid="compare-profiles"]');
    const view = page.locator('[data-testid="profile-compare"]');
    await view.waitFor();
    await expect
      .poll(() => page.locator('[data-testid="profile-row"]').count(), { timeout: 60_000 })
      .toBeGreaterThan(5);
    expect((await uiState(page)).compare).toMatchObject({ view: 'profiles', firstDivergence: 1 });
    expect(await page.locator('[data-testid="profile-verdict"]').innerText()).toMatch(
      /^\d+ of \d+ aligned rows differ; first divergence at row #2\./,
    );
    expect(await page.locator('[data-testid="profile-alignment"]').innerText()).toBe(
      '12 paired · 1 only in 4.2 · 5 only in mainline',
    );
    // row #1 (GROUP_SET_CONTAINER) agrees; #2 is SET_IOMMU(7): ENOMEM on 4.2, 0 on mainline
    expect(
      await page.locator('[data-testid="profile-row"][data-index="0"]').getAttribute('class'),
    ).not.toContain('differs');
    const first = page.locator('[data-testid="profile-row"][data-index="1"]');
    expect(await first.getAttribute('class')).toMatch(/differs.*first|first.*differs/);
    const cells = await first.locator('td').allInnerTexts();
    expect(cells[1]).toContain('SET_IOMMU(type=7)');
    expect(cells[2]).toBe('-12 ENOMEM');
    expect(cells[4]).toContain('SET_IOMMU(type=7)');
    expect(cells[5]).toBe('0');
    // then 4.2 falls back to SET_IOMMU(2) while mainline fails at REGISTER_MEMORY: one-sided rows
    const only42 = await page.locator('[data-testid="profile-row"][data-index="2"] td').allInnerTexts();
    expect(only42[1]).toContain('SET_IOMMU(type=2)');
    expect(only42[4]).toBe('—');
    const onlyMainline = await page.locator('[data-testid="profile-row"][data-index="3"] td').allInnerTexts();
    expect(onlyMainline[1]).toBe('—');
    expect(onlyMainline[2]).toContain('SPAPR_REGISTER_MEMORY(');
    expect(onlyMainline[3]).toBe('-12 ENOMEM');
    // and the calls both profiles make pair up again: the retry's GROUP_SET_CONTAINER agrees
    const again = await page.locator('[data-testid="profile-row"][data-index="4"] td').allInnerTexts();
    expect(again[1]).toContain('GROUP_SET_CONTAINER');
    expect(again[4]).toContain('GROUP_SET_CONTAINER');
    await screenshot(page, '09-profile-compare');
    await page.check('[data-testid="profile-only-differing"]');
    expect(await page.locator('[data-testid="profile-row"]:not(.differs)').count()).toBe(0);
    await command(page, 'compare.close');
    expect(await view.count()).toBe(0);
  });

  it('logged no page errors', () => {
    expect(suite.errors).toEqual([]);
  });
});
