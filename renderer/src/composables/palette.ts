/**
 * What the command palette (components/CommandPalette.vue) lists and how it turns typed text into a
 * command's argument: plain functions over the registry, so tests need no DOM.
 */
import { commandList, type Command } from './commands';

/** The palette's entries for a query: every word must appear in the title, category or id. */
export function paletteEntries(query: string): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return commandList.value.filter((c) =>
    words.every((w) => `${c.category ?? ''} ${c.title} ${c.id}`.toLowerCase().includes(w)),
  );
}

/** The argument of `c` from the palette's text: `{ arg }`, or `{ error }` with the message to show. */
export function paletteArg(c: Command, text: string): { arg: unknown } | { error: string } {
  try {
    return { arg: c.parseArg ? c.parseArg(text) : text };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
