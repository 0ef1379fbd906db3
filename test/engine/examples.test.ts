/**
 * The bundled example scenarios (examples/*.ts) must pass in both kernel profiles: they name no kernel in
 * createHost(), so the run's --kernel decides, and each branches on host.kernel where the profiles differ.
 * Each run must record zero failed expectations and at least as many expectations as it has today, so an
 * example that stops early (an exception, a loop cut short) is caught.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { KernelName } from '../../engine/api.ts';
import { runDirect } from '../support/direct.ts';

const dir = new URL('../../examples/', import.meta.url);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

/** expectations each example records today (the smaller of the two profiles); other files: at least 10 */
const MIN_EXPECTATIONS: Record<string, number> = {
  'qemu-v2-ddw.ts': 62,
  'qemu-v1.ts': 37,
  'memlock-default-64k.ts': 19,
  'libvirt-8g-guest.ts': 15,
  'libvirt-hotplug.ts': 18,
  'unregister-while-mapped.ts': 32,
  'huge-ddw-1tib.ts': 37,
  'unregister-kvm-mappings.ts': 33,
  'overcommit-mem-lock.ts': 22,
};
const KERNELS: KernelName[] = ['4.2', '5.x', 'mainline'];
/**
 * Examples that describe what a profile refuses on purpose: QEMU's v1 container on an IODA2 (DDW-capable)
 * PE is EPERM on the 5.x generation (kernel-model.md §4.2 5.x, §7.2), so that example is not a 5.x story.
 */
const NOT_IN: Record<string, KernelName[]> = { 'qemu-v1.ts': ['5.x'] };

describe('examples', () => {
  it('has the bundled examples (product.md §Screens 1, the KVM ones of issue 9, the memlock sizing ones)', () => {
    for (const f of Object.keys(MIN_EXPECTATIONS)) expect(files, f).toContain(f);
  });

  it("type-check against the editor's declarations (types/scenario.d.ts): no red squiggles when opened", () => {
    const decl = fileURLToPath(new URL('../../types/scenario.d.ts', import.meta.url));
    const program = ts.createProgram([decl, ...files.map((f) => fileURLToPath(new URL(f, dir)))], {
      strict: true,
      noUnusedLocals: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      types: [],
      moduleDetection: ts.ModuleDetectionKind.Force,
      skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file
        ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  });

  describe.each(files)('%s', (file) => {
    const source = readFileSync(new URL(file, dir), 'utf8');

    it("says how to run it and follows the run's kernel", () => {
      expect(source).toContain(`npm run -s dmawb -- run examples/${file}`);
      expect(source).not.toMatch(/createHost\(\{[^}]*\bkernel\s*:/);
    });

    it.each(KERNELS.filter((k) => !NOT_IN[file]?.includes(k)))('passes under --kernel %s', (kernel) => {
      const { failures, events, session } = runDirect(source, kernel);
      const show = failures.map((f) =>
        f.kind === 'expect' ? `${f.label}: got ${f.actual}, expected ${f.expected}` : '',
      );
      expect(show).toEqual([]);
      expect(session.hosts.length).toBeGreaterThan(0);
      for (const h of session.hosts) expect(h.kernel).toBe(kernel);
      const n = events.filter((e) => e.kind === 'expect').length;
      expect(n).toBeGreaterThanOrEqual(MIN_EXPECTATIONS[file] ?? 10);
    });
  });
});
