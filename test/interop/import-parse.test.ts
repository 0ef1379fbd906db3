/**
 * The capture parser (interop/import/parse.ts), one test per line form of research/capture-formats.md, and
 * the bad-input cases: truncated, several runs or pids, interleaved threads, unknown format.
 */
import { describe, expect, it } from 'vitest';
import { parseCapture, type Rec } from '../../interop/import/index.ts';

const one = (line: string): Rec => {
  const c = parseCapture('c.log', line + '\n');
  expect(c.problems).toEqual([]);
  expect(c.records).toHaveLength(1);
  return c.records[0]!;
};

describe('QEMU trace line forms', () => {
  it('log backend TID@SEC.USEC:event (QEMU ≤ 10.0) carries the thread id and the time', () => {
    const r = one('4711@1733400000.231000:vfio_prereg_register va=0x7ffd40000000 size=0x100000000 ret=-12');
    expect(r).toMatchObject({
      kind: 'prereg',
      op: 'register',
      va: 0x7ffd40000000n,
      size: 0x100000000n,
      ret: -12,
    });
    expect(r.tid).toBe(4711);
    expect(r.time).toBe(1733400000231000);
    expect(r.at).toEqual({ file: 'c.log', line: 1 });
  });

  it('bare event args (QEMU 6.0+ without -msg timestamp=on)', () => {
    expect(one('vfio_prereg_unregister va=0x7ffcc0000000 size=0x40000000 ret=-16')).toMatchObject({
      kind: 'prereg',
      op: 'unregister',
      ret: -16,
    });
  });

  it('ISO-8601 …Z event args (QEMU ≥ 10.1), with and without the short-lived (TID)', () => {
    const r = one('2025-07-21T18:43:28.089797Z vfio_spapr_remove_window offset=0x800000000000000');
    expect(r).toMatchObject({ kind: 'removeWindow', offset: 1n << 59n });
    expect(r.time).toBe(Date.parse('2025-07-21T18:43:28.089Z') * 1000 + 797);
    expect(one('2025-07-21T18:43:28.089797Z (4711) vfio_spapr_remove_window offset=0x0').tid).toBe(4711);
  });

  it('SystemTap PID@NS event args and the ftrace backend through trace_marker', () => {
    expect(one('4711@1733400000231000123 vfio_spapr_remove_window offset=0x0')).toMatchObject({
      kind: 'removeWindow',
      tid: 4711,
    });
    expect(
      one(
        'qemu-system-ppc-4711 [003] .... 8123.401: tracing_mark_write: vfio_spapr_remove_window offset=0x0',
      ),
    ).toMatchObject({ kind: 'removeWindow', tid: 4711 });
  });

  it('simpletrace.py text: named hex arguments, negative ints sign-extended to 64 bits', () => {
    const r = one(
      'vfio_prereg_register 12.345 pid=4711 va=0x7ffd40000000 size=0x100000000 ret=0xfffffffffffffff4',
    );
    expect(r).toMatchObject({ kind: 'prereg', va: 0x7ffd40000000n, size: 0x100000000n, ret: -12, tid: 4711 });
    expect(
      one('vfio_spapr_create_window 1.000 pid=4711 ps=0x10 levels=0x1 ws=0x100000000 off=0x800000000000000'),
    ).toMatchObject({ kind: 'createWindow', pageShift: 16, levels: 1, offset: 1n << 59n });
    expect(
      one('vfio_iommu_map_notify 0.004 pid=4711 op=MAP iova_start=0x1000 iova_end=0x1fff'),
    ).toMatchObject({ kind: 'notify', op: 'MAP', start: 0x1000n, end: 0x1fffn });
  });

  it('hex with and without 0x (older hw/ppc events print liobn without it)', () => {
    const old = one('4711@1.000001:spapr_iommu_pci_put liobn=80000000 ioba=0x3000 tce=0x100020003 ret=0');
    const now = one('4711@1.000001:spapr_iommu_pci_put liobn=0x80000000 ioba=0x3000 tce=0x100020003 ret=0');
    expect(old).toMatchObject({ kind: 'put', liobn: 0x80000000, ioba: 0x3000n, tce: 0x100020003n, ret: 0 });
    expect(now).toMatchObject({ kind: 'put', liobn: 0x80000000 });
  });

  it('every event the replay reads', () => {
    expect(
      one(
        'kvm_set_user_memory AddrSpace#0 Slot#1 flags=0x0 gpa=0x100000000 size=0x40000000 ua=0x7ffcc0000000 ret=0',
      ),
    ).toMatchObject({ kind: 'memslot', slot: 1, gpa: 0x100000000n, ua: 0x7ffcc0000000n });
    expect(
      one(
        'kvm_set_user_memory Slot#0 flags=0x0 gpa=0x0 size=0x1000 ua=0x10000 guest_memfd=-1 guest_memfd_offset=0x0 ret=0',
      ),
    ).toMatchObject({ kind: 'memslot', slot: 0 });
    expect(
      one('vfio_spapr_create_window pageshift=0xc levels=2 winsize=0x40000000 offset=0x0'),
    ).toMatchObject({
      kind: 'createWindow',
      pageShift: 12,
      levels: 2,
      windowSize: 0x40000000n,
    });
    expect(one('vfio_iommu_map_notify iommu UNMAP @ 0x1000 - 0x1fff')).toMatchObject({
      kind: 'notify',
      op: 'UNMAP',
      start: 0x1000n,
      end: 0x1fffn,
    });
    expect(one('spapr_iommu_new_table liobn=0x80000001 table=0x7ffd3c000000 fd=31')).toMatchObject({
      kind: 'newTable',
      fd: 31,
    });
    expect(one('vfio_attach_device  (0001:01:00.0) group 3')).toMatchObject({ kind: 'device', group: 3 });
  });

  it('counts trace events it does not use by name, other lines as unrecognised', () => {
    const c = parseCapture(
      'c.log',
      '4711@1.1:spapr_iommu_xlate liobn=0x1 0x2 -> 0x3 perm=3 mask=0xfff\nhello world\nvfio_prereg_register va=0x0 size=0x10000 ret=0\n',
    );
    expect(c.skipped.get('trace event spapr_iommu_xlate (not used)')).toBe(1);
    expect(c.skipped.get('unrecognised')).toBe(1);
    expect(c.records).toHaveLength(1);
  });
});

