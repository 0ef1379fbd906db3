/**
 * Engine infrastructure: models no kernel file.
 * Collects what one event changed, so that the event can carry deltas (events.ts) from which the state
 * after any event can be rebuilt. The kernel objects call touch*() with themselves as they change; the
 * recorder drains the collector once per event. References, not ids, so draining needs no lookups.
 */
import type { KvmTceRun, TceRun } from './events.ts';
import type { Region } from './memory.ts';
import type { Group } from './pci-ioda.ts';

/** what the collector needs of a container (kernel.ts Container) */
export interface ContainerLike {
  readonly id: number;
}

/** what the collector needs of a KVM TCE table (kvm/book3s-64-vio.ts KvmTceTable) */
export interface KvmTableLike {
  readonly id: number;
}

export class Changes {
  tces: TceRun[] = [];
  kvmTces: KvmTceRun[] = [];
  readonly kvmTables = new Set<KvmTableLike>();
  /** windows by container and slot */
  readonly windows = new Map<number, { container: ContainerLike; slot: number }>();
  readonly regions = new Set<Region>();
  readonly containers = new Set<ContainerLike>();
  readonly groups = new Set<Group>();
  readonly processes = new Set<number>();
  /** bumped whenever any locked_vm counter may have changed */
  accountingVersion = 0;

  /** records that slots [start, start+count) of a table now hold value + i*step / ua + i*step */
  tceRun(
    container: number,
    slot: number,
    table: number,
    start: number,
    count: number,
    value: number,
    ua: number,
    step: number,
  ): void {
    if (count <= 0) return;
    const last = this.tces[this.tces.length - 1];
    if (
      last &&
      last.container === container &&
      last.slot === slot &&
      last.table === table &&
      last.start + last.count === start &&
      last.step === step &&
      last.value + last.count * step === value &&
      (last.ua === 0 && ua === 0 ? true : last.ua + last.count * step === ua)
    ) {
      last.count += count;
      return;
    }
    this.tces.push({ container, slot, table, start, count, value, ua, step });
  }

  /** records that slots [start, start+count) were cleared */
  tceClear(container: number, slot: number, table: number, start: number, count: number): void {
    if (count <= 0) return;
    const last = this.tces[this.tces.length - 1];
    if (
      last &&
      last.container === container &&
      last.slot === slot &&
      last.table === table &&
      last.value === 0 &&
      last.start + last.count === start
    ) {
      last.count += count;
      return;
    }
    this.tces.push({ container, slot, table, start, count, value: 0, ua: 0, step: 0 });
  }

  /**
   * Guest-visible entry `index` of a KVM table now holds `value`. Runs advance by the table's page size
   * (`step`, the normal form of state.ts: TCEs of consecutive guest pages); a clear has step 0.
   */
  kvmTce(kvmTable: number, index: number, value: bigint, step: number): void {
    const s = value === 0n ? 0 : step;
    const last = this.kvmTces[this.kvmTces.length - 1];
    if (
      last &&
      last.kvmTable === kvmTable &&
      last.start + last.count === index &&
      last.step === s &&
      last.value + BigInt(last.count * s) === value
    ) {
      last.count++;
      return;
    }
    this.kvmTces.push({ kvmTable, start: index, count: 1, value, step: s });
  }

  touchKvmTable(t: KvmTableLike): void {
    this.kvmTables.add(t);
  }

  touchWindow(container: ContainerLike, slot: number): void {
    this.windows.set(container.id * 2 + slot, { container, slot });
  }

  touchRegion(r: Region): void {
    this.regions.add(r);
  }

  touchContainer(c: ContainerLike): void {
    this.containers.add(c);
  }

  touchGroup(g: Group): void {
    this.groups.add(g);
  }

  touchProcess(pid: number): void {
    this.processes.add(pid);
    this.accountingVersion++;
  }

  get empty(): boolean {
    return (
      this.tces.length === 0 &&
      this.kvmTces.length === 0 &&
      this.kvmTables.size === 0 &&
      this.windows.size === 0 &&
      this.regions.size === 0 &&
      this.containers.size === 0 &&
      this.groups.size === 0 &&
      this.processes.size === 0
    );
  }

  clear(): void {
    // most events touch one or two collections: clearing empty ones costs more than the test
    if (this.tces.length) this.tces = [];
    if (this.kvmTces.length) this.kvmTces = [];
    if (this.kvmTables.size) this.kvmTables.clear();
    if (this.windows.size) this.windows.clear();
    if (this.regions.size) this.regions.clear();
    if (this.containers.size) this.containers.clear();
    if (this.groups.size) this.groups.clear();
    if (this.processes.size) this.processes.clear();
  }
}
