import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

// Layout and traps: see the toolchain notes. Vite 8 is Rolldown-based: `rolldownOptions`, not
// `rollupOptions`. Every entry is explicit because electron-vite's defaults look under `src/`.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        // `worker` gives a stable out/main/worker.js for `new Worker(join(import.meta.dirname, 'worker.js'))`.
        input: {
          index: resolve(__dirname, 'main/index.ts'),
          worker: resolve(__dirname, 'host/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload must be one CommonJS file that requires nothing from node_modules.
      externalizeDeps: false,
      lib: {
        entry: resolve(__dirname, 'preload/index.ts'),
        formats: ['cjs'],
      },
      rolldownOptions: {
        output: {
          entryFileNames: '[name].cjs',
        },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    plugins: [vue()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      emptyOutDir: true,
      minify: true,
      rolldownOptions: {
        input: resolve(__dirname, 'renderer/index.html'),
      },
    },
  },
});
