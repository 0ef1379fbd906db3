/**
 * Kernel-function cites (issue 7 items 4–5): what the tests need to check that every result names the
 * kernel function that decides it, and that docs/kernel/ has a section for each function cited.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KERNEL_FILES,
  SOURCES_4_2,
  SOURCES_5_X,
  SOURCES_MAINLINE,
  SYS_IOCTL,
  docAnchor,
  docPageOf,
  type Cite,
} from '../../engine/cite.ts';
import type { RunEvent } from '../../engine/events.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DOCS = join(ROOT, 'docs/kernel');

/** `## tce_iommu_register_pages` and `### …` headings of every page: page → anchors */
export function docAnchors(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of readdirSync(DOCS).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const anchors = new Set<string>();
    for (const line of readFileSync(join(DOCS, f), 'utf8').split('\n')) {
      const m = /^#{2,4}\s+`?([A-Za-z0-9_]+)`?\s*$/.exec(line);
      if (m) anchors.add(docAnchor(m[1]!));
    }
    out.set(f.replace(/\.md$/, ''), anchors);
  }
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SHORTHAND: Record<string, string> = {
  tce: 'drivers/vfio/vfio_iommu_spapr_tce.c',
  kernelIommu: 'arch/powerpc/kernel/iommu.c',
  pciIoda: 'arch/powerpc/platforms/powernv/pci-ioda.c',
  pciIodaTce: 'arch/powerpc/platforms/powernv/pci-ioda-tce.c',
  kvmVio: 'arch/powerpc/kvm/book3s_64_vio.c',
  kvmPowerpc: 'arch/powerpc/kvm/powerpc.c',
  kvmMain: 'virt/kvm/kvm_main.c',
  kvmHv: 'arch/powerpc/kvm/book3s_hv.c',
  mmMlock: 'mm/mlock.c',
  qemuIommu: 'hw/ppc/spapr_iommu.c',
};

/**
 * Every cite the engine can produce: the literal ones in its sources (`tce('…')`, `cite('file', 'fn')`)
 * and the era tables (profile.src). A cite built from a variable would escape this scan, so the static
 * test also checks that no cite helper is called with anything but a string literal.
 */
export function engineCites(): { cites: Cite[]; dynamic: string[] } {
  const cites = new Map<string, Cite>();
  const dynamic: string[] = [];
  const add = (c: Cite): void => void cites.set(`${c.file}: ${c.fn}`, c);
  for (const src of [SOURCES_4_2, SOURCES_5_X, SOURCES_MAINLINE]) for (const c of Object.values(src)) add(c);
  add(SYS_IOCTL);
  const names = Object.keys(SHORTHAND).join('|');
  for (const path of walk(join(ROOT, 'engine'))) {
    if (path.endsWith('/engine/cite.ts')) continue; // the helpers' definitions; its tables are added above
    const text = readFileSync(path, 'utf8');
    const rel = path.slice(ROOT.length);
    for (const m of text.matchAll(new RegExp(`\\b(${names})\\(([^)]*)\\)`, 'g'))) {
      if (/^\w+: /.test(m[2]!.trim())) continue; // a method declared with that name: tce(index: number)
      const lit = /^\s*'([a-z_0-9]+)'\s*$/.exec(m[2]!);
      if (lit) add({ file: SHORTHAND[m[1]!] as Cite['file'], fn: lit[1]! });
      else dynamic.push(`${rel}: ${m[0]}`);
    }
    for (const m of text.matchAll(/\bcite\(([^)]*)\)/g)) {
      const lit = /^\s*'([^']+)',\s*'([a-z_0-9]+)'\s*$/.exec(m[1]!);
      const viaConst = /^\s*(VFIO_4X|MM_42|MM_5X),\s*'[a-z_0-9]+'\s*$/.test(m[1]!);
      if (lit) add({ file: lit[1] as Cite['file'], fn: lit[2]! });
      else if (!viaConst) dynamic.push(`${rel}: ${m[0]}`);
    }
  }
  return { cites: [...cites.values()], dynamic };
}

/** why a cite is not acceptable, or null: its file must be listed and its function documented */
export function citeProblem(
  c: { file: string; fn: string } | undefined,
  anchors: Map<string, Set<string>>,
): string | null {
  if (!c) return 'no cite';
  if (!/^[a-z0-9_./-]+\.c$/.test(c.file)) return `"${c.file}" is not a path/file.c`;
  if (!(c.file in KERNEL_FILES)) return `${c.file} is not in engine/cite.ts KERNEL_FILES`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.fn)) return `"${c.fn}" is not a function name`;
  const page = docPageOf(c)!;
  if (!anchors.get(page)?.has(docAnchor(c.fn))) return `docs/kernel/${page}.md has no section "## ${c.fn}"`;
  return null;
}

type ResultEvent = Extract<RunEvent, { kind: 'ioctl' | 'syscall' | 'hcall' }>;

/** events whose result is a refusal: a negative ioctl or syscall return, or any H_* but H_SUCCESS */
export function isRefusal(e: RunEvent): e is ResultEvent {
  if (e.kind === 'ioctl' || e.kind === 'syscall') return e.ret < 0;
  if (e.kind === 'hcall') return e.ret !== 0;
  return false;
}

/** the problems of a run's events: every ioctl, syscall and hcall must cite a documented kernel function */
export function uncited(events: Iterable<RunEvent>, anchors: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (e.kind !== 'ioctl' && e.kind !== 'syscall' && e.kind !== 'hcall') continue;
    const p = citeProblem(e.cite, anchors);
    if (p)
      out.push(`event ${e.seq} ${e.op} → ${e.ret}${isRefusal(e) ? ' (refusal)' : ''}: ${p}: ${e.explain}`);
    else if (!e.explain.includes(`${e.cite!.file}: ${e.cite!.fn}`))
      out.push(`event ${e.seq} ${e.op}: the why does not name ${e.cite!.file}: ${e.cite!.fn}`);
  }
  return out;
}
