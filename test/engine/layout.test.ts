/**
 * The engine is laid out like the kernel it emulates (issue 7, "Done means"): no engine file is longer than
 * 500 lines, and every one starts with a doc comment that names the kernel file(s) it models
 * (`drivers/vfio/vfio_iommu_spapr_tce.c`, `arch/powerpc/kvm/book3s_64_vio.c`, …) or says plainly that it
 * models no kernel file (and then what it is: engine infrastructure, the scenario API, a profile, …).
 * A new file without that header, or a file grown past the limit, fails here; split it along a real seam.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MAX_LINES = 500;
/** a path in the kernel tree: one of its top-level folders, then a C source or header */
const KERNEL_PATH = /\b(?:arch|drivers|mm|virt|kernel|include|lib)\/[\w./-]+\.[ch]\b/;
const NO_KERNEL_FILE = /models no kernel file/i;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** the first doc comment of a file's text, with the comment's leading stars removed; null if none opens it */
function headerOf(text: string): string | null {
  if (!text.startsWith('/**')) return null;
  const end = text.indexOf('*/');
  if (end < 0) return null;
  return text
    .slice(3, end)
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, ''))
    .join(' ');
}

/** what is wrong with one engine file's layout, or [] */
function layoutProblems(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) problems.push(`${lines} lines (at most ${MAX_LINES}: split it along a real seam)`);
  const header = headerOf(text);
  if (header === null) problems.push('does not start with a doc comment');
  else if (!KERNEL_PATH.test(header) && !NO_KERNEL_FILE.test(header))
    problems.push('its doc comment names no kernel file it models and does not say it models no kernel file');
  return problems;
}

const files = tsFiles(join(root, 'engine'))
  .map((p) => relative(root, p))
  .sort();

describe('engine layout (issue 7)', () => {
  it('finds the engine files', () => {
    expect(files).toContain('engine/vfio-container.ts');
    expect(files).toContain('engine/kvm/book3s-64-vio.ts');
  });

  it.each(files)('%s: at most 500 lines, and its header names the kernel file it models', (file) => {
    expect(layoutProblems(readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });

  it('the check itself refuses a long file, a missing header and a header that names nothing', () => {
    const ok = '/**\n * Models drivers/vfio/container.c: the container fd.\n */\nexport const x = 1;\n';
    expect(layoutProblems(ok)).toEqual([]);
    expect(layoutProblems('/**\n * Engine infrastructure: models no kernel file.\n */\n')).toEqual([]);
    expect(layoutProblems(ok + 'export const y = 2;\n'.repeat(MAX_LINES))).toHaveLength(1);
    expect(layoutProblems('export const x = 1;\n')).toEqual(['does not start with a doc comment']);
    expect(layoutProblems('// Models drivers/vfio/container.c\nexport const x = 1;\n')).toHaveLength(1);
    expect(layoutProblems('/**\n * The container fd (kernel-model.md §3).\n */\n')).toHaveLength(1);
    expect(layoutProblems('/**\n * A twin of vfio_iommu_spapr_tce.c.\n */\n')).toHaveLength(1);
  });
});
