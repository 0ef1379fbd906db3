/**
 * dmawb export-c (scenario-api.md §4.3): the structure of the generated program (TAP numbering, one
 * function per step, scenario lines in comments, skips with reasons), that every example and conformance
 * case compiles warning-free against the system's kernel uAPI headers, and that a compiled program bails
 * out with exit 2 where there is no /dev/vfio — and, in a private mount namespace with stand-in
 * /dev/vfio files, runs every step through its forked processes and prints every test it planned.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelName } from '../../engine/api.ts';
import { exportC, generateC, type ExportEvent, type HostFacts } from '../../interop/export-c/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dmawb-export-c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function exported(file: string, kernel: KernelName): Promise<string> {
  const r = await exportC({ source: readFileSync(join(root, file), 'utf8'), filename: file, kernel });
  if (!r.ok) throw new Error(`${file}: ${r.error.message}`);
  return r.text;
}

async function exportedSource(source: string, kernel: KernelName = 'mainline'): Promise<string> {
  const r = await exportC({ source, filename: 'inline.ts', kernel });
  if (!r.ok) throw new Error(r.error.message);
  return r.text;
}

const CC = ['-std=gnu11', '-Wall', '-Wextra', '-Werror'];

/** why C cannot be compiled here, or null: a C compiler and <linux/vfio.h> (Debian's linux-libc-dev) */
function compilerMissing(): string | null {
  const probe = join(dir, 'probe.c');
  writeFileSync(
    probe,
    '#include <linux/vfio.h>\n#include <linux/kvm.h>\nint main(void) { return VFIO_API_VERSION; }\n',
  );
  const r = spawnSync('cc', [...CC, '-o', join(dir, 'probe'), probe], { encoding: 'utf8' });
  if (r.error) return `no C compiler (cc): ${r.error.message}`;
  if (r.status !== 0) return `cc cannot build against <linux/vfio.h> (install linux-libc-dev): ${r.stderr}`;
  return null;
}
const missing = compilerMissing();
if (missing) console.warn(`export-c compile tests skipped: ${missing}`);

function compile(name: string, text: string, link = true): { ok: boolean; stderr: string; exe: string } {
  const src = join(dir, `${name}.c`);
  const exe = join(dir, name);
  writeFileSync(src, text);
  const r = spawnSync('cc', [...CC, ...(link ? ['-o', exe] : ['-c', '-o', `${exe}.o`]), src], {
    encoding: 'utf8',
  });
  return { ok: r.status === 0, stderr: r.stderr, exe };
}

