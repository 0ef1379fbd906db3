/**
 * Collects what one event changed, so that the event can carry deltas (events.ts) from which the state
 * after any event can be rebuilt. The kernel objects call touch*() as they change; the facade drains the
 * collector once per event.
 */
import type { TceRun } from './events.ts';

export class Changes {
  tces: TceRun[] = [];
  readonly windows = new Set<string>(); // `${container}:${slot}`
  readonly regions = new Set<string>(); // `${pid}:${id}`
  readonly containers = new Set<number>();
  readonly groups = new Set<number>();
  readonly processes = new Set<number>();

  /** records that slots [start, start+count) of a table now hold value + i*step / ua + i*step */
  tceRun(container: number, slot: number, table: number, start: number, count: number, value: number, ua: number, step: number): void {
    if (count <= 0) return;
    const last = this.tces[this.tces.length - 1];
    if (
      last && last.container === container && last.slot === slot && last.table === table &&
      last.start + last.count === start && last.step === step &&
      last.value + BigInt(last.count * step) === BigInt(value) &&
      (last.ua === 0n && ua === 0 ? true : last.ua + BigInt(last.count * step) === BigInt(ua))
    ) {
      last.count += count;
      return;
    }
    this.tces.push({ container, slot, table, start, count, value: BigInt(value), ua: BigInt(ua), step });
  }

  /** records that slots [start, start+count) were cleared */
  tceClear(container: number, slot: number, table: number, start: number, count: number): void {
    if (count <= 0) return;
    const last = this.tces[this.tces.length - 1];
    if (last && last.container === container && last.slot === slot && last.table === table &&
      last.value === 0n && last.start + last.count === start) {
      last.count += count;
      return;
    }
    this.tces.push({ container, slot, table, start, count, value: 0n, ua: 0n, step: 0 });
  }

  touchWindow(container: number, slot: number): void {
    this.windows.add(`${container}:${slot}`);
  }

  touchRegion(pid: number, id: number): void {
    this.regions.add(`${pid}:${id}`);
  }

  touchContainer(id: number): void {
    this.containers.add(id);
  }

  touchGroup(id: number): void {
    this.groups.add(id);
  }

  touchProcess(pid: number): void {
    this.processes.add(pid);
  }

  get empty(): boolean {
    return this.tces.length === 0 && this.windows.size === 0 && this.regions.size === 0 &&
      this.containers.size === 0 && this.groups.size === 0 && this.processes.size === 0;
  }

  clear(): void {
    this.tces = [];
    this.windows.clear();
    this.regions.clear();
    this.containers.clear();
    this.groups.clear();
    this.processes.clear();
  }
}
