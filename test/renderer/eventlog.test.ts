import { beforeEach, describe, expect, it } from 'vitest';
import { useAppStore } from '../../renderer/src/stores/app';
import { useEventLogStore } from '../../renderer/src/stores/eventLog';
import { useRunStore } from '../../renderer/src/stores/run';
import { setup, until } from './helpers';
import { nextTick } from 'vue';

describe('event log filters', () => {
  beforeEach(async () => {
    setup({ files: { 'qemu-v2-ddw.ts': '// @events 40\n' } });
    await useAppStore().start();
    const run = useRunStore();
    await run.start();
    await until(() => run.status === 'done', 'the run');
    await nextTick();
  });

  const seqs = () => {
    const log = useEventLogStore();
    const run = useRunStore();
    return Array.from({ length: log.visible.length }, (_, k) => run.seqAt(log.visible.at(k)));
  };

  it('shows every row without filters, and lists the ops and errnos seen', () => {
    const log = useEventLogStore();
    expect(log.visible.length).toBe(40);
    expect(log.ops).toContain('VFIO_IOMMU_MAP_DMA');
    expect(log.errnos).toEqual(['EBUSY']);
  });

  it('filters by op, errno, pid, problems and text', async () => {
    const log = useEventLogStore();
    log.filters.errno = 'EBUSY';
    await nextTick();
    expect(seqs()).toEqual([7, 14, 21, 28, 35]);
    log.reset();
    log.filters.problemsOnly = true;
    await nextTick();
    expect(seqs()).toEqual([7, 11, 14, 21, 22, 28, 33, 35]);
    log.reset();
    log.filters.op = 'VFIO_IOMMU_SPAPR_TCE_CREATE';
    await nextTick();
    expect(seqs()).toEqual([2]);
    log.reset();
    log.filters.pid = 1;
    await nextTick();
    expect(seqs()).not.toContain(11); // expectations have no pid
    log.reset();
    log.filters.text = 'ebusy';
    await nextTick();
    await until(() => !log.searching, 'the host search');
    expect(seqs()).toEqual([7, 14, 21, 28, 35]);
    // the host searches the arguments and explanations too, which the renderer does not keep
    const run = useRunStore();
    const arg = (await run.fetchRow(1))!.args.split(' ')[0]!;
    expect(arg.length).toBeGreaterThan(0);
    log.filters.text = arg.toUpperCase();
    await nextTick();
    await until(() => !log.searching, 'the host search');
    expect(seqs()).toContain(2);
  });

  it('steps to the next and previous visible row', async () => {
    const log = useEventLogStore();
    log.filters.problemsOnly = true;
    await nextTick();
    expect(log.neighbour(null, 1)).toBe(7);
    expect(log.neighbour(null, -1)).toBe(35);
    expect(log.neighbour(7, 1)).toBe(11);
    expect(log.neighbour(8, 1)).toBe(11); // from a row the filter hides
    expect(log.neighbour(8, -1)).toBe(7);
    expect(log.neighbour(35, 1)).toBeNull();
    expect(log.neighbour(7, -1)).toBeNull();
  });

  it('extends the filtered list while a run streams', async () => {
    const log = useEventLogStore();
    log.filters.errno = 'EBUSY';
    await nextTick();
    const run = useRunStore();
    run._append([
      {
        seq: 41,
        kind: 'ioctl',
        pid: 1,
        op: 'X',
        args: '',
        result: '-16 EBUSY',
        errno: 'EBUSY',
        failed: true,
        lockedVm: {},
        explain: '',
      },
    ]);
    await nextTick();
    expect(seqs()).toEqual([7, 14, 21, 28, 35, 41]);
  });
});