/** every test number the program can print, from each check call in its text */
function testNumbers(c: string): number[] {
  return [...c.matchAll(/\b(?:tap|tap_skip|check_call|check_locked_vm)\((\d+),/g)].map((m) => Number(m[1]));
}

const plan = (c: string): number => Number(/#define NTESTS (\d+)/.exec(c)![1]);

describe('export-c: the program it writes', () => {
  let c: string;
  beforeAll(async () => {
    c = await exported('examples/qemu-v2-ddw.ts', 'mainline');
  });

  it('numbers its TAP tests 1..N, each with its check and its line in one table', () => {
    const n = plan(c);
    expect(n).toBeGreaterThan(40);
    const used = [...new Set(testNumbers(c))].sort((a, b) => a - b);
    expect(used).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const table = c.slice(
      c.indexOf('test_desc[NTESTS + 1]'),
      c.indexOf('};', c.indexOf('test_desc[NTESTS + 1]')),
    );
    expect([...table.matchAll(/\/\* (\d+) \*\//g)].map((m) => Number(m[1]))).toEqual(used);
  });

  it('has one function per recorded step, with the scenario line quoted above it', async () => {
    const source = readFileSync(join(root, 'examples/qemu-v2-ddw.ts'), 'utf8').split('\n');
    const r = await exportC({ source: source.join('\n'), filename: 'x.ts', kernel: 'mainline' });
    expect(r.ok).toBe(true);
    const steps = [...c.matchAll(/^static void step_(\d+)\(void\)$/gm)].map((m) => Number(m[1]));
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    expect(Number(/#define NSTEPS (\d+)/.exec(c)![1])).toBe(steps.length);
    // the REGISTER_MEMORY step: its line number, the line itself, the emulated result and locked_vm
    const line = source.findIndex((l) => l.includes('C.registerMemory({ vaddr: R, size: GUEST_RAM })')) + 1;
    const at = c.indexOf(`scenario line ${line} `);
    expect(at).toBeGreaterThan(0);
    const block = c.slice(at, c.indexOf('\n}\n', at));
    expect(block).toContain(source[line - 1]!.trim());
    expect(block).toContain('VFIO_IOMMU_SPAPR_REGISTER_MEMORY, &a)');
    expect(block).toContain('a.m.vaddr = ADDR(0, 0x0);');
    // locked_vm after REGISTER reads 65569 in the emulator: guest RAM 65536 + the KVM table of the 32-bit
    // window, 33 (kernel-model.md §13.10.2)
    expect(block).toMatch(/check_locked_vm\(\d+, 0, 65569, 65536\);/);
    // expectations of the scenario follow as comments, never as checks of their own
    expect(c).toContain('passed in the emulator: 4. REGISTER_MEMORY(R, 4 GiB) -> 0');
  });

  it('compares failures by errno name and outputs by field', async () => {
    const text = await exported('examples/unregister-while-mapped.ts', '4.2');
    expect(text).toMatch(/check_call\(\d+, r, -EBUSY, NULL, 0\);/);
    expect(c).toContain('{ "start_addr", (uint64_t)(a.c.start_addr), 0x800000000000000ULL },');
    expect(c).toContain('{ "ddw.pgsizes", (uint64_t)(a.i.ddw.pgsizes), 0x11011000ULL },');
  });

  it('takes the real group numbers from argv and bails out without /dev/vfio or the group', () => {
    expect(c).toContain('#define NGROUPS 1');
    expect(c).toMatch(/access\("\/dev\/vfio\/vfio", F_OK\)\)\n\t\tbail\("\/dev\/vfio\/vfio is missing/);
    expect(c).toContain('IOMMU group %lu is missing');
  });

  it('forks each process with its RLIMIT_MEMLOCK and CAP_IPC_LOCK, and maps the same sizes', async () => {
    expect(c).toContain('set_memlock(0x140000000ULL, "qemu-system-ppc64");');
    expect(c).toContain('set_cap_ipc_lock(0, "qemu-system-ppc64");');
    expect(c).toContain('map_memory(0x7fff00000000ULL, 0x100000000ULL, PROT_READ | PROT_WRITE, 0,');
    const huge = await exportedSource(
      [
        'const host = createHost();',
        'const p = host.spawn({ name: "q", memlock: 1n * GiB, capIpcLock: true });',
        'p.mmap({ size: 32n * MiB, hugepage: "16M" });',
      ].join('\n'),
    );
    expect(huge).toMatch(/map_memory\(0x[0-9a-f]+ULL, 0x2000000ULL, PROT_READ \| PROT_WRITE, 1,/);
    expect(huge).toContain('set_cap_ipc_lock(1, "q");');
    expect(huge).toContain('a program cannot grant itself');
  });

  it('says in a comment that mlocked memory counts in VmLck', () => {
    expect(c).toMatch(/mlock\(2\)'ed memory is counted there too/);
  });
});

describe('export-c: what a real host cannot do is a skipped test with its reason', () => {
  it('skips every call on a group of a second PHB model, and says so up front', async () => {
    const c = await exported('test/conformance/c57-mainline.ts', 'mainline');
    expect(c).toMatch(
      /tap_skip\(\d+, "a real host has one PHB model; host 1 mixes IODA2 and IODA1: every call/,
    );
    expect(c).toMatch(/tap_skip\(\d+, "a real host has one PHB model; host 1 mixes IODA2 and IODA1 \(group/);
  });

  it('skips EEH checks when the scenario turned EEH off', async () => {
    const c = await exportedSource(
      [
        'const host = createHost({ eeh: false });',
        'host.addPhb().addGroup();',
        'const p = host.spawn();',
        'const C = p.openContainer();',
        'expectEq(C.checkExtension(VFIO_EEH).ret, 0);',
      ].join('\n'),
    );
    expect(c).toContain('emulated-only knob: a program cannot turn the host');
    expect(c).toMatch(/tap_skip\(\d+, "the scenario turned EEH off, a real host has it on"\);/);
  });

  it('expects EBUSY where the emulated open of an already open group failed', async () => {
    const c = await exportedSource(
      [
        'const host = createHost();',
        'const G = host.addPhb().addGroup();',
        'const p = host.spawn();',
        'const q = host.spawn();',
        'p.openGroup(G);',
        'q.openGroup(G);',
      ].join('\n'),
    );
    expect(c).toContain('"line 5: open(/dev/vfio/<group 1: domain0-pe0>) = 0"');
    expect(c).toContain('"line 6: open(/dev/vfio/<group 1: domain0-pe0>) = -16 EBUSY"');
    expect(c).toMatch(/check_call\(\d+, r, -EBUSY, NULL, 0\);/);
  });

  it('checks the page size at run time and skips a host whose pages differ', async () => {
    const c = await exported('test/conformance/c22-mainline.ts', 'mainline');
    expect(c).toContain('if (sysconf(_SC_PAGESIZE) == 65536L) {');
    expect(c).toContain('if (sysconf(_SC_PAGESIZE) == 4096L) {');
    expect(c).toContain('#define NGROUPS 3');
  });

  it('skips the RAM size only where it decides a result (4.2 TCE_CREATE)', async () => {
    const c42 = await exported('examples/qemu-v2-ddw.ts', '4.2');
    expect(c42).toMatch(/64 GiB of RAM \(4.2 refuses DDW windows larger than RAM\)/);
    expect(c42).toContain('emulated-only knob: a program cannot set the host');
    const cml = await exported('examples/qemu-v2-ddw.ts', 'mainline');
    expect(cml).not.toContain('of RAM (4.2');
  });

  const host: HostFacts = {
    id: 1,
    kernel: 'mainline',
    pageSize: 65536,
    ramSize: 64n << 30n,
    eeh: true,
    phbs: [{ id: 0, model: 'IODA2', tce32Start: 0n, tce32Size: 1n << 31n, pgsizes: 0x11011000n }],
    groups: [{ id: 1, name: 'domain0-pe0', phb: 0, devices: ['0001:01:00.0'], kernelDma: false }],
    pids: [100],
  };
  const spawn: ExportEvent = {
    seq: 1,
    line: 1,
    kind: 'action',
    pid: 100,
    op: 'spawn',
    args: { name: 'qemu', memlock: 1n << 30n, capIpcLock: false },
    lockedVm: { 100: 0 },
  };
  /** KVM (scenario-api.md §2.1.5): ioctls through <linux/kvm.h>, mlock as a call, hypercalls skipped */
  const kvmEvents: ExportEvent[] = [
    spawn,
    {
      seq: 2,
      line: 2,
      kind: 'action',
      pid: 100,
      op: 'mmap',
      args: { addr: 0x7fff00000000n, size: 1n << 30n, prot: 'rw', hugepage: 'no' },
      lockedVm: { 100: 0 },
    },
    // the shapes engine/kvm records: a VM by its id, its kvm-vfio device by the VM's id, tables by LIOBN
    {
      seq: 3,
      line: 3,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_CREATE_VM',
      fd: { type: 'kvm', id: 1 },
      args: { type: 0 },
      ret: 0,
      errno: null,
      lockedVm: { 100: 0 },
    },
    {
      seq: 4,
      line: 4,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_CHECK_EXTENSION',
      fd: { type: 'vm', id: 1 },
      args: { cap: 142 },
      ret: 1,
      errno: null,
      lockedVm: { 100: 0 },
    },
    {
      seq: 5,
      line: 5,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_SET_USER_MEMORY_REGION',
      fd: { type: 'vm', id: 1 },
      args: { slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 1n << 30n, userspaceAddr: 0x7fff00000000n },
      ret: 0,
      errno: null,
      lockedVm: { 100: 0 },
    },
    {
      seq: 6,
      line: 6,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_CREATE_SPAPR_TCE_64',
      fd: { type: 'vm', id: 1 },
      args: { liobn: 0x80000000n, pageShift: 16, flags: 0, offset: 0n, size: 16384n },
      ret: 0,
      errno: null,
      out: { liobn: 0x80000000, chargedPages: 2 },
      lockedVm: { 100: 2 },
    },
    {
      seq: 7,
      line: 7,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_ENABLE_CAP',
      fd: { type: 'vm', id: 1 },
      args: { cap: 104, hcall: 0x13c, enable: 1 },
      ret: 0,
      errno: null,
      lockedVm: { 100: 2 },
    },
    {
      seq: 8,
      line: 8,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_CREATE_DEVICE',
      fd: { type: 'vm', id: 1 },
      args: { type: 4 },
      ret: 0,
      errno: null,
      out: { type: 'KVM_DEV_TYPE_VFIO' },
      lockedVm: { 100: 2 },
    },
    {
      seq: 9,
      line: 9,
      kind: 'ioctl',
      pid: 100,
      op: 'KVM_DEV_VFIO_GROUP_SET_SPAPR_TCE',
      fd: { type: 'kvm-device', id: 1 },
      args: { group: 1, liobn: 0x80000000 },
      ret: -22,
      errno: 'EINVAL',
      lockedVm: { 100: 2 },
    },
    {
      seq: 10,
      line: 10,
      kind: 'hcall',
      pid: 100,
      op: 'H_PUT_TCE',
      args: { liobn: 0x80000000, ioba: 0n, tce: 3n },
      ret: 0,
      name: 'H_SUCCESS',
      handledBy: 'kernel',
      lockedVm: { 100: 2 },
    },
    {
      seq: 11,
      line: 11,
      kind: 'hcall',
      pid: 100,
      op: 'H_PUT_TCE',
      args: { liobn: 0x80000001, ioba: 0n, tce: 3n },
      ret: 0,
      name: 'H_SUCCESS',
      handledBy: 'qemu',
      lockedVm: { 100: 2 },
    },
    {
      seq: 12,
      line: 12,
      kind: 'syscall',
      pid: 100,
      op: 'mlock',
      args: { addr: 0x7fff00010000n, size: 0x10000n },
      ret: 0,
      errno: null,
      lockedVm: { 100: 3 },
    },
    {
      seq: 13,
      line: 13,
      kind: 'action',
      pid: 100,
      op: 'close',
      args: { device: 'kvm-vfio' },
      lockedVm: { 100: 3 },
    },
    {
      seq: 14,
      line: 14,
      kind: 'action',
      pid: 100,
      op: 'close',
      args: { liobn: 0x80000000 },
      lockedVm: { 100: 1 },
    },
    { seq: 15, line: 15, kind: 'action', pid: 100, op: 'close', args: { vm: 1 }, lockedVm: { 100: 1 } },
    { seq: 16, line: 16, kind: 'teleport', pid: 100, lockedVm: { 100: 1 } },
  ];
  const kvm = generateC({
    scenario: 'kvm.ts',
    source: Array.from({ length: 16 }, (_, i) => `// line ${i + 1}`).join('\n'),
    kernel: 'mainline',
    events: kvmEvents,
    hosts: [host],
    expectations: { passed: 0, failed: 0 },
  });

  it('issues KVM ioctls through <linux/kvm.h> and mlock as a call', () => {
    expect(kvm).toContain('#include <linux/kvm.h>');
    expect(kvm).toContain('long r = xioctl_val(kvm_fd, KVM_CREATE_VM, 0);');
    expect(kvm).toContain('m.userspace_addr = ADDR(0, 0x0);');
    expect(kvm).toContain('fd_vm_1 = r >= 0 ? (int)(r) : -1;');
    expect(kvm).toContain('long r = xioctl(fd_vm_1, KVM_CREATE_SPAPR_TCE_64, &t);');
    expect(kvm).toContain('fd_liobn_2147483648 = r >= 0 ? (int)(r) : -1;');
    expect(kvm).toContain('fd_kvm_device_1 = r >= 0 ? (int)(c.fd) : -1;');
    expect(kvm).toContain('long r = xioctl(fd_kvm_device_1, KVM_SET_DEVICE_ATTR, &d);');
    expect(kvm).toContain('t.tablefd = fd_liobn_2147483648;');
    // close() of the device, the table (by LIOBN) and the VM
    for (const v of ['fd_kvm_device_1', 'fd_liobn_2147483648', 'fd_vm_1'])
      expect(kvm).toContain(`\tclose(${v});`);
    // the table's close refunds its charge: the locked_vm check runs in the parent after the step
    expect(kvm).toMatch(/check_locked_vm\(\d+, child_pid\[0\], 1, 65536\);/);
    expect(kvm).toMatch(/check_call\(\d+, r, -EINVAL, NULL, 0\);/);
    expect(kvm).toContain('long r = mlock((void *)(uintptr_t)ADDR(0, 0x10000), 0x10000ULL) ? -errno : 0;');
  });

  it('writes hypercalls and QEMU handling as comments with skipped checks, and unknown events as skips', () => {
    expect(kvm).toContain("a hypercall is the guest's action: a host program cannot issue it");
    expect(kvm).toContain("QEMU's handling of a hypercall is the VMM's action, not a host call");
    expect(kvm).toContain("the exporter does not know events of kind 'teleport'");
    const used = [...new Set(testNumbers(kvm))].sort((a, b) => a - b);
    expect(used).toEqual(Array.from({ length: plan(kvm) }, (_, i) => i + 1));
  });

  it.skipIf(missing !== null)('compiles the KVM program warning-free', () => {
    const r = compile('kvm', kvm);
    expect(r.stderr).toBe('');
    expect(r.ok).toBe(true);
  });
});

describe.skipIf(missing !== null)(
  'export-c: every example and conformance case compiles and bails out cleanly here',
  () => {
    const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts'));
    const programs = new Map<string, string>();

    it.each(examples.flatMap((f) => (['4.2', 'mainline'] as const).map((k) => [f, k] as const)))(
      'examples/%s under %s compiles with cc -std=gnu11 -Wall -Wextra -Werror',
      async (f, kernel) => {
        const text = await exported(`examples/${f}`, kernel);
        const name = `${f.replace(/\.ts$/, '')}-${kernel}`;
        const r = compile(name, text);
        expect(r.stderr).toBe('');
        expect(r.ok).toBe(true);
        programs.set(name, r.exe);
      },
    );

    it('compiles every conformance case (one cc run)', async () => {
      const cases = readdirSync(join(root, 'test/conformance')).filter((f) => f.endsWith('.ts'));
      expect(cases.length).toBeGreaterThan(40);
      const files: string[] = [];
      for (const f of cases) {
        const text = await exported(`test/conformance/${f}`, f.includes('-4.2') ? '4.2' : 'mainline');
        const src = join(dir, `conf-${f.replace(/\.ts$/, '')}.c`);
        writeFileSync(src, text);
        files.push(src);
      }
      const r = spawnSync('cc', [...CC, '-c', ...files], { cwd: dir, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    /** runs a program where /dev/vfio/vfio does not exist: directly, or in a mount namespace that hides it */
    function runWithoutVfio(exe: string, args: string[]) {
      if (!existsSync('/dev/vfio/vfio')) return spawnSync(exe, args, { encoding: 'utf8' });
      return spawnSync(
        'unshare',
        [
          '--user',
          '--map-root-user',
          '--mount',
          'sh',
          '-c',
          'mount -t tmpfs none /dev/vfio && exec "$0" "$@"',
          exe,
          ...args,
        ],
        { encoding: 'utf8' },
      );
    }

    it('a compiled program says Bail out! and exits 2 where /dev/vfio is missing', () => {
      const exe = programs.get('qemu-v2-ddw-mainline');
      expect(exe).toBeDefined();
      const r = runWithoutVfio(exe!, ['42']);
      expect(r.stdout).toBe(
        'TAP version 13\nBail out! /dev/vfio/vfio is missing: this host has no VFIO (modprobe vfio-pci and, on POWER, vfio_iommu_spapr_tce)\n',
      );
      expect(r.status).toBe(2);
    });

    /** a private mount namespace with empty files standing in for /dev/vfio and the groups' sysfs devices */
    function unshareWorks(): boolean {
      const r = spawnSync(
        'unshare',
        ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs none /dev'],
        {
          encoding: 'utf8',
        },
      );
      return r.status === 0;
    }
    const fake = unshareWorks();
    if (!fake)
      console.warn(
        'export-c: unshare --user --mount is not available here; the stand-in /dev/vfio run is skipped',
      );

    it.skipIf(!fake)(
      'with stand-in /dev/vfio files it runs every step through its forked processes',
      async () => {
        // 4 KiB pages so that this host's page size matches; a second process receives the container fd
        const text = await exportedSource(
          [
            "const host = createHost({ kernel: 'mainline', pageSize: 4096 });",
            "const G = host.addPhb().addGroup({ devices: ['0001:01:00.0', '0001:01:00.1'] });",
            "const a = host.spawn({ name: 'qemu', memlock: 4n * MiB });",
            "const b = host.spawn({ name: 'helper', memlock: 1n * MiB });",
            'const R = a.mmap({ size: 2n * MiB });',
            'const C = a.openContainer();',
            'const g = a.openGroup(G);',
            'expectOk(g.setContainer(C));',
            'expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU));',
            'expectOk(C.registerMemory({ vaddr: R, size: 2n * MiB }));',
            "const d = g.openDevice('0001:01:00.1');",
            'const C2 = b.adopt(C);',
            'C2.registerMemory({ vaddr: R, size: 0x1000n });',
            'C2.close();',
            'b.exit();',
            'd.close();',
          ].join('\n'),
        );
        const { exe, ok, stderr } = compile('fake', text);
        expect(stderr).toBe('');
        expect(ok).toBe(true);
        const script = [
          'mount -t tmpfs none /dev && mkdir /dev/vfio && touch /dev/vfio/vfio /dev/vfio/7',
          'mount -t tmpfs none /sys/kernel',
          'mkdir -p /sys/kernel/iommu_groups/7/devices/0001:01:00.0 /sys/kernel/iommu_groups/7/devices/0001:01:00.1',
          'exec "$0" "$@"',
        ].join(' && ');
        const r = spawnSync(
          'unshare',
          ['--user', '--map-root-user', '--mount', 'sh', '-c', script, exe, '7'],
          {
            encoding: 'utf8',
          },
        );
        const lines = r.stdout.split('\n');
        const n = plan(text);
        expect(lines.slice(0, 2)).toEqual(['TAP version 13', `1..${n}`]);
        // every planned test is printed once, in order: the processes ran their steps when asked
        const printed = lines
          .filter((l) => /^(not )?ok \d+ /.test(l))
          .map((l) => Number(/ok (\d+)/.exec(l)![1]));
        expect(printed).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(r.stdout).toContain('ok 1 - host 1: system page size is 4096 bytes\n');
        expect(r.stdout).toMatch(/^# qemu is pid \d+: RLIMIT_MEMLOCK 4194304 bytes, CAP_IPC_LOCK dropped$/m);
        expect(r.stdout).toMatch(/^# helper is pid \d+/m);
        expect(r.stdout).toContain('# device 0001:01:00.1\n');
        // the stand-in files are no VFIO: the ioctls fail, are reported as mismatches, and the exit status says so
        expect(r.stdout).toMatch(/^not ok \d+ - line 8: VFIO_GROUP_SET_CONTAINER\(container 1\) = 0$/m);
        expect(r.stdout).toContain('#   result: got -25 ENOTTY');
        // the helper's call went through the container fd it received (EPERM in the emulator: another mm)
        expect(r.stdout).toMatch(
          /^not ok \d+ - line 13: VFIO_IOMMU_SPAPR_REGISTER_MEMORY\(.*\) = -1 EPERM$/m,
        );
        expect(r.status).toBe(1);
      },
    );
  },
);
