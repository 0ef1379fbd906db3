#!/usr/bin/env node
// `npm run serve`: browser mode (server/main.ts) run from source through tsx, like bin/dmawb.mjs.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.node.json', import.meta.url)) });

try {
  await import(new URL('../server/main.ts', import.meta.url).href);
} catch (error) {
  console.error('serve: could not start:', error);
  process.exitCode = 1;
}