describe('QEMU and libvirt error lines', () => {
  it('vfio_container_dma_map / _unmap failures carry iova, size, vaddr and ret', () => {
    expect(
      one(
        '2024-12-05T12:00:13.000203Z qemu-system-ppc64: vfio_container_dma_map(0x1001e2f0, 0x80000, 0x1000, 0x7ffc00000000) = -22 (Invalid argument)',
      ),
    ).toMatchObject({
      kind: 'dmaError',
      op: 'map',
      iova: 0x80000n,
      size: 0x1000n,
      vaddr: 0x7ffc00000000n,
      ret: -22,
    });
    expect(
      one(
        'qemu-system-ppc64: vfio_container_dma_unmap(0x1001e2f0, 0x80000, 0x1000) = -2 (No such file or directory)',
      ),
    ).toMatchObject({
      kind: 'dmaError',
      op: 'unmap',
      ret: -2,
    });
  });

  it('registering, window and KVM failures; libvirt limit and -m', () => {
    expect(one('qemu-system-ppc64: vfio: Memory registering failed, unable to continue')).toMatchObject({
      kind: 'regFailed',
      fatal: true,
    });
    expect(
      one('qemu-system-ppc64: Failed to create a window, ret = -12 (Cannot allocate memory)'),
    ).toMatchObject({
      kind: 'createFailed',
      ret: -12,
    });
    expect(one('qemu-system-ppc64: Failed to remove window at 800000000000000')).toMatchObject({
      kind: 'removeFailed',
      offset: 1n << 59n,
    });
    expect(one('KVM: Failed to create TCE64 table for liobn 0x80000001')).toMatchObject({
      kind: 'kvmTableFailed',
    });
    expect(
      one(
        '2024-12-05 10:00:00.100+0000: 4712: debug : qemuDomainSetMaxMemLock:9000 : Requested memory lock limit: 4357881856',
      ),
    ).toMatchObject({ kind: 'memlockLimit', bytes: 4357881856n });
    expect(one('/usr/bin/qemu-system-ppc64 -name guest=g -m 4096 -smp 4')).toMatchObject({
      kind: 'guestRam',
      bytes: 4n << 30n,
    });
  });
});

