// Tenants share BBB servers, so each tenant's meeting IDs live in a namespace of their own on
// the servers. The encoding is injective, so no tenant can spell another tenant's ID:
//
//   default tenant  → escape(meetingID)
//   tenant `acme`   → `acme~` + escape(meetingID)
//
// where escape writes `%` as `%25` and `~` as `%7E`, so an escaped ID never contains `~`, and
// tenant names (TENANT_NAME) never contain `~` either. The first `~` of an upstream ID is always
// the separator. Default-tenant IDs without `%` or `~` (nearly all: Greenlight and Moodle use
// hex and dashes) are unchanged, so a single-tenant install or a migration from Scalelite sees
// the same IDs and recordings. An ID with `%` or `~` created before this encoding reads as
// foreign (see fromUpstreamId): it is measured but belongs to no tenant.

export const DEFAULT_TENANT = 'default';
const SEPARATOR = '~';

/** BBB's own limit on a meeting ID (MeetingIDConstraint), which the upstream ID must meet too. */
export const MAX_UPSTREAM_ID_LENGTH = 256;

function escapeId(meetingID: string): string {
  return meetingID.replace(/[%~]/g, (c) => (c === '%' ? '%25' : '%7E'));
}

/** The inverse of escapeId, or undefined for text escapeId never produces. */
function unescapeId(text: string): string | undefined {
  if (text.includes(SEPARATOR)) return undefined;
  let ok = true;
  const out = text.replace(/%(..)?/g, (_all, hex: string | undefined) => {
    if (hex === '25') return '%';
    if (hex === '7E') return '~';
    ok = false;
    return '';
  });
  return ok ? out : undefined;
}

export function toUpstreamId(tenant: string, meetingID: string): string {
  const escaped = escapeId(meetingID);
  return tenant === DEFAULT_TENANT ? escaped : `${tenant}${SEPARATOR}${escaped}`;
}

/** Whether a tenant-local ID still fits BBB's limit once it is in its namespace. */
export function fitsUpstream(tenant: string, meetingID: string): boolean {
  return toUpstreamId(tenant, meetingID).length <= MAX_UPSTREAM_ID_LENGTH;
}

/**
 * The tenant and tenant-local ID of a meeting found on a server, or undefined when no tenant
 * can have created it (a prefix naming no known tenant, or text the encoding never produces).
 */
export function fromUpstreamId(upstreamID: string, tenants: ReadonlySet<string>): { tenant: string; meetingID: string } | undefined {
  const at = upstreamID.indexOf(SEPARATOR);
  const tenant = at === -1 ? DEFAULT_TENANT : upstreamID.slice(0, at);
  if (at !== -1 && (tenant === DEFAULT_TENANT || !tenants.has(tenant))) return undefined;
  const meetingID = unescapeId(upstreamID.slice(at + 1));
  return meetingID === undefined ? undefined : { tenant, meetingID };
}
