/**
 * A value read from elsewhere (Redis) and reused for `maxAgeMs`; callers arriving while a read
 * is under way share it, so a burst of requests costs one read, not one each.
 */
export class CachedRead<T> {
  private value: { data: T; readAt: number } | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
  ) {}

  /** The cached value while it is fresh, else a new read; `force` reads again regardless. */
  async get(force = false): Promise<T> {
    if (!force && this.value && Date.now() - this.value.readAt < this.maxAgeMs) return this.value.data;
    this.pending ??= this.read()
      .then((data) => {
        this.value = { data, readAt: Date.now() };
        return data;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }
}
