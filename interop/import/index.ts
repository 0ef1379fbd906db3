/**
 * `dmawb import` as a pure function (scenario-api.md §4.2): capture texts in, one scenario text out, with
 * the problems (file and line) and the skipped-line counts. No Node APIs: the CLI (cli/import.ts) and the
 * workbench host both call this.
 */
import { parseCapture } from './parse.ts';
import { importCaptures, type ImportOptions, type ImportResult } from './scenario.ts';

export { parseCapture, type ParsedCapture, type Problem, type Rec, type At } from './parse.ts';
export {
  importCaptures,
  mergeRecords,
  IMPORT_KERNELS,
  type ImportKernel,
  type ImportOptions,
  type ImportResult,
} from './scenario.ts';

/** the largest capture file `dmawb import` reads (product.md: imports are size-limited): 256 MiB holds a busy
 * guest's trace of a million MAP/UNMAP calls with their notify and hypercall lines (about 120 MiB) */
export const CAPTURE_MAX_BYTES = 256 * 1024 * 1024;

export interface CaptureText {
  /** the name the scenario's labels use (the path as given, or the uploaded file's name) */
  file: string;
  text: string;
}

export function importCaptureTexts(inputs: readonly CaptureText[], opts: ImportOptions = {}): ImportResult {
  return importCaptures(
    inputs.map((c) => parseCapture(c.file, c.text)),
    opts,
  );
}

/** "3 unrecognised, 2 trace event spapr_iommu_xlate (not used)" — the stderr summary of skipped lines */
export function skippedSummary(skipped: ReadonlyMap<string, number>): string {
  const parts = [...skipped.entries()]
    .filter(([k]) => k !== 'blank')
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} ${k}`);
  return parts.length ? parts.join(', ') : 'none';
}
