/**
 * `dmawb import` end to end (scenario-api.md §4.2): every shipped capture imports and its scenario runs
 * with exit 0, the divergent one exits 1 naming the capture line; bad input and usage; atomic output.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dmawb-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}
const capture = (name: string) => join(root, 'examples/captures', name);
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const PASSING = ['v2-ddw-startup', 'v2-ddw-kvm', 'memlock-register-failed', 'unregister-ebusy'];

describe('dmawb import of the shipped captures', () => {
  it('ships at least three passing captures and one divergent, each saying it was constructed', () => {
    const all = readdirSync(join(root, 'examples/captures'));
    expect(all).toEqual(expect.arrayContaining([...PASSING, 'register-enomem-diverges']));
    for (const c of all)
      for (const f of readdirSync(capture(c)))
        expect(readFileSync(join(capture(c), f), 'utf8')).toMatch(/^# CONSTRUCTED, NOT CAPTURED/);
  });

  for (const name of PASSING)
    it(`${name}: imports, and its scenario reproduces every recorded result (exit 0)`, async () => {
      const out = join(dir, `${name}.ts`);
      const imp = await cli('import', capture(name), '--out', out);
      expect(imp.code, imp.err).toBe(0);
      expect(imp.out).toBe('');
      expect(imp.err).toMatch(/lines skipped: .*comment/);
      const text = readFileSync(out, 'utf8');
      expect(text).toMatch(/CONSTRUCTED|Imported by `dmawb import`/);
      expect(text).toMatch(
        /RLIMIT_MEMLOCK +\d+ bytes .*\n\/\/ +recorded: .*:\d+: every kernel accounting line/,
      );
      const run = await cli('run', out);
      expect(run.code, run.out).toBe(0);
      expect(run.out).toMatch(/reproduced all \d+ recorded call results/);
      expect(run.out).toMatch(/result: passed/);
    });

  it('v2-ddw-kvm: KVM tables are replayed, and their locked_vm charges checked line by line', async () => {
    const out = join(dir, 'kvm.ts');
    expect((await cli('import', capture('v2-ddw-kvm'), '--out', out)).code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(
      /vm\.createSpaprTce64\(\{ liobn: 0x80000001, pageShift: 16, offset: 0x80000000000n, size: 0x10000n \}\)/,
    );
    expect(text).toMatch(/vm\.attachVfioGroup\(g, kvmTable1!\.out!\.table\)/);
    const run = await cli('run', out);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/dmesg\.txt:8 locked_vm \+2162688 -> 4297129984 bytes/);
    expect(run.out).toMatch(/dmesg\.txt:11 locked_vm \+1048576 -> 4302962688 bytes/);
  });

  it('a 4.2-era HASH64 line whose total did not move is a refused charge, matched to the failed REGISTER', async () => {
    const qemu = file(
      'h64-qemu.log',
      '4711@1733390000.100100:kvm_set_user_memory Slot#0 flags=0x0 gpa=0x0 size=0x100000000 ua=0x7ffd40000000 ret=0\n' +
        '4711@1733390000.231000:vfio_prereg_register va=0x7ffd40000000 size=0x100000000 ret=-12\n',
    );
    const dmesg = file(
      'h64-dmesg.txt',
      '[  812.113201] [4711] RLIMIT_MEMLOCK +4194304 4194304/67108864\n' +
        '[  812.113288] [4711] RLIMIT_MEMLOCK +4194304 8388608/67108864\n' +
        '[  812.240007] [4711] RLIMIT_MEMLOCK HASH64 +4294967296 8388608/67108864\n',
    );
    const out = join(dir, 'h64.ts');
    expect((await cli('import', qemu, dmesg, '--out', out)).code).toBe(0);
    const run = await cli('run', out);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(
      /h64-dmesg\.txt:2 locked_vm \+8388608 -> 8388608 bytes \(after the reconstructed VFIO_SET_IOMMU/,
    );
    expect(run.out).toMatch(
      /h64-dmesg\.txt:3 charge of \+4294967296 refused at locked_vm 8388608 \(limit 67108864\)/,
    );
  });

  it('a long run of MAP/UNMAP becomes a table, still one checked call per capture line', async () => {
    const head = readFileSync(join(capture('v2-ddw-startup'), 'qemu.log'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .slice(0, 6);
    const rows: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const io = (0x1000 * i).toString(16);
      const end = (0x1000 * i + 0xfff).toString(16);
      rows.push(
        `4713@1733400010.${String(i).padStart(6, '0')}:vfio_iommu_map_notify iommu MAP @ 0x${io} - 0x${end}`,
      );
      // line 11 of the file (the 3rd MAP; its error line is line 12): the host said EINVAL, which the emulated kernel does not
      if (i === 3)
        rows.push(
          `2024-12-05T12:00:10.000003Z qemu-system-ppc64: vfio_container_dma_map(0x1001e2f0, 0x${io}, 0x1000, 0x7ffd40100000) = -22 (Invalid argument)`,
        );
      rows.push(
        `4713@1733400010.${String(i).padStart(6, '0')}:spapr_iommu_pci_put liobn=0x80000000 ioba=0x${io} tce=0x${(0x100000 + i * 0x1000).toString(16)}3 ret=0`,
      );
    }
    const f = file('many-maps.log', [...head, ...rows, ''].join('\n'));
    const out = join(dir, 'many.ts');
    expect((await cli('import', f, '--memlock', '4357881856', '--out', out)).code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/\/\/ 20 recorded MAP_DMA \/ UNMAP_DMA calls, .*many-maps\.log lines 7–46/);
    expect(text).toMatch(
      /replayDma\(".*many-maps\.log", \[\n {2}\[7, 0x1000n, 0x1000n, RAM0 \+ 0x1010000n, RW, 0\],/,
    );
    const run = await cli('run', out);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      /DIVERGENCE at .*many-maps\.log:11: the host recorded -22 EINVAL; the emulated mainline kernel gives 0 \(success\)/,
    );
  });

  it('unregister-ebusy: the 4.2 era is inferred from the kernel lines; under mainline it diverges at the UNREGISTER', async () => {
    const out = join(dir, 'ebusy.ts');
    expect((await cli('import', capture('unregister-ebusy'), '--out', out)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/createHost\(\{ kernel: '4\.2'/);
    const ml = join(dir, 'ebusy-ml.ts');
    expect((await cli('import', capture('unregister-ebusy'), '--kernel', 'mainline', '--out', ml)).code).toBe(
      0,
    );
    const run = await cli('run', ml);
    expect(run.code).toBe(1);
    // mainline charges differently at SET_IOMMU (no default window): the first locked_vm line disagrees
    expect(run.out).toMatch(/DIVERGENCE at .*unregister-ebusy\/dmesg\.txt:\d+/);
  });

  it('register-enomem-diverges: exit 1 at the capture line, with the emulated why and the host facts', async () => {
    const out = join(dir, 'diverges.ts');
    expect((await cli('import', capture('register-enomem-diverges'), '--out', out)).code).toBe(0);
    const run = await cli('run', out);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      /expect FAIL {2}.*register-enomem-diverges\/qemu\.log:9 REGISTER_MEMORY\(va 0x7ffd40000000, size 0x100000000\) = -12 ENOMEM: expected -12 ENOMEM, got 0/,
    );
    expect(run.out).toMatch(
      /DIVERGENCE at .*qemu\.log:9: the host recorded -12 ENOMEM; the emulated mainline kernel gives 0 \(success\)/,
    );
    expect(run.out).toMatch(/why: VFIO_IOMMU_SPAPR_REGISTER_MEMORY: .*charged and pinned/);
    expect(run.out).toMatch(/host facts: .*RLIMIT_MEMLOCK 8589934592 bytes \(8 GiB\) \(recorded\)/);
    expect(run.out).toMatch(/replay stopped at the first divergence/);
  });

  it('a locked_vm figure the emulated kernel does not reach is a divergence naming the kernel line', async () => {
    const dmesg = readFileSync(join(capture('v2-ddw-startup'), 'dmesg.txt'), 'utf8').replace(
      '+1048576 4299161600',
      '+2097152 4299161600',
    );
    const f = file('dmesg-wrong.txt', dmesg);
    const out = join(dir, 'wrong.ts');
    expect((await cli('import', join(capture('v2-ddw-startup'), 'qemu.log'), f, '--out', out)).code).toBe(0);
    const run = await cli('run', out);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      /DIVERGENCE at .*dmesg-wrong\.txt:8: the host recorded a locked_vm change of \+2097152 bytes/,
    );
  });

  it('without a recorded limit the default 64 KiB applies, the header says so, and the divergence says what to pass', async () => {
    const out = join(dir, 'nolimit.ts');
    expect((await cli('import', join(capture('v2-ddw-startup'), 'qemu.log'), '--out', out)).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/RLIMIT_MEMLOCK +65536 bytes \(64 KiB\)\n\/\/ +assumed: /);
    const run = await cli('run', out);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/import again with --memlock/);
    const given = join(dir, 'given.ts');
    expect(
      (
        await cli(
          'import',
          join(capture('v2-ddw-startup'), 'qemu.log'),
          '--memlock',
          '4357881856',
          '--out',
          given,
        )
      ).code,
    ).toBe(0);
    expect((await cli('run', given)).code).toBe(0);
  });
});

describe('dmawb import: other sources, bad input, usage', () => {
  it('reads a capture as UTF-8 when its bytes are, else as Latin-1: both encodings of one capture import alike', async () => {
    const base = readFileSync(join(capture('v2-ddw-startup'), 'qemu.log'));
    const note = '# guest café (a comment)\n';
    const utf8 = join(dir, 'enc-utf8.log');
    const latin1 = join(dir, 'enc-latin1.log');
    writeFileSync(utf8, Buffer.concat([Buffer.from(note, 'utf8'), base]));
    writeFileSync(latin1, Buffer.concat([Buffer.from(note, 'latin1'), base]));
    expect(Buffer.from(note, 'latin1').includes(0xe9)).toBe(true); // not valid UTF-8: the fallback runs
    const a = await cli('import', utf8, '--out', join(dir, 'enc-utf8.ts'));
    const b = await cli('import', latin1, '--out', join(dir, 'enc-latin1.ts'));
    expect(a.code, a.err).toBe(0);
    expect(b.code, b.err).toBe(0);
    const text = (f: string) => readFileSync(join(dir, f), 'utf8').replaceAll(/enc-(utf8|latin1)/g, 'enc');
    expect(text('enc-latin1.ts')).toBe(text('enc-utf8.ts'));
    expect(text('enc-utf8.ts')).toMatch(/enc\.log:\d+/);
  });

  it('a strace-only capture replays the setup it records and states what it cannot', async () => {
    const s = file(
      'strace.txt',
      [
        '4711  10:00:00.100000 ioctl(11<anon_inode:kvm-vm>, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=4294967296, userspace_addr=0x7ffd40000000}) = 0',
        '4711  10:00:00.200000 prlimit64(0, RLIMIT_MEMLOCK, {rlim_cur=4255744*1024, rlim_max=4255744*1024}, NULL) = 0',
        '4711  10:00:00.230000 ioctl(19</dev/vfio/vfio>, VFIO_CHECK_EXTENSION, 0x7) = 1',
        '4711  10:00:00.230100 ioctl(23</dev/vfio/3>, VFIO_GROUP_SET_CONTAINER, 0x7fffe3ffe5c0) = 0',
        '4711  10:00:00.230200 ioctl(19</dev/vfio/vfio>, VFIO_SET_IOMMU, 0x7) = 0',
        '4711  10:00:00.231001 ioctl(19</dev/vfio/vfio>, VFIO_DEVICE_FEATURE or VFIO_IOMMU_DIRTY_PAGES or VFIO_IOMMU_SPAPR_REGISTER_MEMORY, 0x7fffe3ffe5c8) = 0',
        '4711  10:00:00.232800 ioctl(19</dev/vfio/vfio>, VFIO_DEVICE_ATTACH_IOMMUFD_PT or VFIO_IOMMU_SPAPR_TCE_CREATE, 0x7fffe3ffe4c8) = 0',
        '4713  10:00:01.000000 ioctl(19</dev/vfio/vfio>, VFIO_IOMMU_MAP_DMA or VFIO_DEVICE_PCI_HOT_RESET, 0x7fffe3ffe4c8) = 0',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'strace.ts');
    const imp = await cli('import', s, '--out', out);
    expect(imp.code, imp.err).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(
      /IOMMU backend +sPAPR TCE v2\n\/\/ +recorded: .*strace\.txt:5: strace shows VFIO_SET_IOMMU\(0x7\) = 0/,
    );
    expect(text).toMatch(/RLIMIT_MEMLOCK +4357881856 bytes .*\n\/\/ +recorded: .*strace prlimit64/);
    expect(text).toMatch(
      /call\(".*strace\.txt:6", "REGISTER_MEMORY = 0 \(strace; range assumed: guest RAM\)", 0, \(\) => C\.registerMemory\(\{ vaddr: RAM0, size: 0x100000000n \}\)\)/,
    );
    expect(text).toMatch(/strace\.txt:7", "TCE_CREATE = 0 \(strace; geometry assumed/);
    expect(text).toMatch(/1 MAP_DMA\/UNMAP_DMA call\(s\) recorded by strace only are not replayed/);
    const run = await cli('run', out);
    expect(run.code, run.out).toBe(0);
  });

  it('nothing importable: exit 2 naming file and line, and no output file', async () => {
    const f = file('notes.txt', 'the guest failed to start\nsee attached\n');
    const out = join(dir, 'never.ts');
    const r = await cli('import', f, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/notes\.txt:1: unknown format/);
    expect(r.err).toMatch(/nothing importable/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad input that still imports: the problems go to stderr and into the header', async () => {
    const f = file(
      'mixed.log',
      [
        '4711@1733400000.100100:kvm_set_user_memory AddrSpace#0 Slot#0 flags=0x0 gpa=0x0 size=0x10000000 ua=0x7ffd40000000 ret=0',
        '4711@1733400000.231000:vfio_prereg_register va=0x7ffd40000000 size=0x10000000 ret=0',
        '[ 1.000000] __account_locked_vm: [4711] caller account_locked_vm +268435456 0/1073741824',
        '[ 2.000000] __account_locked_vm: [4999] caller account_locked_vm +65536 0/65536',
        '4711@1733400000.231900:vfio_spapr_remove_window offs',
      ].join('\n'),
    );
    const out = join(dir, 'mixed.ts');
    const r = await cli('import', f, '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/mixed\.log:4: several pids/);
    expect(r.err).toMatch(/mixed\.log:5: truncated line/);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/Gaps[^\n]*\n(\/\/ .*\n)*\/\/ +- .*mixed\.log:5: truncated line/);
    expect((await cli('run', out)).code).toBe(0);
  });

  it('unreadable captures and usage errors', async () => {
    expect((await cli('import', join(dir, 'missing.log'))).err).toMatch(/cannot read capture .*no such file/);
    expect((await cli('import', join(dir, 'missing.log'))).code).toBe(2);
    expect((await cli('import')).code).toBe(64);
    expect((await cli('import', 'x.log', '--kernel', '3.10')).err).toMatch(
      /--kernel must be one of 4\.2, 5\.x, mainline/,
    );
    expect((await cli('import', 'x.log', '--page-size', '8192')).code).toBe(64);
    expect((await cli('import', 'x.log', '--memlock', 'lots')).code).toBe(64);
    expect((await cli('import', 'x.log', '--bogus')).code).toBe(64);
    expect((await cli('import', 'x.log', '--out', 'x.log')).err).toMatch(/--out names a capture file/);
  });

  it('an --out that cannot be written leaves nothing behind (atomic write)', async () => {
    const out = join(dir, 'no-such-dir', 'x.ts');
    const r = await cli('import', capture('v2-ddw-startup'), '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot write/);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  it('writes to stdout without --out', async () => {
    const r = await cli('import', capture('memlock-register-failed'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\/\/ Imported by `dmawb import`/);
  });
});
