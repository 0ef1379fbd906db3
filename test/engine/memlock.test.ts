/**
 * Memlock sizing (scenario-api.md §4.1): libvirt's ppc64 formula against libvirt's own golden values
 * (tests/qemumemlocktest.c, research/memlock-sizing.md §3.1), the advice a refusal carries, the sizing
 * runs (check off, forced limits) through the QuickJS sandbox, and the `guest` option crossing the bridge.
 */
import { describe, expect, it } from 'vitest';
import { libvirtMemlockLimit, libvirtVerdict, type LibvirtInputs } from '../../engine/libvirt.ts';
import { refusalAdvice, memlockKnobs } from '../../engine/memlock.ts';
import { runScenario, sizeScenarioRun } from '../../runner/run.ts';

const GiB_KiB = 1n << 20n;
const base: LibvirtInputs = {
  memoryKiB: GiB_KiB,
  maxMemoryKiB: GiB_KiB,
  phbs: 1,
  passthrough: 0,
  nvlink2: false,
  hardLimitKiB: null,
  locked: false,
  accel: 'kvm',
};

describe("libvirt's ppc64 memlock limit (qemuDomainGetMemLockLimitBytes)", () => {
  it.each([
    // libvirt tests/qemumemlocktest.c: the pseries fixtures (1 GiB guests)
    ['pseries-kvm: 1 GiB, default PHB, no device', {}, 20971520n],
    ['pseries-hostdev: 1 GiB, one hostdev on a second PHB', { phbs: 2, passthrough: 1 }, 4320133120n],
    ['pseries-hardlimit: <hard_limit> 2 GiB', { hardLimitKiB: 2n * GiB_KiB }, 2147483648n],
    ['pseries-hardlimit+hostdev', { hardLimitKiB: 2n * GiB_KiB, phbs: 2, passthrough: 1 }, 2147483648n],
    ['pseries-hardlimit+locked', { hardLimitKiB: 2n * GiB_KiB, locked: true }, 2147483648n],
    [
      'pseries-hardlimit+locked+hostdev',
      { hardLimitKiB: 2n * GiB_KiB, locked: true, phbs: 2, passthrough: 1 },
      2147483648n,
    ],
    ['pseries-locked: unlimited', { locked: true }, null],
    ['pseries-locked+hostdev: unlimited', { locked: true, phbs: 2, passthrough: 1 }, null],
    ['pseries-tcg: libvirt sets nothing', { accel: 'tcg' as const }, 0n],
    // kubevirt#3066: "cannot limit locked memory to 14680064" for a 256 MiB guest
    ['kubevirt#3066: 256 MiB, no device', { memoryKiB: 262144n, maxMemoryKiB: 262144n }, 14680064n],
    // research §3.2: 4 GiB, one PHB, one VFIO device = 4255744 KiB
    [
      '4 GiB, one PHB, one device',
      { memoryKiB: 4n * GiB_KiB, maxMemoryKiB: 4n * GiB_KiB, passthrough: 1 },
      4357881856n,
    ],
  ])('%s', (_name, over, bytes) => {
    expect(libvirtMemlockLimit({ ...base, ...over }).limitBytes).toBe(bytes);
  });

  it('takes MAX((c), (d) + (e)) and says which side it used', () => {
    const small = libvirtMemlockLimit({ ...base, phbs: 2, passthrough: 1 });
    expect(small.branch).toBe('window-2GiB-per-PHB');
    expect(small.terms.find((t) => t.id === 'c')?.used).toBe(true);
    expect(small.terms.find((t) => t.id === 'd')?.used).toBe(false);
    const big = libvirtMemlockLimit({
      ...base,
      memoryKiB: 8n * GiB_KiB,
      maxMemoryKiB: 8n * GiB_KiB,
      passthrough: 1,
    });
    expect(big.branch).toBe('ram-and-ddw');
    expect(big.limitBytes).toBe((65536n + 12288n + 8388608n + 24576n) << 10n);
  });

  it('NVLink2: maxMemory plus a 128 TiB window of 4 KiB TCEs per PHB', () => {
    const l = libvirtMemlockLimit({ ...base, passthrough: 1, nvlink2: true });
    // 8192 + 4096 + 8192 + 1048576 + 268435456 + 8192
    expect(l.limitBytes).toBe((8192n + 12288n + GiB_KiB + 268435456n + 8192n) << 10n);
  });

  it('names the term that falls short: hot-plugged RAM beyond <memory> against (d)', () => {
    const limit = libvirtMemlockLimit({
      ...base,
      memoryKiB: 8n * GiB_KiB,
      maxMemoryKiB: 16n * GiB_KiB,
      passthrough: 1,
    });
    const v = libvirtVerdict(limit, 196736n * 65536n, { regions: 196608, tables: 128 }, 65536);
    expect(v.enough).toBe(false);
    expect(v.marginBytes).toBe(-4034560n * 1024n);
    expect(v.shortTerms).toEqual([{ group: 'ram', terms: ['(d)'], byBytes: 4n << 30n }]);
    expect(v.text).toContain('short by 4034560 KiB');
    expect(v.text).toContain("beyond the domain XML's <memory>");
  });

  it('a 4 KiB-page RAM-sized DDW on mainline exceeds (e), absorbed by (a)', () => {
    // 64 GiB guest, 1 PHB: DDW 64 GiB @ 4 KiB = 2^24 TCEs = 128 MiB table, doubled on mainline = 256 MiB
    const limit = libvirtMemlockLimit({
      ...base,
      memoryKiB: 64n * GiB_KiB,
      maxMemoryKiB: 64n * GiB_KiB,
      passthrough: 1,
    });
    const pages64k = (kib: bigint): number => Number(kib / 64n);
    const parts = { regions: pages64k(64n * GiB_KiB), tables: pages64k(262144n) + 64 };
    const need = BigInt(parts.regions + parts.tables) * 65536n;
    const v = libvirtVerdict(limit, need, parts, 65536);
    expect(v.enough).toBe(true);
    expect(v.shortTerms.map((s) => s.group)).toEqual(['tables']);
    expect(v.text).toContain('absorbed');
  });
});

