/**
 * A run of about 200,000 calls in the workbench: the renderer keeps what the event log filters by in
 * columns and fetches full rows by page (inspect.rows), so the log scrolls to the end, a late step is
 * selected with its row and the inspector's state, and an early row is fetched when scrolled to.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { command, describeInBrowser, openApp, openFile, screenshot, uiState, waitRunEnd } from './harness';

/** 100,000 MAP/UNMAP pairs through a 4,096-entry ring of 64 KiB pages: 200,000 calls, 200,008 events */
const RING = `// e2e: a large run
const host = createHost();
const G = host.addPhb().addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 4n * GiB });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const C = qemu.openContainer();
expectOk(qemu.openGroup(G).setContainer(C));
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));
expectOk(C.registerMemory({ vaddr: R, size: 1n * GiB }));
C.removeWindow({ startAddr: 0n });
C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 });
for (let i = 0; i < 100_000; i++) {
  const s = i % 4096;
  C.mapDma({ vaddr: R + BigInt(s) * 0x10000n, iova: BigInt(s) * 0x10000n, size: 0x10000n });
  C.unmapDma({ iova: BigInt((i + 2048) % 4096) * 0x10000n, size: 0x10000n });
}
`;

// on a loaded machine 200,000 calls can take longer than a run's default 30 s budget: the server this
// suite starts (set just before it is spawned) gives them 5 minutes
describeInBrowser(
  'a 200,000-call run in the event log',
  (suite) => {
    it('scrolls to the end, selects a late step with its row and state, and fetches an early row', async () => {
      writeFileSync(join(suite.served.workspace, 'ring-200k.ts'), RING);
      const page = await suite.page({ open: false });
      await openApp(page, suite.served.url);
      await openFile(page, 'ring-200k.ts');
      await page.click('[data-testid="run"]');
      await page.waitForFunction(() => window.dmawbUi!.state().status !== 'idle');
      const end = await waitRunEnd(page, 120_000);
      expect(end.status).toBe('done');
      const total = end.rows as number;
      expect(total).toBe(200_012);

      // the end of the log: the last row is rendered (streamed tail) after End
      await page.focus('[data-testid="event-log"]');
      await page.keyboard.press('End');
      await page
        .waitForSelector(`[data-testid="event-row"][data-seq="${total}"]`, { timeout: 20_000 })
        .catch(async (e: unknown) => {
          await screenshot(page, 'large-log-end-failed');
          const seqs = await page.$$eval('[data-testid="event-row"]', (els) =>
            els.map((el) => el.getAttribute('data-seq')),
          );
          throw new Error(
            `${String(e)}; rows on screen: ${seqs.join(',')}; state ${JSON.stringify(await uiState(page))}`,
          );
        });

      // a late step, not in the last two streamed pages: its row is fetched, the inspector shows its state
      const late = total - 5_000;
      await command(page, 'events.select', late);
      await page.evaluate(() => window.dmawbUi!.settled());
      const row = page.locator(`[data-testid="event-row"][data-seq="${late}"]`);
      await row.waitFor();
      await page.waitForFunction(
        (s) =>
          !!document
            .querySelector(`[data-testid="event-row"][data-seq="${s}"] .c-args`)
            ?.textContent?.includes('iova='),
        late,
      );
      expect(await row.getAttribute('aria-selected')).toBe('true');
      const detail = await page.locator('[data-testid="event-detail"]').textContent();
      expect(detail).toContain(`#${late}`);
      const st = await page.evaluate(() => window.dmawbUi!.state());
      expect(st.seq).toBe(late);
      // the ring keeps 2,048 of its 4,096 pages mapped once it is full: the selected step's window says so
      expect(st.total).toBeGreaterThan(0);
      expect(await page.locator('[data-testid="tce-row"]').count()).toBeGreaterThan(0);
      const path = await screenshot(page, 'large-log-late-step');
      expect(path).toMatch(/large-log-late-step\.png$/);

      // an early row: scrolled to, fetched by page, shown with its arguments
      await command(page, 'events.select', 30);
      await page.waitForFunction(
        () =>
          !!document
            .querySelector('[data-testid="event-row"][data-seq="30"] .c-args')
            ?.textContent?.includes('iova='),
      );
      expect(suite.errors).toEqual([]);
    }, 180_000);
  },
  { serve: () => ((process.env['DMAWB_RUN_TIMEOUT_MS'] = '300000'), {}) },
);
