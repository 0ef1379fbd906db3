/**
 * Copy to the clipboard, and say what was copied. Where the page may not write the clipboard (an http
 * page other than localhost, a browser without the permission), the text is selected in `fallback`
 * instead so Ctrl+C copies it; `lastCopied` holds the text either way (the Copy buttons show "Copied").
 */
import { ref } from 'vue';

/** the last text a Copy button handed to the clipboard (or selected for copying) */
export const lastCopied = ref<{ text: string; at: number; clipboard: boolean } | null>(null);

export async function copyText(text: string, fallback?: Element | null): Promise<boolean> {
  let clipboard = false;
  try {
    await navigator.clipboard.writeText(text);
    clipboard = true;
  } catch {
    if (fallback) window.getSelection()?.selectAllChildren(fallback);
  }
  lastCopied.value = { text, at: Date.now(), clipboard };
  return clipboard;
}
