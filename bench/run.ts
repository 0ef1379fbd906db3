/**
 * npm run bench — every benchmark of product.md §Performance budgets, each reported as medians and as a
 * ratio against a baseline measured in the same run. Each benchmark runs in its own process so that one
 * benchmark's heap does not disturb the next.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const benches = [
  'engine.ts',
  'runner-calls.ts',
  'snapshot.ts',
  'scale.ts',
  'renderer/run.ts',
  'renderer/heap.ts',
].filter((f) => existsSync(here(f)));
let failed = 0;
for (const b of benches) {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', here(b), ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    failed++;
    console.error(`bench ${b} exited with ${r.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
