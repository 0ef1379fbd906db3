/**
 * memlock.size (the workbench's `dmawb size`, scenario-api.md §4.1) in the engine: the same figures as
 * the command line, the reruns with the refused call's why, libvirt side by side; queued like a run,
 * stopped through its cancel flag, and — in a real worker — ended at the run's time budget by the host's
 * watchdog without anyone pressing Stop.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Events, EventChannel } from '../../common/contract.ts';
import { EngineHost } from '../../host/engine-host.ts';
import { EngineService } from '../../host/engine-service.ts';
import { cancelSlotOf, CANCEL_SLOTS } from '../../host/engine-channels.ts';
import { sourceWorker } from '../../host/worker-source.ts';
import { main } from '../../cli/main.ts';

const example = (f: string): string => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
type Done = Events['memlock.done'];

function service(opts: { timeoutMs?: number } = {}) {
  const events: { event: EventChannel; payload: unknown }[] = [];
  const begun: string[] = [];
  const svc = new EngineService({
    emit: (event, payload) => events.push({ event, payload }),
    onRunBegin: (s) => begun.push(s),
    ...opts,
  });
  const doneOf = (id: string): Done | undefined =>
    events.find((e) => e.event === 'memlock.done' && (e.payload as Done).source === id)?.payload as
      Done | undefined;
  return { svc, events, begun, doneOf };
}

async function cliSize(file: string, kernel: string): Promise<Record<string, unknown>> {
  let out = '';
  const code = await main(['size', `examples/${file}`, '--kernel', kernel, '--json'], {
    stdout: (s) => void (out += s),
    stderr: () => {},
  });
  expect(code).toBe(0);
  return JSON.parse(out) as Record<string, unknown>;
}

describe('memlock.size in the engine service', () => {
  it('sizes memlock-default-64k as dmawb size does: peak, its event, parts, both reruns, libvirt', async () => {
    const { svc, doneOf, begun } = service();
    const { source: id } = await svc.handle('memlock.size', {
      source: example('memlock-default-64k.ts'),
      filename: 'memlock-default-64k.ts',
      kernel: 'mainline',
    });
    expect(id).toBe('size-1');
    await svc.idle();
    const done = doneOf(id)!;
    expect(done.error).toBeNull();
    const s = done.sizing!;
    expect(s).toMatchObject({ scenario: 'memlock-default-64k.ts', kernel: 'mainline' });
    expect(Date.parse(s.at)).not.toBeNaN();
    const [p] = s.processes;
    expect(p).toMatchObject({
      pid: 100,
      name: 'qemu-system-ppc64',
      pageSize: 65536,
      peakPages: 65616,
      peakOp: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
      minMemlockBytes: '4300210176',
      verified: true,
      parts: [
        { key: 'regions', pages: 65536 },
        { key: 'tables', pages: 80 },
      ],
    });
    expect(p!.atLimit).toMatchObject({ memlockBytes: '4300210176', refusal: null, error: null });
    expect(p!.onePageBelow).toMatchObject({
      memlockBytes: String(4300210176 - 65536),
      refusal: {
        op: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
        chargePages: 16,
        lockedVmPages: 65600,
        limitPages: 65615,
      },
    });
    expect(p!.onePageBelow!.refusal!.explain).toMatch(/RLIMIT_MEMLOCK/);
    expect(p!.libvirt).toMatchObject({ source: 'formula', limitBytes: String(4255744 * 1024), enough: true });
    expect(p!.libvirt!.terms.map((t) => t.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // each of the three runs announced itself (the host's deadline watchdog restarts per run)
    expect(begun).toEqual(['size-1', 'size-1', 'size-1']);

    // the same figures as the command line's document
    const doc = (await cliSize('memlock-default-64k.ts', 'mainline')) as {
      processes: {
        peakPages: number;
        peakSeq: number;
        minMemlockBytes: string;
        libvirt: { limitBytes: string };
      }[];
    };
    expect(p!.peakPages).toBe(doc.processes[0]!.peakPages);
    expect(p!.peakSeq).toBe(doc.processes[0]!.peakSeq);
    expect(p!.minMemlockBytes).toBe(doc.processes[0]!.minMemlockBytes);
    expect(p!.libvirt!.limitBytes).toBe(doc.processes[0]!.libvirt.limitBytes);
    expect(s.text.join('\n')).toContain('minimal RLIMIT_MEMLOCK: 4300210176 bytes = 4199424 KiB');
  });

  it('names the term that falls short for the hot-plug example, and the profile a scenario pins', async () => {
    const { svc, doneOf } = service();
    const { source: id } = await svc.handle('memlock.size', {
      source: example('libvirt-hotplug.ts'),
      filename: 'libvirt-hotplug.ts',
      kernel: '4.2',
    });
    await svc.idle();
    const lv = doneOf(id)!.sizing!.processes[0]!.libvirt!;
    expect(lv.enough).toBe(false);
    expect(BigInt(lv.marginBytes!)).toBeLessThan(0n);
    expect(lv.shortTerms[0]).toMatchObject({ group: 'ram', terms: ['(d)'] });

    const pin = await svc.handle('memlock.size', {
      source: "const host = createHost({ kernel: '4.2' });\nhost.spawn({ name: 'p' });\n",
      filename: 'pin.ts',
      kernel: 'mainline',
    });
    await svc.idle();
    expect(doneOf(pin.source)!.sizing).toMatchObject({
      kernel: 'mainline',
      pinned: { kernel: '4.2', line: 1 },
    });
  });

  it('a scenario that cannot complete ends with its error and line, no sizing', async () => {
    const { svc, doneOf } = service();
    const { source: id } = await svc.handle('memlock.size', {
      source: 'const host = createHost();\nthrow new Error("nope");\n',
      filename: 'bad.ts',
      kernel: 'mainline',
    });
    await svc.idle();
    expect(doneOf(id)).toMatchObject({
      sizing: null,
      error: { kind: 'runtime', line: 2, message: expect.stringMatching(/could not complete: .*nope/) },
    });
  });

  it('stops a queued sizing through its cancel flag, apart from the runs', async () => {
    const cancel = new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * 4));
    const events: { event: EventChannel; payload: unknown }[] = [];
    const svc = new EngineService({ emit: (event, payload) => events.push({ event, payload }), cancel });
    const { source: id } = await svc.handle('memlock.size', {
      source: example('memlock-default-64k.ts'),
      filename: 'm.ts',
      kernel: 'mainline',
    });
    expect(cancelSlotOf(id)).toBeGreaterThanOrEqual(64);
    expect(cancelSlotOf(id)).not.toBe(cancelSlotOf('run-1'));
    Atomics.store(cancel, cancelSlotOf(id), 1);
    await svc.idle();
    expect(events.find((e) => e.event === 'memlock.done')!.payload).toEqual({
      source: id,
      sizing: null,
      error: { message: 'the sizing was stopped', kind: 'cancelled' },
    });
  });
});

describe('inspect.lockedVm carries the refused charges (the graph draws them across the limit)', () => {
  it('memlock-default-64k at 64 KiB: REGISTER of 4 GiB refused from 0 to 65536 pages against a 1-page limit', async () => {
    const { svc, events } = service();
    const { source: id } = await svc.handle('run.start', {
      source: example('memlock-default-64k.ts'),
      filename: 'memlock-default-64k.ts',
      kernel: 'mainline',
    });
    await svc.idle();
    expect(events.some((e) => e.event === 'run.done')).toBe(true);
    const s = await svc.handle('inspect.lockedVm', { source: id, pid: 100 });
    expect(s.refusals![0]).toMatchObject({ lockedVm: 0, charge: 65536, limit: 1 });
    // every refusal is a failed call of the process, and each crosses its limit
    for (const r of s.refusals!) {
      expect(s.failed).toContain(r.seq);
      expect(r.lockedVm + r.charge).toBeGreaterThan(r.limit);
    }
    // the one-page-short round: the guest DDW refused at 65,600 + 16 > 65,615
    expect(s.refusals).toContainEqual(expect.objectContaining({ lockedVm: 65600, charge: 16, limit: 65615 }));
    const row = (await svc.handle('inspect.rows', { source: id, from: s.refusals![0]!.seq - 1, count: 1 }))
      .rows[0]!;
    expect(row).toMatchObject({ op: 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', errno: 'ENOMEM' });
  });
});

const hosts: EngineHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.dispose()));
});

describe('memlock.size through the engine host (real worker)', () => {
  function host(opts: { runTimeoutMs?: number; runGraceMs?: number } = {}) {
    const h = new EngineHost({ factory: sourceWorker(), appVersion: '1.2.3', ...opts });
    hosts.push(h);
    const done = new Map<string, Done>();
    h.on((event, payload) => {
      if (event === 'memlock.done') done.set((payload as Done).source, payload as Done);
    });
    const doneOf = async (id: string): Promise<Done> => {
      const end = Date.now() + 60_000;
      while (!done.has(id)) {
        if (Date.now() > end) throw new Error(`no memlock.done for ${id}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return done.get(id)!;
    };
    return { h, doneOf };
  }

  it('a sizing stuck inside slow built-ins ends at the time budget plus the grace, without Stop', async () => {
    const { h, doneOf } = host({ runTimeoutMs: 500, runGraceMs: 500 });
    const r = await h.request('memlock.size', {
      source: 'for (;;) String((1n << 60000n) - 1n);\n',
      filename: 'slow.ts',
      kernel: 'mainline',
    });
    expect(r).toEqual({ ok: true, value: { source: 'size-1' } });
    expect(await doneOf('size-1')).toMatchObject({
      sizing: null,
      error: { kind: 'timeout', message: expect.stringMatching(/time budget exceeded/) },
    });
  });

  it('Stop (run.stop with the sizing id) ends a running sizing as cancelled', async () => {
    const { h, doneOf } = host();
    const r = await h.request('memlock.size', {
      source: 'for (;;) {}\n',
      filename: 'loop.ts',
      kernel: 'mainline',
    });
    const id = (r as { value: { source: string } }).value.source;
    // wait until it runs, then stop it
    while (h.running !== id) await new Promise((res) => setTimeout(res, 10));
    expect(await h.request('run.stop', { source: id })).toEqual({ ok: true, value: { stopped: true } });
    expect((await doneOf(id)).error).toMatchObject({ kind: 'cancelled' });
  });
});
