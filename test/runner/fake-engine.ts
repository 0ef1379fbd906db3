/**
 * A small stand-in for the engine (engine/session.ts, engine/facade.ts) with the same object shapes as
 * scenario-api.md §2: classes with methods, readonly getters and the two settable Process properties.
 * It records what reached it (with session.line), so tests can check what crossed the boundary without
 * depending on kernel behaviour. The real engine is exercised by the conformance tests.
 */
import { ScenarioError } from '../../engine/api.ts';
import type { RunEvent } from '../../engine/events.ts';
import type { RunSession } from '../../runner/execute.ts';

export interface Received {
  method: string;
  args: unknown[];
  line: number | undefined;
}

function big(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'number')
    throw new ScenarioError(`${what} = ${v} is not a safe integer: write it as a bigint literal`);
  throw new ScenarioError(`${what} must be a bigint`);
}

export class FakeSession implements RunSession {
  readonly events: RunEvent[] = [];
  line: number | undefined;
  readonly expectations = { passed: 0, failed: 0 };
  readonly peakLockedVm: Record<string, number> = {};
  readonly received: Received[] = [];
  seq = 0;
  nextPid = 100;

  constructor(readonly opts: { record?: boolean } = {}) {}

  note(method: string, args: unknown[]): void {
    if (this.opts.record !== false) this.received.push({ method, args, line: this.line });
  }

  action(pid: number, op: string, args: Record<string, bigint | number | string | boolean> = {}): void {
    const e: RunEvent = {
      seq: ++this.seq,
      kind: 'action',
      pid,
      op,
      args,
      lockedVm: { [pid]: 0 },
      breakdown: {},
      explain: op,
      deltas: {},
    };
    if (this.line !== undefined) e.line = this.line;
    this.events.push(e);
  }

  createHost(opts: { kernel?: string; pageSize?: number } = {}): FakeHost {
    this.note('createHost', [opts]);
    if (opts === null || typeof opts !== 'object')
      throw new ScenarioError('createHost: the argument must be an object');
    return new FakeHost(this, opts.kernel ?? 'mainline', opts.pageSize ?? 65536);
  }

  expect(ok: boolean, label: string, actual: string, expected: string): void {
    if (ok) this.expectations.passed++;
    else this.expectations.failed++;
    const e: RunEvent = { seq: ++this.seq, kind: 'expect', ok, label, actual, expected };
    if (this.line !== undefined) e.line = this.line;
    this.events.push(e);
  }

  log(text: string): void {
    const e: RunEvent = { seq: ++this.seq, kind: 'log', text };
    if (this.line !== undefined) e.line = this.line;
    this.events.push(e);
  }
}

export class FakeHost {
  constructor(
    readonly s: FakeSession,
    readonly kernel: string,
    readonly pageSize: number,
  ) {}
  addPhb(): FakePhb {
    this.s.note('addPhb', []);
    return new FakePhb(this);
  }
  spawn(opts: { name?: string; memlock?: bigint } = {}): FakeProcess {
    this.s.note('spawn', [opts]);
    const p = new FakeProcess(this, this.s.nextPid++, opts.name ?? 'proc');
    this.s.action(p.pid, 'spawn');
    return p;
  }
}

export class FakePhb {
  readonly id = 0;
  private groups = 0;
  constructor(readonly host: FakeHost) {}
  addGroup(): FakeGroup {
    return new FakeGroup(++this.groups);
  }
}

export class FakeGroup {
  constructor(readonly id: number) {}
  get name(): string {
    return `group${this.id}`;
  }
}

