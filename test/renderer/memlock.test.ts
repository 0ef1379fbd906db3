/**
 * The Memlock panel's store and commands against the fake bridge: sizing the open scenario through
 * memlock.size (the result on 'memlock.done'), Stop, errors, and staleness when the file, its text or the
 * profile moves on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerAppCommands } from '../../renderer/src/composables/appCommands';
import { getCommand, runCommand } from '../../renderer/src/composables/commands';
import type { FakeBridge } from '../../renderer/src/bridge/fake';
import { useAppStore } from '../../renderer/src/stores/app';
import { useMemlockStore } from '../../renderer/src/stores/memlock';
import { useRunStore } from '../../renderer/src/stores/run';
import { useWorkspaceStore } from '../../renderer/src/stores/workspace';
import { setup, until } from './helpers';

describe('memlock sizing in the workbench', () => {
  let fake: FakeBridge;
  let off: () => void;
  beforeEach(async () => {
    fake = setup({
      files: {
        'memlock-default-64k.ts': '// sized\nconst host = createHost();\n',
        'slow.ts': '// @sizing-ms 5000\n',
        'bad.ts': 'const host = createHost();\nthrow new Error("x");\n',
      },
    });
    await useAppStore().start();
    await useWorkspaceStore().open('memlock-default-64k.ts');
    off = registerAppCommands();
  });
  afterEach(() => off());

  it('the command memlock.size (palette, Run menu, toolbar) sizes the open text under the selected profile and opens the panel', async () => {
    const m = useMemlockStore();
    expect(getCommand('memlock.size')?.id).toBe('memlock.size');
    useRunStore().kernel = '4.2';
    await runCommand('memlock.size');
    expect(m.open).toBe(true);
    expect(fake.calls.filter((c) => c.channel === 'memlock.size').at(-1)!.payload).toEqual({
      source: '// sized\nconst host = createHost();\n',
      filename: 'memlock-default-64k.ts',
      kernel: '4.2',
    });
    await m.settled();
    expect(m.running).toBe(false);
    expect(m.error).toBeNull();
    expect(m.sizing).toMatchObject({ scenario: 'memlock-default-64k.ts', kernel: '4.2' });
    expect(m.sizing!.processes[0]!.minMemlockBytes).toBe(String(65616 * 65536));
    expect(m.stale).toBeNull();
  });

  it('goes stale when the text is edited, another file is opened, or the profile changes', async () => {
    const m = useMemlockStore();
    const ws = useWorkspaceStore();
    const run = useRunStore();
    await runCommand('memlock.size');
    await m.settled();
    run.kernel = '5.x';
    expect(m.stale).toMatchObject({ reason: 'other-profile' });
    run.kernel = 'mainline';
    expect(m.stale).toBeNull();
    ws.current!.text += '// more\n';
    expect(m.stale).toMatchObject({ reason: 'edited', file: 'memlock-default-64k.ts' });
    await ws.open('slow.ts');
    expect(m.stale).toMatchObject({ reason: 'other-file', file: 'memlock-default-64k.ts' });
  });

  it('Stop ends a running sizing as cancelled; a scenario error is shown with its line', async () => {
    const m = useMemlockStore();
    const ws = useWorkspaceStore();
    await ws.open('slow.ts');
    await runCommand('memlock.size');
    await until(() => m.job?.startsWith('size-'), 'the job id');
    expect(getCommand('memlock.size')!.enabled!()).toBe(false);
    expect(getCommand('memlock.stop')!.enabled!()).toBe(true);
    await runCommand('memlock.stop');
    await m.settled();
    expect(m.sizing).toBeNull();
    expect(m.error).toMatchObject({ kind: 'cancelled' });

    await ws.open('bad.ts');
    await runCommand('memlock.size');
    await m.settled();
    expect(m.error).toMatchObject({ kind: 'runtime', line: 2 });
    await runCommand('memlock.close');
    expect(m.open).toBe(false);
  });
});

describe('memlock advice for a refused charge (composables/memlockAdvice.ts)', () => {
  // engine/memory.ts MemlockRefusal as inspect.event carries it (bigints as "0x…")
  const event = {
    seq: 8,
    kind: 'ioctl' as const,
    memlock: {
      pid: 100,
      contributor: 'regions',
      charge: 65536,
      lockedVm: 0,
      limitPages: 1,
      memlock: '0x10000',
      pageSize: 65536,
    },
  };

  it('reads the facts; anything else is not a refusal', async () => {
    const { refusalFacts } = await import('../../renderer/src/composables/memlockAdvice');
    expect(refusalFacts(event)).toEqual({
      pid: 100,
      pageSize: 65536,
      chargePages: 65536,
      lockedVmPages: 0,
      limitPages: 1,
      memlockBytes: 65536n,
    });
    expect(refusalFacts({ seq: 1, kind: 'ioctl' })).toBeNull();
    expect(refusalFacts({ seq: 1, kind: 'ioctl', memlock: { pid: 'x' } })).toBeNull();
    expect(refusalFacts(null)).toBeNull();
  });

  it('the call needs locked_vm + charge; a sizing of the same run raises the target to the whole scenario', async () => {
    const { memlockAdvice, refusalFacts } = await import('../../renderer/src/composables/memlockAdvice');
    const { fakeSizing } = await import('../../renderer/src/bridge/fake');
    const f = refusalFacts(event)!;
    const alone = memlockAdvice(f, null);
    expect(alone.callPages).toBe(65536);
    expect(alone.callBytes).toBe(4n << 30n);
    expect(alone.scenario).toBeNull();
    expect(alone.knobs.find((k) => k.id === 'ulimit')!.setting).toBe('ulimit -l 4194304');
    expect(alone.lines[0]).toBe(
      'memlock: locked_vm 0 pages (0 KiB) + this charge 65,536 pages (4,194,304 KiB) = 65,536 pages (4,194,304 KiB) > RLIMIT_MEMLOCK 1 page (64 KiB; 65536 bytes)',
    );
    const need = { ...fakeSizing('m.ts', 'mainline').processes[0]!, pid: 100 };
    const sized = memlockAdvice(f, need);
    expect(sized.scenario).toMatchObject({ pages: 65616, bytes: 65616n * 65536n });
    expect(sized.targetBytes).toBe(65616n * 65536n);
    expect(sized.knobs.map((k) => k.setting)).toEqual([
      'ulimit -l 4199424',
      'LimitMEMLOCK=4300210176',
      '<user> - memlock 4199424',
      "<memtune><hard_limit unit='KiB'>4199424</hard_limit></memtune>",
      'CAP_IPC_LOCK',
    ]);
    expect(sized.lines[1]).toContain('the whole scenario needs 4,199,424 KiB (65,616 pages');
    // another process's sizing does not apply
    expect(memlockAdvice(f, { ...need, pid: 7 }).scenario).toBeNull();
  });
});