describe('refusal advice', () => {
  const refusal = {
    pid: 100,
    contributor: 'regions',
    charge: 65536,
    lockedVm: 0,
    limitPages: 1,
    memlock: 65536n,
    pageSize: 65536,
  };

  it('gives the charge, locked_vm and the limit in pages and KiB, and the limit this call needs', () => {
    const [facts, need, knobs] = refusalAdvice(refusal);
    expect(facts).toContain('locked_vm 0 pages (0 KiB) + this charge 65536 pages (4194304 KiB)');
    expect(facts).toContain('> RLIMIT_MEMLOCK 1 page (64 KiB');
    expect(need).toBe('this call needs RLIMIT_MEMLOCK >= 4194304 KiB (65536 pages)');
    expect(knobs).toContain('ulimit -l 4194304');
  });

  it('adds the whole scenario’s need and sets the knobs to it', () => {
    const lines = refusalAdvice(refusal, {
      pid: 100,
      pageSize: 65536,
      peakPages: 65616,
      peakSeq: 11,
      peakLine: 64,
      peakOp: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
      minMemlockBytes: 65616n * 65536n,
    });
    expect(lines[1]).toContain('the whole scenario needs 4199424 KiB (65616 pages');
    expect(lines[2]).toContain('ulimit -l 4199424 (KiB');
    expect(lines[2]).toContain('LimitMEMLOCK=4300210176 (bytes');
    expect(lines[2]).toContain('"<user> - memlock 4199424" (KiB');
    expect(lines[2]).toContain("<memtune><hard_limit unit='KiB'>4199424</hard_limit></memtune>");
    expect(lines[2]).toContain('CAP_IPC_LOCK');
  });

  it('knobs: KiB for ulimit, limits.conf and libvirt, bytes for systemd', () => {
    expect(memlockKnobs(8192n)).toEqual([
      expect.stringMatching(/^ulimit -l 8 /),
      expect.stringMatching(/^systemd LimitMEMLOCK=8192 /),
      expect.stringContaining('memlock 8"'),
      expect.stringContaining('>8</hard_limit>'),
      expect.stringContaining('CAP_IPC_LOCK'),
    ]);
  });
});

const SCENARIO = `
const host = createHost({ guest: { ram: 1n * GiB } });
const G = host.addPhb().addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 64n * KiB, guest: { ram: 1n * GiB, passthrough: 1, phbs: 2 } });
const helper = host.spawn({ name: 'helper' });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const C = qemu.openContainer();
qemu.openGroup(G).setContainer(C);
C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
const r = C.registerMemory({ vaddr: R, size: 1n * GiB });
log('register', r.ret);
qemu.memlock = 1n * GiB; // ignored by sizing runs: the forced limit wins
C.removeWindow({ startAddr: 0n });
C.createWindow({ pageShift: 16, windowSize: 1n * GiB, levels: 1 });
`;

