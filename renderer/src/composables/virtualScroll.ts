/**
 * A windowed list for very long lists (16 million TCEs, a million events) without a dependency.
 *
 * The scroll container holds a sticky "window" the height of the viewport (so the compositor keeps it
 * in place, no jitter) followed by a spacer; only the rows in view are rendered, shifted by the
 * fractional part of the scroll position. Browsers cap element heights (Chromium at about 33.5 million
 * px, Firefox lower), so above `maxHeight` the spacer is scaled: the scrollbar then maps proportionally,
 * and wheel and keys scroll row-exactly instead of by scaled pixels.
 */
import { computed, nextTick, onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue';

export interface VirtualScrollOptions {
  count: Ref<number>;
  rowHeight: number;
  /** spacer height cap in px (default 8,000,000: safe in every engine) */
  maxHeight?: number;
  /** keep the end in view while the list grows, if it was in view */
  followEnd?: boolean;
}

export function useVirtualScroll(opts: VirtualScrollOptions) {
  const rowHeight = opts.rowHeight;
  const maxHeight = opts.maxHeight ?? 8_000_000;
  const el = ref<HTMLElement | null>(null);
  const viewport = ref(0);
  /** first row position, fractional */
  const pos = ref(0);
  let lastSetTop = -1;
  /** followEnd: the user has not scrolled away from the end */
  let following = true;
  let ro: ResizeObserver | null = null;

  const rowsInView = computed(() => viewport.value / rowHeight);
  const maxPos = computed(() => Math.max(0, opts.count.value - rowsInView.value));
  const fullHeight = computed(() => opts.count.value * rowHeight);
  const scaled = computed(() => fullHeight.value > maxHeight);
  const spacerHeight = computed(() => Math.min(fullHeight.value, maxHeight));
  const first = computed(() => Math.max(0, Math.floor(pos.value)));
  const visibleCount = computed(() =>
    Math.min(opts.count.value - first.value, Math.ceil(rowsInView.value) + 1),
  );
  /** px to shift the rendered rows up (fractional row) */
  const shift = computed(() => (pos.value - first.value) * rowHeight);
  const atEnd = computed(() => pos.value >= maxPos.value - 0.5);

  function topFor(p: number): number {
    const range = spacerHeight.value - viewport.value;
    if (!scaled.value) return p * rowHeight;
    return maxPos.value > 0 ? (p / maxPos.value) * range : 0;
  }

  function posFor(top: number): number {
    if (!scaled.value) return top / rowHeight;
    const range = spacerHeight.value - viewport.value;
    return range > 0 ? (top / range) * maxPos.value : 0;
  }

  function clamp(p: number): number {
    return Math.max(0, Math.min(maxPos.value, p));
  }

  /** Moves the scrollbar to `pos` (after the DOM has the spacer height that position needs). */
  function syncScrollTop(): void {
    const e = el.value;
    if (!e) return;
    const top = Math.round(topFor(pos.value));
    if (Math.abs(e.scrollTop - top) >= 1) {
      lastSetTop = top;
      e.scrollTop = top;
    }
  }

  /** Moves to a fractional row position; the rows follow at once, the scrollbar after the render. */
  function setPos(p: number): void {
    pos.value = clamp(p);
    void nextTick(syncScrollTop);
  }

  /** Scrolls so that row `i` is in view (`center`, `start`, or `nearest`: only if it is not). */
  function scrollToIndex(i: number, align: 'center' | 'start' | 'nearest' = 'nearest'): void {
    const v = rowsInView.value;
    // revealing the last row keeps a following list at the end
    following = i >= opts.count.value - 1;
    if (align === 'nearest') {
      if (i >= pos.value && i + 1 <= pos.value + v) return;
      setPos(i < pos.value ? i : i + 1 - v);
    } else if (align === 'start') setPos(i);
    else setPos(i - (v - 1) / 2);
  }

  function onScroll(): void {
    const e = el.value;
    if (!e) return;
    const top = e.scrollTop;
    if (Math.abs(top - lastSetTop) < 1) {
      lastSetTop = -1;
      return;
    }
    lastSetTop = -1;
    pos.value = clamp(posFor(top));
    following = atEnd.value;
  }

  function lineDelta(e: WheelEvent): number {
    if (e.deltaMode === 1) return e.deltaY;
    if (e.deltaMode === 2) return e.deltaY * rowsInView.value;
    return e.deltaY / rowHeight;
  }

  function onWheel(e: WheelEvent): void {
    if (!scaled.value || e.ctrlKey || Math.abs(e.deltaY) < Math.abs(e.deltaX)) return;
    e.preventDefault();
    setPos(pos.value + lineDelta(e));
    following = atEnd.value;
  }

  function onKey(e: KeyboardEvent): void {
    if (!scaled.value) return;
    const page = Math.max(1, Math.floor(rowsInView.value) - 1);
    const moves: Record<string, number> = { PageDown: page, PageUp: -page, ' ': e.shiftKey ? -page : page };
    if (e.key === 'Home' && !e.altKey) setPos(0);
    else if (e.key === 'End' && !e.altKey) setPos(maxPos.value);
    else if (e.key in moves) setPos(pos.value + moves[e.key]!);
    else return;
    e.preventDefault();
  }

  /** Starts following the end again (a new run). */
  function follow(): void {
    following = true;
    void nextTick(() => setPos(maxPos.value));
  }

  function measure(): void {
    if (el.value) viewport.value = el.value.clientHeight;
  }

  onMounted(() => {
    const e = el.value;
    if (!e) return;
    measure();
    e.addEventListener('scroll', onScroll, { passive: true });
    e.addEventListener('wheel', onWheel, { passive: false });
    e.addEventListener('keydown', onKey);
    if (typeof ResizeObserver !== 'undefined') {
      ro = new ResizeObserver(() => {
        measure();
        // a list that follows the end stays at the end when it shrinks (the event detail opening under it)
        setPos(opts.followEnd && following ? maxPos.value : pos.value);
      });
      ro.observe(e);
    }
  });
  onBeforeUnmount(() => {
    ro?.disconnect();
    const e = el.value;
    if (!e) return;
    e.removeEventListener('scroll', onScroll);
    e.removeEventListener('wheel', onWheel);
    e.removeEventListener('keydown', onKey);
  });

  watch(opts.count, (n, old) => {
    if (opts.followEnd && following && n > (old ?? 0)) void nextTick(() => setPos(maxPos.value));
    else if (pos.value > maxPos.value) void nextTick(() => setPos(pos.value));
  });
  watch(scaled, () => void nextTick(() => setPos(pos.value)));

  return {
    el,
    pos,
    first,
    visibleCount,
    shift,
    spacerHeight,
    viewport,
    scaled,
    atEnd,
    rowsInView,
    setPos,
    scrollToIndex,
    measure,
    follow,
  };
}
