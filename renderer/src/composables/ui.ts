/** Bits of view state shared by commands and components (not worth a store). */
import { ref } from 'vue';

export const paletteOpen = ref(false);
/** a new-scenario name prompt is showing in the scenario list */
export const namingScenario = ref(false);

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