describe('kernel locked_vm lines of every era', () => {
  it('4.2–5.2 driver lines print the total after the change; HASH64 and KVM are tagged', () => {
    expect(one('[  812.113201] [4711] RLIMIT_MEMLOCK +4194304 4194304/6442450944')).toMatchObject({
      kind: 'lockedVm',
      pid: 4711,
      delta: 4194304n,
      after: 4194304n,
      limit: 6442450944n,
      exceeded: false,
      era: 'driver',
      tag: 'vfio',
    });
    expect(one('[4711] RLIMIT_MEMLOCK -4194304 0/6442450944')).toMatchObject({ delta: -4194304n, after: 0n });
    expect(one('[4711] RLIMIT_MEMLOCK HASH64 +4294967296 4294967296/6442450944')).toMatchObject({
      tag: 'prereg',
    });
    expect(one('[4711] RLIMIT_MEMLOCK KVM +2162688 2162688/6442450944')).toMatchObject({ tag: 'kvm' });
    expect(one('[4711] RLIMIT_MEMLOCK +4194304 0/65536 - exceeded')).toMatchObject({
      exceeded: true,
      after: 0n,
    });
  });

  it('≥ 5.3 __account_locked_vm prints the total before the change; dmesg -T and journal prefixes', () => {
    expect(
      one(
        '[ 8123.957310] __account_locked_vm: [4711] caller account_locked_vm +4194304 4294967296/4357881856',
      ),
    ).toMatchObject({ delta: 4194304n, after: 4299161600n, era: 'account_locked_vm', exceeded: false });
    expect(
      one(
        '[Sat Dec  5 12:00:13 2026] __account_locked_vm: [4711] caller tce_iommu_create_table [vfio_iommu_spapr_tce] +268435456 4302962688/4357881856 - exceeded',
      ),
    ).toMatchObject({ delta: 268435456n, after: 4302962688n, exceeded: true });
    expect(
      one(
        'Dec 05 10:00:00 power9 kernel: __account_locked_vm: [4711] caller account_locked_vm -65536 65536/131072',
      ),
    ).toMatchObject({ delta: -65536n, after: 0n });
    expect(
      one(
        '2026-12-05T10:00:00+0000 power9 kernel: __account_locked_vm: [4711] caller account_locked_vm +65536 0/131072',
      ),
    ).toMatchObject({ after: 65536n });
  });
});

