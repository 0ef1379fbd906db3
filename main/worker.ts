/**
 * Entry of the worker_threads worker that will host the engine and the scenario runner, so a long or
 * runaway run never blocks the window. Built to a stable `out/main/worker.js`.
 *
 * Placeholder: the worker host replaces this file.
 */
export {}
