/** Writes schema/snapshot.schema.json from the valibot schema in engine/snapshot-format.ts (npm run gen:schema). */
import { writeFileSync } from 'node:fs';
import { snapshotJsonSchema } from '../engine/snapshot-schema.ts';

writeFileSync(
  new URL('../schema/snapshot.schema.json', import.meta.url),
  JSON.stringify(snapshotJsonSchema(), null, 2) + '\n',
);
