/**
 * Snapshot infrastructure: models no kernel file. The JSON Schema of snapshot files, generated from the
 * valibot schema that validates imports.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, SnapshotSchema } from './snapshot.ts';

export function snapshotJsonSchema(): Record<string, unknown> {
  const schema = toJsonSchema(SnapshotSchema, { errorMode: 'ignore' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: `https://dmawb.invalid/schema/${SNAPSHOT_FORMAT}-v${SNAPSHOT_VERSION}.json`,
    title: 'DMA Workbench inspection snapshot',
    description:
      'State of the emulated sPAPR host at one step of a scenario run. Every bigint is a lowercase "0x…" hex string; TCE contents are maximal linear runs (entry start+i holds value + i*step, ua + i*step).',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
