// The classic failure: QEMU started with the default RLIMIT_MEMLOCK of 64 KiB — one 64 KiB page — tries
// the v2 start-up of examples/qemu-v2-ddw.ts for a 4 GiB guest. Which call fails, and with what, depends
// on the kernel:
//   * 4.2: SET_IOMMU(7) itself fails with ENOMEM — attaching the group creates the default 2 GiB window
//     and charges it at once: 128 pages (a 64-page table, then a 64-page userspace view); the table alone
//     is over the 1-page limit. QEMU's fallback SET_IOMMU(2) fails the same way (the v1 default table is
//     64 pages too). Nothing about guest RAM has happened yet.
//   * mainline: SET_IOMMU(7) charges nothing (the default window is only pending); REGISTER_MEMORY of
//     guest RAM fails with ENOMEM (65536 pages) — QEMU's "Memory registering failed".
// Then the limit is computed from the §5 arithmetic, as the peak locked_vm the sequence reaches, and
// set with setrlimit (p.memlock = …): one page less still fails — at the peak step, which in mainline is
// the guest's DDW request long after start-up — and the exact figure works (equality is allowed).
//
// Spec: kernel-model.md §1.5 (the limit check), §5.1–§5.4 (what is charged, table sizes), §4.2 (attach,
// 4.2 default window), §4.8 (REGISTER), §10.1 step 5 (QEMU's v1 fallback), §10.2, §10.3 (user reports).
//
// Run:  npm run -s dmawb -- run examples/memlock-default-64k.ts --kernel mainline
//       npm run -s dmawb -- run examples/memlock-default-64k.ts --kernel 4.2

const host = createHost(); // 64 KiB system pages; the profile follows --kernel
const ML = host.kernel !== '4.2'; // 5.x accounts, registers and unregisters as mainline
function byKernel<T>(v: { '4.2': T; '5.x'?: T; mainline: T }): T {
  return v[host.kernel] ?? v.mainline; // 5.x: mainline's accounting unless given
}
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const PAGE = BigInt(host.pageSize);
const PAGE_SHIFT = Math.log2(host.pageSize);

// No `memlock` option: the process gets the kernel default soft RLIMIT_MEMLOCK, 64 KiB. The kernel
// compares in pages: 64 KiB >> 16 = 1 page may be locked.
const qemu = host.spawn({ name: 'qemu-system-ppc64', guest: { ram: 4n * GiB, passthrough: 1 } });
expectEq(qemu.memlock, 64n * KiB, 'default RLIMIT_MEMLOCK is 64 KiB = 1 page');

const GUEST_RAM = 4n * GiB;
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7fff00000000n });

/**
 * QEMU's v2 start-up (§10.1 steps 4–9) plus the guest's DDW request (step 12), stopping at the first
 * call that fails, as QEMU does. Afterwards QEMU gives up or exits: guest RAM is unregistered if it was
 * registered and the fds are closed, which returns every charge. Reports the failing step, its errno,
 * the errno of QEMU's v1 fallback when SET_IOMMU(7) failed, and the peak locked_vm.
 */
function startGuest(): { failedAt: string; errno: string; v1Fallback: string; peak: number } {
  const C = qemu.openContainer();
  const g = qemu.openGroup(G);
  let peak = 0;
  let registered = false;
  let v1Fallback = '';
  const steps: [string, () => { ret: number; errno?: string }][] = [
    ['GROUP_SET_CONTAINER', () => g.setContainer(C)],
    ['SET_IOMMU(7)', () => {
      const r = C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
      // QEMU retries with v1 when v2 is refused; report what that retry got
      if (r.ret !== 0) v1Fallback = C.setIommu(VFIO_SPAPR_TCE_IOMMU).errno ?? 'ok';
      return r;
    }],
    ['REGISTER_MEMORY', () => {
      const r = C.registerMemory({ vaddr: R, size: GUEST_RAM });
      registered = r.ret === 0;
      return r;
    }],
    ['REMOVE(0)', () => C.removeWindow({ startAddr: 0n })],
    ['TCE_CREATE 1 GiB @ 4 KiB', () => C.createWindow({ pageShift: 12, windowSize: 1n * GiB, levels: 1 })],
    ['TCE_CREATE 4 GiB @ 64 KiB (guest DDW)', () => C.createWindow({ pageShift: 16, windowSize: GUEST_RAM, levels: 1 })],
  ];
  let failedAt = '';
  let errno = '';
  for (const [name, call] of steps) {
    const r = call();
    peak = Math.max(peak, qemu.lockedVm);
    if (r.ret !== 0) {
      failedAt = name;
      errno = r.errno ?? String(r.ret);
      break;
    }
  }
  if (registered) C.unregisterMemory({ vaddr: R, size: GUEST_RAM });
  g.close();
  C.close();
  log(`memlock ${qemu.memlock} bytes (${qemu.memlock / PAGE} pages): ${failedAt ? `${failedAt} failed with ${errno}` : 'started'}; peak locked_vm ${peak} pages`);
  return { failedAt, errno, v1Fallback, peak };
}

// ---- 1. The default 64 KiB ------------------------------------------------------------------------------
const first = startGuest();
expectEq(first.failedAt, byKernel({ '4.2': 'SET_IOMMU(7)', mainline: 'REGISTER_MEMORY' }), '64 KiB: 4.2 fails at SET_IOMMU(7), mainline at REGISTER_MEMORY');
expectEq(first.errno, 'ENOMEM', '64 KiB: the failing call returns ENOMEM');
expectEq(first.v1Fallback, byKernel({ '4.2': 'ENOMEM', mainline: '' }), '4.2: QEMU\'s fallback SET_IOMMU(2) fails with ENOMEM too (64-page default table > 1 page)');
expectEq(first.peak, 0, '64 KiB: nothing was ever charged (a refused charge changes nothing)');
expectEq(qemu.lockedVm, 0, '64 KiB: locked_vm 0 after QEMU gave up');

