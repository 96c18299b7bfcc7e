import { scalerTags } from '../../scaler/providers/provider.js';
import type { CloudProvider, CreateRequest, ProviderServerStatus, ProvisionedServer } from '../../scaler/providers/provider.js';
import type { ScalerServer } from '../../scaler/servers.js';

export const MINUTE = 60_000;
/** Monday 2025-03-03 09:00 UTC. */
export const T0 = Date.parse('2025-03-03T09:00:00Z');
export const ALL_DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A cloud in memory whose servers stay booting: what the scaler created, found again by key. */
export class MemoryCloud implements CloudProvider {
  readonly name = 'fake';
  private readonly servers = new Map<string, ProvisionedServer>();
  private n = 0;

  async create(req: CreateRequest): Promise<ProvisionedServer> {
    const found = [...this.servers.values()].find((s) => s.idempotencyKey === req.idempotencyKey);
    if (found) return { ...found };
    const s: ProvisionedServer = { id: `fake-${++this.n}`, sizeClass: req.sizeClass, status: 'booting', idempotencyKey: req.idempotencyKey, tags: scalerTags(req) };
    this.servers.set(s.id, s);
    return { ...s };
  }

  async delete(id: string): Promise<void> {
    this.servers.delete(id);
  }

  async list(): Promise<ProvisionedServer[]> {
    return [...this.servers.values()].map((s) => ({ ...s }));
  }

  async get(id: string): Promise<ProvisionedServer | undefined> {
    const s = this.servers.get(id);
    return s && { ...s };
  }

  async status(id: string): Promise<ProviderServerStatus> {
    return this.servers.get(id)?.status ?? 'gone';
  }

  /** A running server the scaler created earlier, under this id. */
  adopt(id: string, key: string): void {
    this.servers.set(id, { id, sizeClass: 'standard', status: 'running', idempotencyKey: key, tags: scalerTags({ sizeClass: 'standard', idempotencyKey: key }) });
  }
}

const CAPACITY: Readonly<Record<string, number>> = { small: 250, standard: 500, large: 1000 };

/** A ready, scaler-created, empty server an hour old at `now`, with `over` applied. */
export function scalerServer(id: string, now: number, over: Partial<ScalerServer> = {}): ScalerServer {
  const sizeClass = over.sizeClass ?? 'standard';
  return {
    id,
    sizeClass,
    capacity: CAPACITY[sizeClass] ?? 500,
    phase: 'ready',
    managed: true,
    startedAt: now - 60 * MINUTE,
    phaseSince: now - 60 * MINUTE,
    polledAt: now - 1000,
    meetings: 0,
    participants: 0,
    recordingsProcessing: 0,
    measuredLoad: 0,
    reservedLoad: 0,
    ...over,
  };
}
