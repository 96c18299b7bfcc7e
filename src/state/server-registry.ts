import { randomBytes } from 'node:crypto';
import { decodeReservation, decodeServer, sizeClassOf } from './codec.js';
import type { StoreContext } from './context.js';
import { refTenant } from './keys.js';
import type { NewServer, ServerRecord, ServerState } from './types.js';

export class UnknownServerError extends Error {
  constructor(readonly id: string) {
    super(`no server with id ${id}`);
  }
}

// One call, so that a poll disabling a drained server (apply-poll.lua) in between cannot make
// the comparison stale. Rare (an operator's verb): sent whole, not kept in commands/.
const SET_STATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', ARGV[1], 'stateSince', ARGV[2])
end
return 1`;

/** The pool's servers: what operators add, cordon, disable and remove. */
export class ServerRegistry {
  constructor(private readonly ctx: StoreContext) {}

  async add(input: NewServer): Promise<ServerRecord> {
    const { redis, keys } = this.ctx;
    const id = input.id ?? `bbb-${randomBytes(4).toString('hex')}`;
    const now = String(this.ctx.now());
    const fields = {
      url: input.url.replace(/\/+$/, ''),
      secret: input.secret,
      capacity: String(input.capacity),
      sizeClass: input.sizeClass ?? sizeClassOf(input.capacity),
      managedBy: input.managedBy ?? '',
      tags: JSON.stringify(input.tags ?? []),
      state: input.state ?? 'enabled',
      stateSince: now,
      health: input.health ?? 'offline',
      addedAt: now,
      ...(input.metricsUrl ? { metricsUrl: input.metricsUrl } : {}),
    };
    await redis.multi().hset(keys.server(id), fields).sadd(keys.servers, id).exec();
    return (await this.get(id))!;
  }

  async get(id: string): Promise<ServerRecord | undefined> {
    return decodeServer(id, await this.ctx.redis.hgetall(this.ctx.keys.server(id)));
  }

  async require(id: string): Promise<ServerRecord> {
    const server = await this.get(id);
    if (!server) throw new UnknownServerError(id);
    return server;
  }

  async ids(): Promise<string[]> {
    return (await this.ctx.redis.smembers(this.ctx.keys.servers)).sort();
  }

  async list(): Promise<ServerRecord[]> {
    const ids = await this.ids();
    if (ids.length === 0) return [];
    const pipeline = this.ctx.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.ctx.keys.server(id));
    const results = (await pipeline.exec()) ?? [];
    const servers: ServerRecord[] = [];
    ids.forEach((id, i) => {
      const server = decodeServer(id, (results[i]?.[1] ?? {}) as Record<string, string>);
      if (server) servers.push(server);
    });
    return servers;
  }

  /**
   * The meetings each server still holds a reservation for (placed less than a fade ago): meeting
   * ref, load reserved at placement and when. One pipelined read for all of them.
   */
  async reservations(ids: readonly string[]): Promise<Map<string, { ref: string; reserved: number; createdAt: number }[]>> {
    const out = new Map<string, { ref: string; reserved: number; createdAt: number }[]>();
    if (ids.length === 0) return out;
    const pipeline = this.ctx.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.ctx.keys.reservations(id));
    const results = (await pipeline.exec()) ?? [];
    ids.forEach((id, i) => {
      const entries: { ref: string; reserved: number; createdAt: number }[] = [];
      for (const [ref, value] of Object.entries((results[i]?.[1] ?? {}) as Record<string, string>)) {
        const r = decodeReservation(value);
        if (r) entries.push({ ref, reserved: r.reserved, createdAt: r.createdAt });
      }
      out.set(id, entries);
    });
    return out;
  }

  /** Sets the state; `stateSince` moves only when the state changes (re-cordoning keeps it). */
  async setState(id: string, state: ServerState): Promise<ServerRecord> {
    const found = await this.ctx.redis.eval(SET_STATE, 1, this.ctx.keys.server(id), state, this.ctx.now());
    if (found !== 1) throw new UnknownServerError(id);
    return this.require(id);
  }

  /** `metricsUrl: ''` removes the metrics URL (and the CPU read from it). */
  async update(id: string, fields: { capacity?: number; tags?: string[]; secret?: string; url?: string; metricsUrl?: string }): Promise<ServerRecord> {
    await this.require(id);
    const values: Record<string, string> = {};
    if (fields.metricsUrl === '') await this.ctx.redis.hdel(this.ctx.keys.server(id), 'metricsUrl', 'cpu', 'cpuAt', 'cpuSample');
    else if (fields.metricsUrl !== undefined) values.metricsUrl = fields.metricsUrl;
    if (fields.capacity !== undefined) values.capacity = String(fields.capacity);
    if (fields.tags !== undefined) values.tags = JSON.stringify(fields.tags);
    if (fields.secret !== undefined) values.secret = fields.secret;
    if (fields.url !== undefined) values.url = fields.url.replace(/\/+$/, '');
    if (Object.keys(values).length > 0) await this.ctx.redis.hset(this.ctx.keys.server(id), values);
    return (await this.get(id))!;
  }

  /** Marks a server healthy or not outside the poller (e.g. checked when added). */
  async setHealth(id: string, health: 'online' | 'offline'): Promise<void> {
    await this.ctx.redis.hset(this.ctx.keys.server(id), 'health', health);
  }

  /**
   * Removes the server and forgets its meeting placements and its participants in the tenants'
   * usage. Their joins still pending against a tenant's quota expire with the pending TTL.
   */
  async remove(id: string): Promise<void> {
    const { redis, keys } = this.ctx;
    await this.require(id);
    const [refs, tenants] = ((await redis.pipeline().smembers(keys.serverMeetings(id)).smembers(keys.serverTenants(id)).exec()) ?? []).map(
      ([, v]) => v,
    ) as [string[], string[]];
    const tx = redis.multi().del(keys.server(id), keys.reservations(id), keys.serverMeetings(id), keys.serverTenants(id)).srem(keys.servers, id);
    for (const ref of refs) {
      tx.del(keys.meeting(ref), keys.inside(ref), keys.pending(ref)).srem(keys.meetings, ref).srem(keys.tenantMeetings(refTenant(ref)), ref);
    }
    for (const tenant of tenants) tx.hdel(keys.tenantUsage(tenant), id);
    await tx.exec();
  }
}
