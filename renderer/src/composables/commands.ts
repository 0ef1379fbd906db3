/**
 * The command registry (after Elk's composables/command.ts): every user action is a command with a
 * stable id. Keyboard shortcuts, the command palette, the app menu ('command.run' events from main)
 * and the end-to-end tests all go through `runCommand(id)`, so there is one code path per action.
 * The app's commands come from the one table in common/commands.ts (appCommands.ts); an id of its
 * COMMAND_ALIASES list (the dashed ids of earlier releases) runs the command it names.
 *
 * Key chords are written like `Mod+Shift+P`: Mod is Cmd on macOS and Ctrl elsewhere; the last part is
 * KeyboardEvent.key (letters upper-case), e.g. `F5`, `Enter`, `ArrowDown`, `.`.
 */
import { computed, shallowReactive } from 'vue';
import { resolveCommandId } from '../../../common/commands';

export interface Command {
  /** stable id: used by the menu, tests and keybindings; never rename one */
  id: string;
  title: string;
  category?: string;
  /** key chords that run it */
  keys?: string[];
  /** false: greyed out in the palette, ignored by shortcuts */
  enabled?: () => boolean;
  /** takes an argument: the palette asks for it with this prompt and passes it through `parseArg` */
  arg?: string;
  /** the argument from the palette's text; throws an Error whose message the palette shows */
  parseArg?: (text: string) => unknown;
  run: (arg?: unknown) => unknown;
}

const registry = shallowReactive(new Map<string, Command>());

export function defineCommand(c: Command): () => void {
  registry.set(c.id, c);
  return () => {
    if (registry.get(c.id) === c) registry.delete(c.id);
  };
}

export function defineCommands(cs: Command[]): () => void {
  const offs = cs.map(defineCommand);
  return () => offs.forEach((f) => f());
}

export function getCommand(id: string): Command | undefined {
  const c = registry.get(id);
  if (c) return c;
  const dotted = resolveCommandId(id);
  return dotted === undefined ? undefined : registry.get(dotted);
}

export function isEnabled(c: Command): boolean {
  return c.enabled ? c.enabled() : true;
}

export class UnknownCommandError extends Error {
  constructor(id: string) {
    super(`unknown command: ${id}`);
  }
}

/** Runs a command; resolves to its result, or `false` when it is disabled. Unknown ids throw. */
export async function runCommand(id: string, arg?: unknown): Promise<unknown> {
  const c = getCommand(id);
  if (!c) throw new UnknownCommandError(id);
  if (!isEnabled(c)) return false;
  return await c.run(arg);
}

export const commandList = computed(() =>
  [...registry.values()].sort(
    (a, b) => (a.category ?? '').localeCompare(b.category ?? '') || a.title.localeCompare(b.title),
  ),
);

export function isMac(platform = typeof navigator === 'undefined' ? '' : navigator.platform): boolean {
  return /mac|iphone|ipad/i.test(platform);
}

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** The chord of a key event in registry notation (`Mod+Shift+P`). */
export function chordOf(e: KeyLike, mac = isMac()): string {
  const parts: string[] = [];
  const mod = mac ? e.metaKey : e.ctrlKey;
  const other = mac ? e.ctrlKey : e.metaKey;
  if (mod) parts.push('Mod');
  if (other) parts.push(mac ? 'Ctrl' : 'Meta');
  if (e.altKey) parts.push('Alt');
  if (e.shiftKey) parts.push('Shift');
  let k = e.key;
  if (k === ' ') k = 'Space';
  else if (k.length === 1) k = k.toUpperCase();
  parts.push(k);
  return parts.join('+');
}

/** Normalizes a chord as written in a command (`shift+mod+p` → `Mod+Shift+P`). */
export function normalizeChord(chord: string): string {
  const parts = chord.split('+').map((p) => p.trim());
  const key = parts.pop() ?? '';
  const mods = new Set(parts.map((p) => p.toLowerCase()));
  const out: string[] = [];
  if (mods.has('mod')) out.push('Mod');
  if (mods.has('ctrl')) out.push('Ctrl');
  if (mods.has('meta')) out.push('Meta');
  if (mods.has('alt')) out.push('Alt');
  if (mods.has('shift')) out.push('Shift');
  out.push(key.length === 1 ? key.toUpperCase() : key);
  return out.join('+');
}

/** Human label of a chord for menus and the palette. */
export function chordLabel(chord: string, mac = isMac()): string {
  return normalizeChord(chord)
    .split('+')
    .map((p) =>
      p === 'Mod'
        ? mac
          ? '⌘'
          : 'Ctrl'
        : p === 'Shift' && mac
          ? '⇧'
          : p === 'Alt' && mac
            ? '⌥'
            : p.replace(/^Arrow/, ''),
    )
    .join(mac ? '' : '+');
}

/** The enabled command bound to this chord, if any. */
export function commandForChord(chord: string): Command | undefined {
  for (const c of registry.values()) if (c.keys?.some((k) => normalizeChord(k) === chord)) return c;
  return undefined;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || typeof el.closest !== 'function') return false;
  return !!el.closest(
    'input, textarea, select, [contenteditable=""], [contenteditable="true"], .monaco-editor',
  );
}

/** Installs the global keyboard shortcuts; returns the uninstaller. */
export function installShortcuts(
  target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window,
): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (e.isComposing || e.defaultPrevented) return;
    const chord = chordOf(e);
    const c = commandForChord(chord);
    if (!c) return;
    // while typing, only Mod chords and function keys are ours; the rest is text editing
    if (isTyping(e.target) && !chord.startsWith('Mod+') && !/^(Shift\+)?F\d+$/.test(chord)) return;
    e.preventDefault();
    e.stopPropagation();
    void runCommand(c.id).catch((err) => console.error(err));
  };
  target.addEventListener('keydown', onKey as EventListener, true);
  return () => target.removeEventListener('keydown', onKey as EventListener, true);
}

/** What `window.dmawbUi` offers tests and benchmarks. */
export interface CommandHandle {
  run(id: string, arg?: unknown): Promise<unknown>;
  list(): { id: string; title: string; keys: string[] }[];
  /** a plain summary of what the UI shows */
  state(): Record<string, unknown>;
  /** resolves when the selected step's state and the visible inspector page are on screen */
  settled(): Promise<void>;
}
