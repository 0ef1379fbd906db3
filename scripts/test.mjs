#!/usr/bin/env node
// The project's test command (`npm test`): type-check, lint and check formatting, then run vitest, then
// print one closing line
//
//   N passed, N failed, N skipped
//
// computed from vitest's JSON report. A failed type-check, lint or format check counts as one failed
// test; vitest still runs so its results are not hidden. Exits non-zero if anything failed. Extra arguments go to
// vitest: `npm test -- test/skeleton`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const isWindows = process.platform === 'win32';

/** Runs a command in the repository root with inherited stdio; returns its exit status (1 if it could not start). */
function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: isWindows });
  if (result.error) {
    console.error(`test: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

let passed = 0;
let failed = 0;
let skipped = 0;

// 1. Type-check, lint and the format check (`npm run typecheck`, `lint`, `format:check`); each that fails
//    counts as one failed test, and the rest still run so nothing is hidden.
for (const script of ['typecheck', 'lint', 'format:check']) {
  if (run(isWindows ? 'npm.cmd' : 'npm', ['run', '--silent', script]) !== 0) {
    console.error(`test: ${script} failed (counted as 1 failed test)`);
    failed += 1;
  }
}

// 2. Vitest with the default reporter for people and a JSON report for this script.
const reportDir = mkdtempSync(join(tmpdir(), 'dmawb-vitest-'));
const reportFile = join(reportDir, 'report.json');
try {
  const vitest = run(process.execPath, [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...process.argv.slice(2),
  ]);

  let report;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch (error) {
    console.error(`test: no usable vitest JSON report (${error.message})`);
  }

  let vitestFailed = 0;
  if (report) {
    passed += report.numPassedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    vitestFailed = report.numFailedTests ?? 0;
    // A test file that fails to load (syntax error, failing import, failing beforeAll) has no
    // failed tests of its own: count each such file once.
    for (const file of report.testResults ?? []) {
      const anyTestFailed = (file.assertionResults ?? []).some((t) => t.status === 'failed');
      if (file.status === 'failed' && !anyTestFailed) vitestFailed += 1;
    }
  }
  // Vitest failed for a reason the report does not show (crash, unhandled error, no test files).
  if (vitest !== 0 && vitestFailed === 0) {
    console.error(`test: vitest exited with status ${vitest} (counted as 1 failed test)`);
    vitestFailed = 1;
  }
  failed += vitestFailed;
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
