/**
 * The knobs that set RLIMIT_MEMLOCK, each in the unit it takes (research/memlock-sizing.md §4): `ulimit -l`
 * and limits.conf count KiB, systemd's LimitMEMLOCK= counts bytes, libvirt's <hard_limit unit='KiB'>
 * counts KiB. The engine's advice lines (engine/memlock.ts), `dmawb size` and the workbench's Memlock
 * panel and event detail all take them from here, so a knob reads the same everywhere. Imports nothing.
 */

export interface MemlockKnob {
  id: 'ulimit' | 'systemd' | 'limits.conf' | 'libvirt' | 'cap_ipc_lock';
  /** where the knob lives */
  label: string;
  /** the unit the value is in ('' for CAP_IPC_LOCK) */
  unit: 'KiB' | 'bytes' | '';
  /** the figure alone */
  value: string;
  /** what to paste: the command or the configuration line with the figure in it */
  setting: string;
  /** one line of context */
  note: string;
}

/**
 * The knobs for a soft RLIMIT_MEMLOCK of `bytes`. The kernel compares whole pages (rlimit >> PAGE_SHIFT),
 * so a byte count that is a whole number of system pages is also a whole number of KiB.
 */
export function memlockKnobList(bytes: bigint): MemlockKnob[] {
  const k = (bytes / 1024n).toString();
  return [
    {
      id: 'ulimit',
      label: 'ulimit -l',
      unit: 'KiB',
      value: k,
      setting: `ulimit -l ${k}`,
      note: 'KiB, in the shell that starts the process',
    },
    {
      id: 'systemd',
      label: 'systemd LimitMEMLOCK=',
      unit: 'bytes',
      value: bytes.toString(),
      setting: `LimitMEMLOCK=${bytes}`,
      note: 'bytes, in the unit that starts it',
    },
    {
      id: 'limits.conf',
      label: '/etc/security/limits.conf',
      unit: 'KiB',
      value: k,
      setting: `<user> - memlock ${k}`,
      note: 'KiB, soft and hard',
    },
    {
      id: 'libvirt',
      label: 'libvirt <memtune>',
      unit: 'KiB',
      value: k,
      setting: `<memtune><hard_limit unit='KiB'>${k}</hard_limit></memtune>`,
      note: "libvirt then sets it as QEMU's limit; it also caps the guest's memory cgroup",
    },
    {
      id: 'cap_ipc_lock',
      label: 'CAP_IPC_LOCK',
      unit: '',
      value: '',
      setting: 'CAP_IPC_LOCK',
      note: 'charges still counted, never refused',
    },
  ];
}

/** one knob as a line of text: "ulimit -l 4199424 (KiB, in the shell that starts the process)" */
export function knobText(kn: MemlockKnob): string {
  switch (kn.id) {
    case 'ulimit':
      return `${kn.setting} (${kn.note})`;
    case 'systemd':
      return `systemd ${kn.setting} (${kn.note})`;
    case 'limits.conf':
      return `/etc/security/limits.conf "${kn.setting}" (${kn.note})`;
    case 'libvirt':
      return `libvirt ${kn.setting} (${kn.note})`;
    case 'cap_ipc_lock':
      return `or CAP_IPC_LOCK (${kn.note})`;
  }
}