describe('sizing runs through the sandbox', () => {
  it('refusals carry their facts on the event', async () => {
    const r = await runScenario({ source: SCENARIO, kernel: 'mainline' });
    const e = r.events.find((x) => x.kind === 'ioctl' && x.errno === 'ENOMEM');
    expect(e && e.kind === 'ioctl' && e.memlock).toEqual({
      pid: 100,
      contributor: 'regions',
      charge: 16384,
      lockedVm: 0,
      limitPages: 1,
      memlock: 65536n,
      pageSize: 65536,
    });
  });

  it('size: the peak, its event and parts, verified at the limit and one page below', async () => {
    const rep = await sizeScenarioRun({ source: SCENARIO, kernel: 'mainline' });
    expect(rep.error).toBeNull();
    const [q, h] = rep.processes;
    expect(q).toMatchObject({
      pid: 100,
      name: 'qemu',
      peakPages: 16384 + 4,
      peakOp: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
    });
    expect(q!.parts).toMatchObject({ regions: 16384, tables: 4 });
    expect(q!.minMemlockBytes).toBe(16388n * 65536n);
    expect(q!.atLimit?.refusal).toBeNull();
    expect(q!.onePageBelow?.refusal).toMatchObject({
      op: 'VFIO_IOMMU_SPAPR_TCE_CREATE',
      facts: { limitPages: 16387 },
    });
    expect(q!.verified).toBe(true);
    // the guest crossed the sandbox bridge: spawn's own, not the host's
    expect(q!.guest).toMatchObject({ ram: 1n << 30n, passthrough: 1, phbs: 2 });
    expect(q!.libvirt?.limit.limitBytes).toBe(4320133120n);
    expect(q!.libvirt?.enough).toBe(true);
    // the helper inherits the host's guest, and never charged anything
    expect(h).toMatchObject({
      name: 'helper',
      peakPages: 0,
      peakSeq: 0,
      minMemlockBytes: 0n,
      verified: true,
    });
    expect(h!.guest).toMatchObject({ ram: 1n << 30n, passthrough: 0, phbs: 1 });
    expect(h!.onePageBelow).toBeNull();
  });

  it('a bad guest option is the author’s error, with a clear message', async () => {
    for (const [guest, msg] of [
      ['{ }', 'ram (the guest'],
      ['{ ram: 1n * GiB, phbs: 0 }', 'phbs must be an integer from 1'],
      ['{ ram: 1n * GiB, maxRam: 1n }', 'maxRam must be a multiple of 1 KiB and at least ram'],
      ['{ ram: 1n * GiB, nvlink2: true }', 'nvlink2 needs a passed-through device'],
      ['{ ram: 1n * GiB, memory: 1 }', "unknown field 'memory'"],
    ] as const) {
      const r = await runScenario({ source: `createHost().spawn({ guest: ${guest} });` });
      expect(r.error?.message, guest).toContain(msg);
    }
  });

  it('KVM TCE tables and mlock are checked, sized and refused like every other charge', async () => {
    const source = `
const host = createHost();
const qemu = host.spawn({ name: 'qemu', memlock: 64n * KiB });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });
const vm = qemu.openKvm();
const t = vm.createSpaprTce64({ liobn: 0x80000000, pageShift: 12, offset: 0n, size: 262144n });
log('kvm', t.ret);
const m = qemu.mlock({ addr: R, size: 64n * MiB });
log('mlock', m.ret);
`;
    const plain = await runScenario({ source, kernel: 'mainline' });
    const refused = plain.events.filter((e) => (e.kind === 'ioctl' || e.kind === 'syscall') && e.memlock);
    expect(
      refused.map((e) => (e.kind === 'ioctl' || e.kind === 'syscall') && e.memlock?.contributor),
    ).toEqual(['kvmTables', 'mlocked']);
    const rep = await sizeScenarioRun({ source, kernel: 'mainline' });
    const q = rep.processes[0]!;
    expect(q.parts.kvmTables).toBeGreaterThan(0);
    expect(q.parts.mlocked).toBe(1024);
    expect(q.peakPages).toBe(q.parts.kvmTables! + 1024);
    expect(q.verified).toBe(true);
    expect(q.onePageBelow?.refusal?.facts.contributor).toBe('mlocked');
  });
});
