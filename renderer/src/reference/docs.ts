/**
 * The project's reference of the emulated kernel (docs/kernel/*.md), bundled into the renderer as text and
 * rendered here: no network, the same in Electron and in browser mode. Markdown is turned into HTML by
 * `marked` (raw HTML in the source is escaped, not passed through) and the result is sanitised by
 * DOMPurify before it reaches the page. Headings get the anchor the CLI prints
 * (`docs/kernel/spapr-tce.md#tce_iommu_register_pages` → page `spapr-tce`, anchor
 * `tce_iommu_register_pages`); links between the pages stay inside the Reference panel.
 */
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

const sources = import.meta.glob('../../../docs/kernel/*.md', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

/** page id (file name without .md) → markdown */
export const PAGES: ReadonlyMap<string, string> = new Map(
  Object.entries(sources)
    .map(([path, text]) => [/([^/]+)\.md$/.exec(path)![1]!, text] as const)
    .sort(([a], [b]) => (a === 'README' ? -1 : b === 'README' ? 1 : a.localeCompare(b))),
);

/** the title of a page: its first heading */
export function pageTitle(page: string): string {
  const m = /^#\s+(.+)$/m.exec(PAGES.get(page) ?? '');
  return m ? m[1]!.replace(/`/g, '') : page;
}

/** the anchor of a heading, as GitHub makes it (and as engine/cite.ts docAnchor does for function names) */
export function anchorOf(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_\s-]/g, '')
    .replace(/\s/g, '-');
}

/** "docs/kernel/spapr-tce.md#tce_iommu_ioctl", "spapr-tce.md#x", "#x" (relative to `from`) → a target */
export function parseTarget(href: string, from = 'README'): { page: string; anchor: string } | null {
  const m = /^(?:(?:docs\/kernel\/)?([a-z0-9-]+|README)\.md)?(?:#([A-Za-z0-9_-]*))?$/.exec(href);
  if (!m) return null;
  const page = m[1] ?? from;
  return PAGES.has(page) ? { page, anchor: m[2] ?? '' } : null;
}

const marked = new Marked({
  gfm: true,
  renderer: {
    heading({ tokens, depth, text }: Tokens.Heading): string {
      const inner = this.parser.parseInline(tokens);
      return `<h${depth} id="${anchorOf(text.replace(/`/g, ''))}">${inner}</h${depth}>\n`;
    },
    // raw HTML in the markdown is shown as text, never interpreted
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    },
  },
});

/** the page's HTML, sanitised; links to other pages carry data-page/data-anchor for the panel */
export function renderPage(page: string): string {
  const md = PAGES.get(page);
  if (md === undefined) return '';
  const html = marked.parse(md, { async: false }) as string;
  const clean = DOMPurify.sanitize(html, {
    ALLOWED_TAGS: [
      'h1',
      'h2',
      'h3',
      'h4',
      'p',
      'a',
      'code',
      'pre',
      'strong',
      'em',
      'ul',
      'ol',
      'li',
      'table',
      'thead',
      'tbody',
      'tr',
      'th',
      'td',
      'br',
      'hr',
      'blockquote',
    ],
    ALLOWED_ATTR: ['href', 'id', 'align'],
    RETURN_DOM_FRAGMENT: true,
  });
  for (const a of clean.querySelectorAll('a')) {
    const t = parseTarget(a.getAttribute('href') ?? '', page);
    if (t) {
      a.setAttribute('data-page', t.page);
      a.setAttribute('data-anchor', t.anchor);
      a.setAttribute('href', `#ref:${t.page}:${t.anchor}`);
    } else {
      // nothing leaves the workbench from here: links the reference cannot resolve become plain text
      a.replaceWith(...a.childNodes);
    }
  }
  const box = document.createElement('div');
  box.append(clean);
  return box.innerHTML;
}
