import { decodeTenant } from './codec.js';
import type { StoreContext } from './context.js';
import type { TenantRecord } from './types.js';

export const TENANT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class InvalidTenantError extends Error {}

/** Tenants (ministries, academies, LMS instances): secrets, host names, settings. */
export class TenantRegistry {
  constructor(private readonly ctx: StoreContext) {}

  async put(tenant: TenantRecord): Promise<TenantRecord> {
    if (!TENANT_NAME.test(tenant.name)) {
      throw new InvalidTenantError(`tenant name "${tenant.name}" must match ${TENANT_NAME.source}`);
    }
    if (tenant.secrets.length === 0) throw new InvalidTenantError(`tenant "${tenant.name}" needs at least one secret`);
    const { name, ...rest } = tenant;
    await this.ctx.redis.hset(this.ctx.keys.tenants, name, JSON.stringify(rest));
    return tenant;
  }

  async get(name: string): Promise<TenantRecord | undefined> {
    return decodeTenant(name, (await this.ctx.redis.hget(this.ctx.keys.tenants, name)) ?? undefined);
  }

  async list(): Promise<TenantRecord[]> {
    const all = await this.ctx.redis.hgetall(this.ctx.keys.tenants);
    return Object.keys(all)
      .sort()
      .map((name) => decodeTenant(name, all[name])!)
      .filter(Boolean);
  }

  /**
   * Removes a tenant and what the store kept of its traffic (meeting sizes, usage, pending
   * joins): a tenant added later under the same name starts from nothing of the old one's.
   */
  async remove(name: string): Promise<boolean> {
    const { keys } = this.ctx;
    const [[, removed] = []] =
      (await this.ctx.redis
        .multi()
        .hdel(keys.tenants, name)
        .del(keys.tenantSizes(name), keys.tenantUsage(name), keys.tenantPending(name), keys.tenantMeetings(name))
        .exec()) ?? [];
    return removed === 1;
  }
}
