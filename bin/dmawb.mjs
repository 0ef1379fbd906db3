#!/usr/bin/env node
// Launcher for the `dmawb` command line: runs cli/dmawb.ts from source through tsx, so nothing has to
// be built first (scenario-api.md §4). The CLI module does its work when imported.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// Pin our own tsconfig so the user's working directory (and any tsconfig there) does not matter.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.node.json', import.meta.url)) });

try {
  await import(new URL('../cli/dmawb.ts', import.meta.url).href);
} catch (error) {
  // Exit code 2 means "could not complete" in the CLI contract; 1 would claim a failed expectation.
  console.error('dmawb: internal error:', error);
  process.exitCode = 2;
}
