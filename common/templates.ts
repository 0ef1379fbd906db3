/**
 * Starting points for *New scenario* (command `new-scenario`): each one runs to the end with every
 * expectation passing under both kernel profiles (test/runner/templates.test.ts runs them).
 */
export interface ScenarioTemplate {
  id: string;
  label: string;
  text: string;
}

export const TEMPLATES: ScenarioTemplate[] = [
  {
    id: 'qemu-v2-ddw',
    label: 'QEMU on v2 + DDW',
    text: `// QEMU's start-up on the v2 backend with a 64-bit DDW window (kernel-model.md §10.1).
const host = createHost(); // the profile follows the kernel selector (or --kernel)
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const qemu = host.spawn({ name: 'qemu', memlock: 8n * GiB });
const GUEST_RAM = 4n * GiB;
const R = qemu.mmap({ size: GUEST_RAM, at: 0x7fff00000000n });

const C = qemu.openContainer();
expectOk(qemu.openGroup(G).setContainer(C), 'SET_CONTAINER');
expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'SET_IOMMU(v2)');
expectOk(C.registerMemory({ vaddr: R, size: GUEST_RAM }), 'REGISTER_MEMORY: guest RAM, charged once');
log(\`locked_vm after REGISTER: \${qemu.lockedVm} pages\`);

// the guest asks for a 64 KiB-page window over all of its RAM at 1<<59
const w = C.createWindow({ pageShift: 16, windowSize: GUEST_RAM, levels: 1 });
expectOk(w, 'TCE_CREATE');
const DDW = w.out!.startAddr;
expectOk(C.mapDma({ vaddr: R, iova: DDW, size: GUEST_RAM, flags: RW }), 'MAP all RAM through the DDW window');
log(\`locked_vm at the end: \${qemu.lockedVm} pages\`);
`,
  },
  {
    id: 'qemu-v1',
    label: 'QEMU on v1',
    text: `// The v1 backend: ENABLE charges the whole 32-bit window, each MAP pins (kernel-model.md §4.4, §5.3).
const host = createHost();
const G = host.addPhb({ model: 'IODA1' }).addGroup(); // IODA1: 5.x refuses v1 on an IODA2 PE (§7.2, §9.2)
const qemu = host.spawn({ name: 'qemu', memlock: 2n * GiB + 16n * MiB });
const R = qemu.mmap({ size: 1n * GiB, at: 0x7fff00000000n });

const C = qemu.openContainer();
expectOk(qemu.openGroup(G).setContainer(C), 'SET_CONTAINER');
expectOk(C.setIommu(VFIO_SPAPR_TCE_IOMMU), 'SET_IOMMU(v1)');
expectOk(C.enable(), 'ENABLE: charges 2 GiB of the window');
log(\`locked_vm after ENABLE: \${qemu.lockedVm} pages\`);
expectOk(C.mapDma({ vaddr: R, iova: 0x10000n, size: 0x10000n, flags: RW }), 'MAP 64 KiB');
expectErrno(C.mapDma({ vaddr: R, iova: 1n << 59n, size: 0x10000n, flags: RW }), 'ENXIO', 'no DDW on v1');
`,
  },
  {
    id: 'memlock-failure',
    label: 'memlock failure (default 64 KiB limit)',
    text: `// QEMU under the default RLIMIT_MEMLOCK of 64 KiB: where v2 start-up fails (kernel-model.md §1.5, §5).
const host = createHost();
const G = host.addPhb({ model: 'IODA2' }).addGroup();
const qemu = host.spawn({ name: 'qemu' }); // no memlock: the 64 KiB default
const R = qemu.mmap({ size: 4n * GiB, at: 0x7fff00000000n });

const C = qemu.openContainer();
expectOk(qemu.openGroup(G).setContainer(C), 'SET_CONTAINER');
if (host.kernel === '4.2') {
  // 4.2 creates and charges the default window when the group attaches
  expectErrno(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'ENOMEM', '4.2: SET_IOMMU(v2) -> ENOMEM');
} else {
  expectOk(C.setIommu(VFIO_SPAPR_TCE_v2_IOMMU), 'mainline: SET_IOMMU(v2) charges nothing');
  expectErrno(C.registerMemory({ vaddr: R, size: 4n * GiB }), 'ENOMEM', 'REGISTER_MEMORY -> ENOMEM');
}
`,
  },
  {
    id: 'empty',
    label: 'Empty',
    text: `// A new scenario: the ioctl sequence of your VMM, step by step (types/scenario.d.ts has the API).
const host = createHost();
`,
  },
];
