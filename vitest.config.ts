import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  plugins: [vue()],
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Child processes rather than threads: test files that start workers, Chromium or WASM
    // sandboxes stay isolated, and a crashing file cannot take the runner down with it.
    pool: 'forks',
  },
});
