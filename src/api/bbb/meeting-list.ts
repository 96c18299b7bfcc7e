import { renderMeetings } from '../../bbb/responses.js';
import type { Store } from '../../state/store.js';
import type { PoolView } from './pool-view.js';

interface Entry {
  /** Encoded once: a megabyte of XML is not re-encoded for every caller. */
  xml: Buffer;
  builtAt: number;
}

/**
 * getMeetings answers, per tenant, rebuilt from the polled state at most every `maxAgeMs`.
 * Thousands of meetings make one answer a megabyte of XML; building it once a second instead
 * of once a request keeps getMeetings fast however often LMSs call it. A stale answer is
 * served while the next one is built, so no caller waits for a rebuild once one exists.
 */
export class MeetingListCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly store: Store,
    private readonly pool: PoolView,
    private readonly maxAgeMs: number,
  ) {}

  async get(tenant: string): Promise<Buffer> {
    const entry = this.entries.get(tenant);
    if (entry && Date.now() - entry.builtAt < this.maxAgeMs) return entry.xml;
    const building = this.rebuild(tenant);
    return entry ? entry.xml : building;
  }

  /** A change made through this gateway shows at once in its own next answer. */
  invalidate(tenant: string): void {
    this.entries.delete(tenant);
  }

  private rebuild(tenant: string): Promise<Buffer> {
    let building = this.inflight.get(tenant);
    if (building) return building;
    building = this.build(tenant)
      .then((text) => {
        const xml = Buffer.from(text, 'utf8');
        this.entries.set(tenant, { xml, builtAt: Date.now() });
        return xml;
      })
      .finally(() => this.inflight.delete(tenant));
    this.inflight.set(tenant, building);
    // A failed background rebuild must not surface as an unhandled rejection.
    building.catch(() => undefined);
    return building;
  }

  private async build(tenant: string): Promise<string> {
    const [meetings, online] = await Promise.all([this.store.meetings.list(tenant), this.pool.onlineServers()]);
    const reachable = new Set(online.map((s) => s.id));
    return renderMeetings(meetings.filter((m) => m.info && reachable.has(m.server)).map((m) => m.info!));
  }
}
