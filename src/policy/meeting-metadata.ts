// The limits a meeting was created with travel in its BBB metadata: the gateway's create sets
// them, BBB echoes meta_* parameters in getMeetings (names lower-cased, without `meta_`), and
// the poller reads them back, so a meeting re-pinned after Redis lost its data keeps them. Pure.
import { PROFILE_PARAM } from './profiles.js';
import type { MeetingPolicy } from './profiles.js';

export const MAX_PARTICIPANTS_META = 'meta_amphi-max-participants';
export const MODERATOR_MARGIN_META = 'meta_amphi-moderator-margin';

/** Set by the gateway only: a caller's own value (in any letter case) would raise its limits. */
const GATEWAY_META: readonly string[] = [PROFILE_PARAM, MAX_PARTICIPANTS_META, MODERATOR_MARGIN_META];

export function isGatewayMetadata(param: string): boolean {
  return GATEWAY_META.includes(param.toLowerCase());
}

/** The create parameters that record a meeting's limits on its server. */
export function limitsMetadata(decided: MeetingPolicy): [string, string][] {
  return [
    [PROFILE_PARAM, decided.profile],
    [MAX_PARTICIPANTS_META, String(decided.limits.maxParticipants)],
    [MODERATOR_MARGIN_META, String(decided.limits.moderatorMargin)],
  ];
}

export interface EchoedLimits {
  profile: string;
  /** 0: only the curve limits the meeting. */
  maxParticipants: number;
  moderatorMargin: number;
}

const echoed = (metadata: Readonly<Record<string, string>>, param: string): string | undefined => metadata[param.slice('meta_'.length)];

function count(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/**
 * A meeting's limits from what its server reports. BBB itself holds the meeting to `maxUsers`
 * (the create's maxParticipants), so a recorded limit above it never counts.
 */
export function limitsFromMetadata(metadata: Readonly<Record<string, string>>, maxUsers: number): EchoedLimits {
  const limits = [count(echoed(metadata, MAX_PARTICIPANTS_META)), maxUsers].filter((n): n is number => n !== undefined && n > 0);
  return {
    profile: echoed(metadata, PROFILE_PARAM) ?? '',
    maxParticipants: limits.length === 0 ? 0 : Math.min(...limits),
    moderatorMargin: count(echoed(metadata, MODERATOR_MARGIN_META)) ?? 0,
  };
}