export class FakeProcess {
  memlockValue = 65536n;
  cap = false;
  constructor(
    readonly host: FakeHost,
    readonly pid: number,
    readonly name: string,
  ) {}
  get lockedVm(): number {
    return 0;
  }
  get lockedVmBytes(): bigint {
    return 0n;
  }
  get memlock(): bigint {
    return this.memlockValue;
  }
  set memlock(v: bigint) {
    this.host.s.note('set memlock', [v]);
    this.memlockValue = big(v, 'memlock');
    this.host.s.action(this.pid, 'setrlimit', { memlock: this.memlockValue });
  }
  get capIpcLock(): boolean {
    return this.cap;
  }
  set capIpcLock(v: boolean) {
    this.host.s.note('set capIpcLock', [v]);
    this.cap = Boolean(v);
  }
  mmap(opts: { size: bigint; at?: bigint }): bigint {
    this.host.s.note('mmap', [opts]);
    big(opts.size, 'mmap: size');
    return opts.at === undefined ? 0x7fff00000000n : big(opts.at, 'mmap: at');
  }
  munmap(vaddr: bigint, size: bigint): void {
    this.host.s.note('munmap', [vaddr, size]);
  }
  hpa(vaddr: bigint): bigint {
    return big(vaddr, 'hpa: vaddr') + 0x100000000n;
  }
  pins(): number {
    return 0;
  }
  regions(): { ua: bigint; size: bigint; entries: number; used: number; mapped: number }[] {
    return [{ ua: 0x7fff00000000n, size: 1n << 32n, entries: 65536, used: 0, mapped: 1 }];
  }
  openContainer(): FakeContainer {
    this.host.s.note('openContainer', []);
    this.host.s.action(this.pid, 'open');
    return new FakeContainer(this);
  }
  openGroup(g: unknown): FakeGroupFd {
    this.host.s.note('openGroup', [g]);
    if (!(g instanceof FakeGroup)) throw new ScenarioError('openGroup: not an IOMMU group');
    return new FakeGroupFd(this, g);
  }
  adopt(c: unknown): FakeContainer {
    this.host.s.note('adopt', [c]);
    if (!(c instanceof FakeContainer)) throw new ScenarioError('adopt: not a container');
    return new FakeContainer(this);
  }
  exit(): void {
    this.host.s.note('exit', []);
  }
}

export class FakeGroupFd {
  ret = 0;
  errno: string | undefined;
  constructor(
    readonly proc: FakeProcess,
    readonly group: FakeGroup,
  ) {}
  getStatus(): { ret: number; out: { flags: number }; explain: string } {
    return { ret: 0, out: { flags: 1 }, explain: 'viable' };
  }
  setContainer(c: unknown): { ret: number; errno?: string; explain: string } {
    this.proc.host.s.note('setContainer', [c]);
    if (!(c instanceof FakeContainer)) throw new ScenarioError('setContainer: not a container of this host');
    return { ret: 0, explain: 'attached' };
  }
  unsetContainer(): { ret: number; explain: string } {
    return { ret: 0, explain: 'detached' };
  }
  openDevice(): object {
    return { close() {} };
  }
  close(): void {}
}

/** The trivial method of the benchmark: `mapDma` answers at once with a constant result. */
export class FakeContainer {
  readonly result = { ret: 0, explain: 'mapped (fake engine)' };
  constructor(readonly proc: FakeProcess) {}
  get defaultWindowPending(): boolean {
    return false;
  }
  mapDma(args: { vaddr: unknown; iova: unknown; size: unknown }): { ret: number; explain: string } {
    const s = this.proc.host.s;
    s.note('mapDma', [args]);
    if (args === null || typeof args !== 'object')
      throw new ScenarioError('mapDma: the argument must be an object');
    big(args.vaddr, 'mapDma: vaddr');
    return this.result;
  }
  setIommu(type: number): { ret: number; errno?: string; explain: string } {
    this.proc.host.s.note('setIommu', [type]);
    return type === 7 || type === 2
      ? { ret: 0, explain: 'ok' }
      : { ret: -22, errno: 'EINVAL', explain: 'bad type' };
  }
  enable(): { ret: number; errno?: string; explain: string } {
    this.proc.host.s.note('enable', []);
    return { ret: -16, errno: 'EBUSY', explain: 'already enabled' };
  }
  createWindow(args: { pageShift: number }): { ret: number; out: { startAddr: bigint }; explain: string } {
    this.proc.host.s.note('createWindow', [args]);
    return { ret: 0, out: { startAddr: 1n << 59n }, explain: 'created' };
  }
  getInfo(): { ret: number; out: object; explain: string } {
    return {
      ret: 0,
      out: {
        flags: 1,
        dma32WindowStart: 0n,
        dma32WindowSize: 0x80000000n,
        ddw: { pgsizes: 0x1011000n, maxDynamicWindowsSupported: 2, levels: 5 },
      },
      explain: 'info',
    };
  }
  ioctl(request: unknown, args: unknown): { ret: number; explain: string } {
    this.proc.host.s.note('ioctl', [request, args]);
    return { ret: 0, explain: 'raw' };
  }
  window(slot: number): object | null {
    return slot === 0
      ? { slot: 0, startAddr: 0n, pageShift: 12, size: 0x80000000n, levels: 1, entries: 524288 }
      : null;
  }
  tce(_slot: number, index: number): { value: bigint; hpa: bigint; perm: number; ua: bigint } {
    return { value: 0x100000003n + BigInt(index) * 0x1000n, hpa: 0x100000000n, perm: 3, ua: 0n };
  }
  close(): void {
    this.proc.host.s.note('close', []);
  }
}
