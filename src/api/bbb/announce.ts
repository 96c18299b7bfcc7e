import { tenantPolicy } from '../../policy/index.js';
import type { Announcement } from '../../state/announcements.js';
import type { Gateway } from './context.js';

/**
 * Records an announced meeting (a BBB create's meta_amphi-start, a room's start) for the
 * scaler's forecast, within the tenant's caps: AMPHI_ANNOUNCED_MAX_PARTICIPANTS_PER_TENANT and
 * its participant quota, at any instant, and ANNOUNCEMENTS_PER_TENANT stored. Over a cap it is
 * not counted (one log line); `what` names the caller in it. Never throws: the create or room
 * that announced stands whether or not the forecast counts it.
 */
export async function recordAnnouncement(gw: Gateway, a: Announcement, what: string): Promise<void> {
  const perTenant = gw.settings.AMPHI_ANNOUNCED_MAX_PARTICIPANTS_PER_TENANT;
  if (perTenant === 0) return;
  const { tenant, meetingID, participants } = a;
  const quota = tenantPolicy(gw.policies.current(), tenant).quotas.maxParticipants;
  const cap = quota === undefined ? perTenant : Math.min(perTenant, quota);
  try {
    const outcome = await gw.store.announcements.put(a, { participants: cap });
    if (!outcome.stored) {
      const why = outcome.reason === 'count' ? `the tenant already has ${outcome.current} announced meetings stored` : `${outcome.current} participants of the tenant's are already announced then; the cap is ${cap}`;
      gw.log.warn({ tenant, meetingID, participants, reason: outcome.reason }, `${what}: announced meeting not counted in the forecast: ${why}`);
    }
  } catch (err) {
    gw.log.warn({ tenant, meetingID, err: err instanceof Error ? err.message : String(err) }, `${what}: announced meeting not recorded`);
  }
}
