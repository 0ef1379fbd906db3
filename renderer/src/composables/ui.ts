/** Bits of view state shared by commands and components (not worth a store). */
import { ref } from 'vue';

export const paletteOpen = ref(false);
/** a new-scenario name prompt is showing in the scenario list */
export const namingScenario = ref(false);
/** the toolbar's overflow menu is open */
export const overflowOpen = ref(false);
/** Monaco's tab-focus mode (Ctrl+M): Tab moves the focus instead of inserting a tab */
export const tabFocusMode = ref(false);
/** the editor's handle, set by ScenarioEditor while it is mounted */
export const editorHandle: {
  current: null | {
    revealLine(line: number, opts?: { focus?: boolean; highlight?: boolean }): void;
    toggleTabFocusMode(): void;
    currentLine(): number | null;
  };
} = { current: null };

/** Focuses the element with this data-testid (or a focusable inside it). */
export function focusTestId(id: string): boolean {
  if (typeof document === 'undefined') return false;
  const el = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!el) return false;
  const target = el.matches('input, select, textarea, button, [tabindex]')
    ? el
    : (el.querySelector<HTMLElement>('textarea, input, [tabindex]') ?? el);
  target.focus();
  if (target instanceof HTMLInputElement) target.select();
  return true;
}

/** the panes F6 cycles through, in order, each with the element that takes the focus */
export const PANE_FOCUS: { pane: string; testid: string }[] = [
  { pane: 'list', testid: 'scenario-files' },
  { pane: 'editor', testid: 'scenario-editor' },
  { pane: 'inspector', testid: 'tce-list' },
  { pane: 'log', testid: 'event-log' },
  { pane: 'side', testid: 'side-dock' },
];

/** Moves the focus to the next (dir 1) or previous (-1) visible pane. */
export function cyclePane(dir: 1 | -1): string | null {
  if (typeof document === 'undefined') return null;
  const active = document.activeElement;
  const visible = PANE_FOCUS.filter((p) => {
    const el = document.querySelector<HTMLElement>(`[data-pane="${p.pane}"]`);
    return el && el.offsetParent !== null;
  });
  if (!visible.length) return null;
  let cur = visible.findIndex((p) =>
    document.querySelector(`[data-pane="${p.pane}"]`)?.contains(active ?? null),
  );
  if (cur < 0) cur = dir === 1 ? -1 : 0;
  const next = visible[(cur + dir + visible.length) % visible.length]!;
  focusTestId(next.testid);
  return next.pane;
}

/** the Reference panel's page and section (docs/kernel/, e.g. spapr-tce#tce_iommu_ioctl); null: closed */
export const referenceAt = ref<{ page: string; anchor: string } | null>(null);
