// Tenants share BBB servers, so each tenant's meeting IDs live in a namespace of their own on
// the servers: `<tenant>~<meetingID>`. The default tenant keeps its IDs unchanged, so a
// single-tenant install (or a migration from Scalelite) sees the same IDs and recordings.

export const DEFAULT_TENANT = 'default';
const SEPARATOR = '~';

export function toUpstreamId(tenant: string, meetingID: string): string {
  return tenant === DEFAULT_TENANT ? meetingID : `${tenant}${SEPARATOR}${meetingID}`;
}

/**
 * The tenant and tenant-local ID of a meeting found on a server. An ID whose prefix is not a
 * known tenant belongs to the default tenant (it may simply contain a `~`).
 */
export function fromUpstreamId(upstreamID: string, tenants: ReadonlySet<string>): { tenant: string; meetingID: string } {
  const at = upstreamID.indexOf(SEPARATOR);
  if (at > 0) {
    const tenant = upstreamID.slice(0, at);
    if (tenant !== DEFAULT_TENANT && tenants.has(tenant)) return { tenant, meetingID: upstreamID.slice(at + 1) };
  }
  return { tenant: DEFAULT_TENANT, meetingID: upstreamID };
}