// ---- 2. What the guest needs, from §5 --------------------------------------------------------------------
// A window's charge (§5.2): get_table_size of IODA2 in pages; 4.2 charges the userspace view
// (8 bytes per TCE, page aligned) separately, mainline returns twice the table bytes instead.
const log2 = (x: bigint): number => x.toString(2).length - 1;
const roundUp = (x: bigint, a: bigint): bigint => ((x + a - 1n) / a) * a;
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
function windowCharge(pageShift: number, windowSize: bigint, levels: number): number {
  const E = log2(windowSize) - pageShift; // log2 of the number of TCEs
  let T = max(4096n, 1n << BigInt(E + 3)); // bytes of TCEs still to place
  const D = 1n << BigInt(Math.max(Math.ceil(E / levels) + 3, PAGE_SHIFT)); // bytes per table level
  let bytes = 0n;
  for (let i = 0; i < levels; i++) {
    bytes += roundUp(T, D);
    T = max((T / D) * 8n, D);
  }
  const table = Number(bytes / PAGE);
  return ML ? 2 * table : table + Number(roundUp(8n << BigInt(E), PAGE) / PAGE);
}
const ramPages = Number(GUEST_RAM / PAGE); // REGISTER charges every system page of guest RAM, once
const defaultWindow = windowCharge(12, 2n * GiB, 1); // 4.2 only: created by SET_IOMMU, freed by REMOVE(0)
const window32 = windowCharge(12, 1n * GiB, 1);
const windowDdw = windowCharge(16, GUEST_RAM, 1);
expectEq(ramPages, 65536, 'guest RAM: 4 GiB / 64 KiB = 65536 pages');
expectEq(defaultWindow, 128, 'default 2 GiB @ 4 KiB window: 128 pages (4.2: 64 + 64 view; mainline: 2 x 64)');
expectEq(window32, 64, '1 GiB @ 4 KiB window: 64 pages');
expectEq(windowDdw, 16, '4 GiB @ 64 KiB DDW: 16 pages');
// The peak: 4.2 holds the default window and guest RAM together between REGISTER and REMOVE(0);
// mainline reaches its maximum at the end, guest RAM plus both windows.
const neededPages = ML ? ramPages + window32 + windowDdw : Math.max(defaultWindow + ramPages, ramPages + window32 + windowDdw);
expectEq(neededPages, byKernel({ '4.2': 65664, mainline: 65616 }), 'needed: 65664 pages = 4 GiB + 8 MiB (4.2) / 65616 = 4 GiB + 5 MiB (mainline)');

// ---- 3. One page short -----------------------------------------------------------------------------------
// The call that fails is the one that reaches the peak. In mainline that is the guest's DDW request at
// run time: QEMU started, the guest booted — and the failure comes long after the cause (QEMU treats a
// window it cannot create after start-up as fatal).
qemu.memlock = BigInt(neededPages - 1) * PAGE;
const short = startGuest();
expectEq(short.failedAt, byKernel({ '4.2': 'REGISTER_MEMORY', mainline: 'TCE_CREATE 4 GiB @ 64 KiB (guest DDW)' }), 'one page short: 4.2 fails at REGISTER, mainline at the guest DDW');
expectEq(short.errno, 'ENOMEM', 'one page short: ENOMEM');
expectEq(qemu.lockedVm, 0, 'one page short: locked_vm 0 after QEMU gave up');

// ---- 4. The computed limit ---------------------------------------------------------------------------------
// setrlimit(RLIMIT_MEMLOCK) to exactly the peak: locked_vm may reach the limit (the check is
// locked_vm + n > limit). In practice, add headroom (hot-plugged RAM is registered at run time too),
// or give QEMU CAP_IPC_LOCK, which skips the check while still counting.
qemu.memlock = BigInt(neededPages) * PAGE;
expectEq(qemu.memlock, byKernel({ '4.2': 4n * GiB + 8n * MiB, mainline: 4n * GiB + 5n * MiB }), 'limit = 4 GiB + 8 MiB (4.2) / 4 GiB + 5 MiB (mainline)');
const fits = startGuest();
expectEq(fits.failedAt, '', 'exact limit: every step succeeds');
expectEq(fits.peak, neededPages, 'peak locked_vm = the limit, to the page');
expectEq(qemu.lockedVm, 0, 'locked_vm 0 after tear-down');

// ---- 5. The same figure from `dmawb size`, in the units the knobs take -----------------------------------------
// `npm run -s dmawb -- size examples/memlock-default-64k.ts` runs this file once with the RLIMIT_MEMLOCK
// check off, finds the same peak (the guest DDW in mainline, REGISTER in 4.2), verifies it by rerunning
// at that limit (no refusal) and one page below (a refusal), and prints it in KiB — `ulimit -l`,
// limits.conf and libvirt's <hard_limit unit='KiB'> take KiB, systemd's LimitMEMLOCK= takes bytes. Every
// ENOMEM above says the same in its why (`dmawb run`). The `guest` option on spawn() (the 4 GiB guest,
// one passthrough device, the default PHB) adds libvirt's limit: 4255744 KiB, enough with 52 MiB (4.2) /
// 55 MiB (mainline) to spare, most of it term (a), memory/128 for the hash page table, which the kernel
// never charges.
expectEq(qemu.memlock / KiB, byKernel({ '4.2': 4202496n, mainline: 4199424n }), 'ulimit -l / limits.conf / hard_limit: 4202496 KiB (4.2) / 4199424 KiB (mainline)');
