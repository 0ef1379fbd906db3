/**
 * Snapshot infrastructure: models no kernel file. The snapshot file format (product.md §Snapshots): its
 * name, version and size limit, the valibot schema that is the single source of truth for it (snapshot.ts
 * validates imports strictly with it; schema/snapshot.schema.json is generated from it and
 * test/engine/snapshot.test.ts keeps the two in step), and the wire form of engine values (bigints as
 * "0x…" hex strings).
 */
import * as v from 'valibot';
import { CONTRIBUTOR_KEYS, type Contributor } from '../common/contributors.ts';
import type { Wire } from '../common/contract.ts';
import type { KernelName } from './api.ts';
import { PROFILES } from './profile.ts';

export const SNAPSHOT_FORMAT = 'dmawb-snapshot';
/** 2: KVM tables and the kvmTables/mlocked contributors (kernel-model.md §13); version 1 files still import */
export const SNAPSHOT_VERSION = 2;
/** imports larger than this are refused before parsing */
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

const HEX = /^0x[0-9a-f]+$/;
const hex = v.pipe(
  v.string(),
  v.regex(HEX, 'must be a lowercase hex string such as "0x7fff00000000"'),
  v.maxLength(34),
);
const u32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
const count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
const signed = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(-Number.MAX_SAFE_INTEGER),
  v.maxValue(Number.MAX_SAFE_INTEGER),
);
const name = v.pipe(v.string(), v.maxLength(256));

/** contributors added after version 1 (kernel-model.md §13.10): a version 1 file lacks them, they read as 0 */
const SINCE_V2: readonly Contributor[] = ['kvmTables', 'mlocked'];
const breakdown = v.strictObject(
  Object.fromEntries(
    CONTRIBUTOR_KEYS.map((k) => [k, SINCE_V2.includes(k) ? v.optional(signed, 0) : signed]),
  ) as Record<Contributor, typeof signed>,
);

const run = v.strictObject({
  start: count,
  count: v.pipe(count, v.minValue(1)),
  value: hex,
  ua: hex,
  step: count,
});

export const SnapshotSchema = v.strictObject({
  format: v.literal(SNAPSHOT_FORMAT),
  version: v.picklist([1, SNAPSHOT_VERSION]),
  app: v.strictObject({ name, version: name }),
  kernel: v.picklist(Object.keys(PROFILES) as KernelName[]),
  scenario: v.strictObject({ name, sha256: v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/))) }),
  seq: count,
  state: v.strictObject({
    hosts: v.pipe(
      v.array(
        v.strictObject({
          id: count,
          kernel: v.picklist(Object.keys(PROFILES) as KernelName[]),
          pageSize: v.picklist([4096, 65536]),
        }),
      ),
      v.maxLength(1000),
    ),
    processes: v.pipe(
      v.array(
        v.strictObject({
          pid: count,
          host: count,
          name,
          memlock: hex,
          capIpcLock: v.boolean(),
          exited: v.boolean(),
          lockedVm: signed,
          breakdown,
        }),
      ),
      v.maxLength(100000),
    ),
    regions: v.pipe(
      v.array(
        v.strictObject({
          pid: count,
          id: count,
          ua: hex,
          size: hex,
          entries: count,
          used: count,
          mapped: count,
          pageShift: v.optional(u32),
          containers: v.array(count),
        }),
      ),
      v.maxLength(100000),
    ),
    groups: v.pipe(
      v.array(
        v.strictObject({
          id: count,
          name,
          phb: count,
          container: v.nullable(count),
          owner: v.picklist(['kernel', 'vfio']),
        }),
      ),
      v.maxLength(100000),
    ),
    containers: v.pipe(
      v.array(
        v.strictObject({
          id: count,
          pid: v.nullable(count),
          fdOpen: v.boolean(),
          iommu: v.picklist(['none', 'v1', 'v2']),
          enabled: v.boolean(),
          defaultWindowPending: v.boolean(),
          groups: v.array(count),
          mm: v.nullable(count),
        }),
      ),
      v.maxLength(100000),
    ),
    windows: v.pipe(
      v.array(
        v.strictObject({
          container: count,
          slot: v.picklist([0, 1]),
          table: count,
          startAddr: hex,
          pageShift: v.pipe(u32, v.maxValue(63)),
          size: hex,
          levels: u32,
          entries: count,
          offset: count,
          borrowed: v.boolean(),
          runs: v.pipe(v.array(run), v.maxLength(5_000_000)),
        }),
      ),
      v.maxLength(100000),
    ),
    // version 2: KVM TCE tables, guest-visible entries as runs (ua always 0x0)
    kvmTables: v.optional(
      v.pipe(
        v.array(
          v.strictObject({
            id: count,
            pid: count,
            vm: count,
            liobn: hex,
            pageShift: v.pipe(u32, v.maxValue(63)),
            offset: hex,
            size: hex,
            chargedPages: count,
            links: v.array(v.strictObject({ container: count, slot: v.picklist([0, 1]) })),
            runs: v.pipe(v.array(run), v.maxLength(5_000_000)),
          }),
        ),
        v.maxLength(100000),
      ),
    ),
  }),
  events: v.optional(
    v.pipe(
      v.array(
        v.looseObject({
          seq: count,
          kind: v.picklist(['ioctl', 'action', 'hcall', 'syscall', 'expect', 'log']),
        }),
      ),
      v.maxLength(5_000_000),
    ),
  ),
});

export type SnapshotJson = v.InferOutput<typeof SnapshotSchema>;

export const toHex = (b: bigint): string => '0x' + b.toString(16);

/** JSON-ready copy of any value with bigints as hex strings (events, deltas): its wire form */
export function jsonSafe<T>(value: T): Wire<T> {
  return toWire(value) as Wire<T>;
}

function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return toHex(value);
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) if (x !== undefined) out[k] = toWire(x);
    return out;
  }
  return value;
}
