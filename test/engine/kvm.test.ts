/**
 * The KVM side (kernel-model.md §13) beyond the worked cases: the event log folds into the same KVM
 * tables and hardware TCEs as the live state, snapshots carry them (version 2) and version-1 files still
 * import, the arithmetic of kvmppc_stt_pages, and bad input — a guest's bad arguments are H_* codes,
 * never exceptions; API misuse the kernel cannot see is a ScenarioError.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sttPages } from '../../engine/kvm/book3s-64-vio.ts';
import { jsonSafe, parseSnapshot, serializeSnapshot, snapshotOf } from '../../engine/snapshot.ts';
import { Session } from '../../engine/session.ts';
import { captureState } from '../../engine/state.ts';
import { Timeline } from '../../engine/timeline.ts';
import { runDirect } from '../support/direct.ts';

const meta = {
  appName: 'dmawb-test',
  appVersion: '0',
  kernel: 'mainline' as const,
  scenarioName: 'kvm',
  scenarioSha256: null,
};

const read = (f: string): string => readFileSync(new URL(`../conformance/${f}`, import.meta.url), 'utf8');

describe('KVM state: fold of the event log = live state', () => {
  it.each([
    'c104-mainline.ts',
    'c105-mainline.ts',
    'c106-mainline.ts',
    'c107-mainline.ts',
    'c111-mainline.ts',
  ])('%s: after every event', (f) => {
    const r = runDirect(read(f), 'mainline');
    const tl = new Timeline();
    for (const e of r.events) tl.push(e);
    const live = captureState(r.session.kernels, r.events.length);
    const folded = tl.stateAt(r.events.length);
    expect(jsonSafe(folded.kvmTables)).toEqual(jsonSafe(live.kvmTables));
    expect(jsonSafe(folded.windows)).toEqual(jsonSafe(live.windows));
    expect(jsonSafe(folded.regions)).toEqual(jsonSafe(live.regions));
    expect(jsonSafe(folded.processes)).toEqual(jsonSafe(live.processes));
  });

  it('every step of K11 folds to the state the run had then', () => {
    const src = read('c111-mainline.ts');
    const seen: { seq: number; state: unknown }[] = [];
    let session: Session | undefined;
    runDirect(
      src,
      'mainline',
      (s) => (session = s),
      (e) => {
        if (e.kind !== 'expect' && e.kind !== 'log')
          seen.push({ seq: e.seq, state: jsonSafe(captureState(session!.kernels, e.seq)) });
      },
    );
    const r = runDirect(src, 'mainline');
    const tl = new Timeline(7);
    for (const e of r.events) tl.push(e);
    expect(seen.length).toBeGreaterThan(20);
    for (const x of seen) expect(jsonSafe(tl.stateAt(x.seq)), `seq ${x.seq}`).toEqual(x.state);
  });
});

describe('KVM snapshots', () => {
  it('carry the KVM tables and their guest entries, and read back the same state', () => {
    const r = runDirect(read('c111-mainline.ts'), 'mainline');
    const snap = { meta, state: captureState(r.session.kernels, r.events.length) };
    expect(snap.state.kvmTables?.map((t) => t.liobn)).toEqual([0x80000000n]);
    expect(snap.state.kvmTables?.[0]?.runs).toEqual([{ start: 0, count: 1, value: 3n, ua: 0n, step: 4096 }]);
    expect(snap.state.kvmTables?.[0]?.links).toEqual([{ container: 1, slot: 0 }]);
    const text = serializeSnapshot(snap);
    expect(JSON.parse(text).version).toBe(2);
    const back = parseSnapshot(text);
    expect(jsonSafe(back.state)).toEqual(jsonSafe(snap.state));
  });

  it('a version 1 file (no KVM tables, no kvmTables/mlocked contributors) still imports', () => {
    const r = runDirect(read('c16-mainline.ts'), 'mainline');
    const doc = JSON.parse(JSON.stringify(snapshotOf(r.session, meta)));
    expect(doc.version).toBe(2);
    doc.version = 1;
    for (const p of doc.state.processes) {
      delete p.breakdown.kvmTables;
      delete p.breakdown.mlocked;
    }
    const back = parseSnapshot(JSON.stringify(doc));
    expect(back.state.processes[0]?.breakdown.kvmTables).toBe(0);
    expect(back.state.processes[0]?.breakdown.mlocked).toBe(0);
    expect(back.state.kvmTables).toBeUndefined();
  });

  it('refuses KVM runs that overlap', () => {
    const r = runDirect(read('c111-mainline.ts'), 'mainline');
    const doc = JSON.parse(JSON.stringify(snapshotOf(r.session, meta)));
    doc.state.kvmTables[0].runs.push({ start: 0, count: 1, value: '0x5', ua: '0x0', step: 4096 });
    expect(() => parseSnapshot(JSON.stringify(doc))).toThrow(/kvmTables\.0\.runs\.1/);
  });
});

describe('kvmppc_stt_pages (§13.4.3)', () => {
  it.each([
    [262144n, 12, 16, 33n],
    [524288n, 12, 16, 65n],
    [65536n, 16, 16, 9n],
    [16384n, 16, 16, 3n],
    [1n, 12, 16, 2n],
    [262144n, 12, 12, 514n],
    [524288n, 12, 12, 1027n],
    [65536n, 12, 12, 129n],
  ])('size %s (2^%i pages) on a 2^%i host: %s pages', (size, _shift, hostShift, pages) => {
    expect(sttPages(size, hostShift).sttPages).toBe(pages);
  });
});

describe('bad input', () => {
  const setup = `
    const host = createHost();
    const phb = host.addPhb();
    const G1 = phb.addGroup();
    const q = host.spawn({ name: 'qemu', memlock: 16n * GiB });
    const R = q.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
    const vm = q.openKvm();
    vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0n, memorySize: 1n * GiB, userspaceAddr: R });
    const t = vm.createSpaprTce64({ liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n }).out.table;
  `;
  const run = (body: string) => runDirect(setup + body, 'mainline');

  it('hypercall arguments a guest could pass are H_* codes, never exceptions', () => {
    const r = run(`
      expectHcall(vm.hcall.putTce(0x80000000, 0x1001n, 3n), H_PARAMETER, 'kernel', 'misaligned ioba');
      expectHcall(vm.hcall.putTce(0x80000000, 1n << 40n, 3n), H_PARAMETER, 'kernel', 'ioba outside');
      vm.enableHcall(H_PUT_TCE_INDIRECT);
      expectHcall(vm.hcall.putTceIndirect(0x80000000, 0n, [3n], { listGpa: 8n }), H_PARAMETER, 'kernel', 'list not 4K aligned');
      expectHcall(vm.hcall.putTceIndirect(0x80000000, 0n, [], { npages: 513 }), H_PARAMETER, 'kernel', 'list > 512');
      expectHcall(vm.hcall.putTceIndirect(0x80000000, 0x3fffe000n, [3n, 3n, 3n]), H_PARAMETER, 'kernel', 'range past the end (UNDEFINED: refused)');
      expectHcall(vm.hcall.getTce(0x99, 0n), H_TOO_HARD, 'qemu', 'unknown LIOBN exits');
      expectHcall(vm.qemu.handle(vm.hcall.getTce(0x99, 0n)), H_PARAMETER, 'qemu', 'QEMU does not know it either');
    `);
    expect(r.failures).toEqual([]);
    expect(r.session.expectations.passed).toBe(7);
  });

  it.each([
    ['an unsafe number', `vm.hcall.putTce(0x80000000, 2 ** 60, 3n);`, /safe integer/],
    ['a LIOBN that is not a u32', `vm.hcall.putTce(-1, 0n, 3n);`, /liobn/],
    ['a TCE beyond 64 bits', `vm.hcall.putTce(0x80000000, 0n, 1n << 64n);`, /outside 0/],
    [
      'a hypercall after vm.close()',
      `vm.close(); vm.hcall.getTce(0x80000000, 0n);`,
      /cannot issue hypercalls/,
    ],
    ['a window_size beyond 32 bits', `vm.createSpaprTce({ liobn: 1, windowSize: 1n << 32n });`, /32-bit/],
    ['a table index outside the table', `t.tce(262144);`, /outside/],
    ['a handle of another kind', `vm.attachVfioGroup(t, t);`, /not a group fd/],
    [
      'a QEMU table with a duplicate LIOBN',
      `vm.qemu.addTable({ kvm: t }); vm.qemu.addTable({ kvm: t });`,
      /already has/,
    ],
  ])('%s is a ScenarioError', (_what, body, msg) => {
    expect(() => run(body)).toThrow(msg);
  });

  it('a closed table passed to SET_SPAPR_TCE is EBADF, a closed group fd too', () => {
    const r = run(`
      const C = q.openContainer();
      const g = q.openGroup(G1);
      g.setContainer(C);
      C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
      const dev = vm.createVfioDevice().out.device;
      expectOk(dev.addGroup(g));
      t.close();
      expectErrno(dev.setSpaprTce(g, t), 'EBADF');
      g.close();
      expectErrno(dev.delGroup(g), 'EBADF');
    `);
    expect(r.failures).toEqual([]);
  });
});
