import { describe, expect, it } from 'vitest';
import { isGatewayMetadata, limitsFromMetadata, limitsMetadata } from '../../src/policy/meeting-metadata.js';
import type { MeetingPolicy } from '../../src/policy/profiles.js';

const webinar: MeetingPolicy = {
  ok: true,
  profile: 'webinar',
  source: 'param',
  bbbParams: [['maxParticipants', '350']],
  limits: { maxParticipants: 350, maxCameras: 1, moderatorMargin: 5 },
  expected: { participants: 350, cameras: 1 },
  capped: [],
};

/** What BBB echoes of create's meta_* parameters in getMeetings: lower-cased, without `meta_`. */
const echo = (params: [string, string][]): Record<string, string> =>
  Object.fromEntries(params.map(([k, v]) => [k.slice('meta_'.length).toLowerCase(), v]));

describe('meeting limits in BBB metadata', () => {
  it('round-trips the limits through what the server echoes', () => {
    expect(limitsFromMetadata(echo(limitsMetadata(webinar)), 350)).toEqual({ profile: 'webinar', maxParticipants: 350, moderatorMargin: 5 });
  });

  it("reserves the gateway's names in any letter case, and only those", () => {
    for (const name of ['meta_amphi-max-participants', 'META_AMPHI-MAX-PARTICIPANTS', 'meta_Amphi-Moderator-Margin', 'meta_amphi-profile']) {
      expect(isGatewayMetadata(name)).toBe(true);
    }
    for (const name of ['meta_amphi-expected-cameras', 'meta_bbb-origin', 'maxParticipants']) expect(isGatewayMetadata(name)).toBe(false);
  });

  it("never reads a limit above the one BBB enforces (maxUsers), and falls back to it", () => {
    expect(limitsFromMetadata({ 'amphi-max-participants': '5000' }, 50).maxParticipants).toBe(50);
    expect(limitsFromMetadata({}, 120)).toEqual({ profile: '', maxParticipants: 120, moderatorMargin: 0 });
    expect(limitsFromMetadata({ 'amphi-max-participants': '40' }, 0).maxParticipants).toBe(40);
    expect(limitsFromMetadata({ 'amphi-max-participants': '-1', 'amphi-moderator-margin': 'x' }, 0)).toEqual({
      profile: '',
      maxParticipants: 0,
      moderatorMargin: 0,
    });
  });
});