describe('strace -y', () => {
  it('reads fd kind, the names, the argument and the result', () => {
    expect(
      one(
        '4711  10:00:00.231001 ioctl(19</dev/vfio/vfio>, VFIO_DEVICE_FEATURE or VFIO_IOMMU_DIRTY_PAGES or VFIO_IOMMU_SPAPR_REGISTER_MEMORY, 0x7fffe3ffe5c8) = -1 ENOMEM (Cannot allocate memory)',
      ),
    ).toMatchObject({
      kind: 'strace',
      tid: 4711,
      fd: 19,
      fdPath: '/dev/vfio/vfio',
      names: ['VFIO_DEVICE_FEATURE', 'VFIO_IOMMU_DIRTY_PAGES', 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY'],
      ret: -1,
      errno: 'ENOMEM',
    });
    expect(one('ioctl(19</dev/vfio/vfio>, VFIO_SET_IOMMU, 0x7) = 0')).toMatchObject({ arg: '0x7', ret: 0 });
    expect(
      one('prlimit64(4711, RLIMIT_MEMLOCK, {rlim_cur=4255744*1024, rlim_max=4255744*1024}, NULL) = 0'),
    ).toMatchObject({ kind: 'memlockLimit', bytes: 4255744n * 1024n });
    expect(
      one(
        'ioctl(11<anon_inode:kvm-vm>, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4294967296, userspace_addr=0x7ffd40000000}) = 0',
      ),
    ).toMatchObject({ kind: 'memslot', size: 4294967296n, ua: 0x7ffd40000000n });
  });

  it('joins <unfinished ...> and <... resumed> by pid, and says the threads interleave', () => {
    const c = parseCapture(
      's.txt',
      [
        '4711  ioctl(19</dev/vfio/vfio>, VFIO_SET_IOMMU, 0x7 <unfinished ...>',
        '4713  ioctl(23</dev/vfio/3>, VFIO_GROUP_GET_STATUS, 0x7ffe) = 0',
        '4711  <... ioctl resumed>) = 0',
        '',
      ].join('\n'),
    );
    expect(c.records.map((r) => r.kind === 'strace' && r.names[0])).toEqual([
      'VFIO_GROUP_GET_STATUS',
      'VFIO_SET_IOMMU',
    ]);
    expect(c.problems).toHaveLength(1);
    expect(c.problems[0]!.message).toMatch(/interleaved threads/);
    expect(c.problems[0]!.at).toEqual({ file: 's.txt', line: 1 });
  });
});

describe('bad input names file and line', () => {
  it('a truncated last line', () => {
    const c = parseCapture(
      't.log',
      '4711@1.000001:vfio_prereg_register va=0x0 size=0x10000 ret=0\n4711@1.000002:vfio_spapr_create_window pageshift=0x10 lev',
    );
    expect(c.records).toHaveLength(1);
    expect(c.problems).toEqual([
      { at: { file: 't.log', line: 2 }, message: expect.stringMatching(/^truncated line/) },
    ]);
  });

  it('a strace call never resumed', () => {
    const c = parseCapture('s.txt', '4711  ioctl(19</dev/vfio/vfio>, VFIO_SET_IOMMU, 0x7 <unfinished ...>\n');
    expect(c.problems[0]).toMatchObject({
      at: { line: 1 },
      message: expect.stringMatching(/truncated.*never resumed/),
    });
  });

  it('a second run appended to the same file (time goes back)', () => {
    const c = parseCapture(
      'r.log',
      '4711@1733400000.1:vfio_prereg_register va=0x0 size=0x10000 ret=0\n5000@1733300000.1:vfio_prereg_register va=0x0 size=0x10000 ret=0\n',
    );
    expect(c.records).toHaveLength(1);
    expect(c.problems[0]).toMatchObject({ at: { line: 2 }, message: expect.stringMatching(/several runs/) });
  });

  it('a second process in simpletrace output', () => {
    const c = parseCapture(
      'st.txt',
      'vfio_prereg_register 0.000 pid=4711 va=0x0 size=0x10000 ret=0x0\nvfio_prereg_register 1.000 pid=4800 va=0x0 size=0x10000 ret=0x0\n',
    );
    expect(c.records).toHaveLength(1);
    expect(c.problems[0]).toMatchObject({
      at: { line: 2 },
      message: expect.stringMatching(/several processes/),
    });
  });

  it('a format it does not know, and a binary file', () => {
    const c = parseCapture('x.csv', 'a,b,c\n1,2,3\n');
    expect(c.records).toEqual([]);
    expect(c.problems[0]).toMatchObject({
      at: { file: 'x.csv', line: 1 },
      message: expect.stringMatching(/^unknown format/),
    });
    const b = parseCapture('trace-4711', '\xff\xff\xff\xff\xff\xff\xff\xff\xb4\x29\xa4\x0a\0\0');
    expect(b.problems[0]!.message).toMatch(/binary file.*simpletrace\.py/);
  });
});
