/**
 * Full event rows by index, kept only for a bounded number of pages: an LRU of `pageSize`-row pages
 * fetched from the host with inspect.rows (the host keeps the run's events by column and materialises
 * rows only when asked). `get` answers from the cache or starts the fetch of the row's page and answers
 * undefined; `onLoaded` hears when a page arrives, so that a view can read again. A page asked for while
 * its fetch is in flight is fetched once.
 */
import type { EventRow } from '../../../common/contract';

export type FetchRows = (from: number, count: number) => Promise<{ rows: EventRow[]; total: number }>;

export class RowPages {
  /** page index → rows; Map order is the LRU order (oldest first) */
  private readonly pages = new Map<number, EventRow[]>();
  private readonly pending = new Map<number, Promise<EventRow[] | undefined>>();
  /** bumped by `clear`: a fetch of an older generation is dropped when it lands */
  private generation = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private fetch: FetchRows,
    readonly pageSize = 1000,
    readonly maxPages = 32,
  ) {
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100_000)
      throw new RangeError(`page size ${pageSize}: a whole number from 1 to 100,000`);
    if (!Number.isInteger(maxPages) || maxPages < 1)
      throw new RangeError(`max pages ${maxPages}: a whole number from 1`);
  }

  /** drops every page (a new source): fetches still in flight are ignored when they land */
  clear(fetch?: FetchRows): void {
    if (fetch) this.fetch = fetch;
    this.pages.clear();
    this.pending.clear();
    this.generation++;
  }

  /**
   * Drops the pages from the one holding `index` on: the streaming run appended rows there, so a page
   * fetched before was short.
   */
  invalidateFrom(index: number): void {
    const first = Math.floor(index / this.pageSize);
    for (const p of [...this.pages.keys()]) if (p >= first) this.pages.delete(p);
  }

  onLoaded(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get size(): number {
    return this.pages.size;
  }

  /** the row at `index` if its page is cached (and marks the page as used); otherwise starts its fetch */
  get(index: number): EventRow | undefined {
    const p = Math.floor(index / this.pageSize);
    const page = this.pages.get(p);
    if (page) {
      this.pages.delete(p);
      this.pages.set(p, page);
      return page[index - p * this.pageSize];
    }
    void this.load(p);
    return undefined;
  }

  /** the row at `index` if its page is cached, without fetching or touching the LRU order */
  peek(index: number): EventRow | undefined {
    const p = Math.floor(index / this.pageSize);
    return this.pages.get(p)?.[index - p * this.pageSize];
  }

  /** the row at `index`, fetched if needed; undefined past the end */
  async row(index: number): Promise<EventRow | undefined> {
    const p = Math.floor(index / this.pageSize);
    const page = this.pages.get(p) ?? (await this.load(p));
    return page?.[index - p * this.pageSize];
  }

  /** fetches every page the indices [from, to) touch that is not cached */
  async ensure(from: number, to: number): Promise<void> {
    const ps: Promise<unknown>[] = [];
    for (let p = Math.floor(from / this.pageSize); p * this.pageSize < to; p++)
      if (!this.pages.has(p)) ps.push(this.load(p));
    await Promise.all(ps);
  }

  private load(p: number): Promise<EventRow[] | undefined> {
    const inFlight = this.pending.get(p);
    if (inFlight) return inFlight;
    const gen = this.generation;
    const done = this.fetch(p * this.pageSize, this.pageSize).then(
      (r) => {
        if (gen !== this.generation) return undefined;
        this.pending.delete(p);
        this.pages.set(p, r.rows);
        while (this.pages.size > this.maxPages) this.pages.delete(this.pages.keys().next().value!);
        for (const fn of this.listeners) fn();
        return r.rows;
      },
      () => {
        if (gen === this.generation) this.pending.delete(p);
        return undefined;
      },
    );
    this.pending.set(p, done);
    return done;
  }
}
