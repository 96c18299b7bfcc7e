import { describe, expect, it } from 'vitest';
import { BBB_ERRORS } from '../../src/bbb/errors.js';
import { javaDateString } from '../../src/bbb/xml.js';
import { ENTER_FULL, MeetingModel } from '../../src/simulator/meeting-model.js';
import type { MeetingModelOptions } from '../../src/simulator/meeting-model.js';

const CLIENT = 'http://127.0.0.1:9/html5client/join';
const T0 = Date.UTC(2024, 4, 9, 13, 35, 28, 123);
const MIN = 60_000;

const p = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

function setup(opts: MeetingModelOptions = {}) {
  let now = T0;
  const model = new MeetingModel({ now: () => now, ...opts });
  return {
    model,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

function mustCreate(model: MeetingModel, params: Record<string, string>) {
  const r = model.create(p({ name: 'Room', ...params }));
  if (!r.ok) throw new Error(`create failed: ${r.error.messageKey}`);
  return r;
}

/** Join with a role and enter; returns the session token. */
function enter(model: MeetingModel, meetingID: string, extra: Record<string, string> = {}): string {
  const j = model.join(p({ meetingID, fullName: 'Jo', role: 'VIEWER', ...extra }), CLIENT);
  if (!j.ok) throw new Error(`join failed: ${j.error.messageKey}`);
  const e = model.enter(j.result.sessionToken);
  if (!e.ok) throw new Error(`enter failed: ${e.reason}`);
  return j.result.sessionToken;
}

function info(model: MeetingModel, meetingID: string) {
  const m = model.meeting(meetingID);
  if (!m) throw new Error('no meeting');
  return model.info(m);
}

describe('create validation', () => {
  const cases: [string, Record<string, string>, { messageKey: string; message: string }][] = [
    ['meetingID absent', { name: 'Room' }, BBB_ERRORS.missingParamMeetingID],
    ['meetingID empty (size wins over missing)', { meetingID: '', name: 'Room' }, BBB_ERRORS.meetingIdSize],
    ['meetingID of 1 char', { meetingID: 'a', name: 'Room' }, BBB_ERRORS.meetingIdSize],
    ['meetingID of 257 chars', { meetingID: 'a'.repeat(257), name: 'Room' }, BBB_ERRORS.meetingIdSize],
    ['meetingID with a comma', { meetingID: 'a,b', name: 'Room' }, BBB_ERRORS.meetingIdComma],
    ['name absent', { meetingID: 'abc' }, BBB_ERRORS.meetingNameMissing],
    ['name of 1 char', { meetingID: 'abc', name: 'R' }, BBB_ERRORS.meetingNameSize],
    ['name of 257 chars', { meetingID: 'abc', name: 'n'.repeat(257) }, BBB_ERRORS.meetingNameSize],
    ['bad meetingID and no name: sizeError first', { meetingID: 'a' }, BBB_ERRORS.meetingIdSize],
    ['attendeePW of 1 char', { meetingID: 'abc', name: 'Room', attendeePW: 'x' }, BBB_ERRORS.invalidPasswordLength],
    ['moderatorPW of 65 chars', { meetingID: 'abc', name: 'Room', moderatorPW: 'k'.repeat(65) }, BBB_ERRORS.invalidPasswordLength],
    ['password beats meetingID size (bucket 8 < 11)', { meetingID: 'a', name: 'Room', attendeePW: 'x' }, BBB_ERRORS.invalidPasswordLength],
    ['record not boolean', { meetingID: 'abc', name: 'Room', record: 'yes' }, BBB_ERRORS.recordNotBoolean],
    ['voiceBridge not integral', { meetingID: 'abc', name: 'Room', voiceBridge: '12a' }, BBB_ERRORS.voiceBridgeNotIntegral],
    ['breakout without parent', { meetingID: 'abc', name: 'Room', isBreakout: 'true' }, BBB_ERRORS.parentMeetingIdMissing],
  ];
  it.each(cases)('%s', (_label, params, expected) => {
    const { model } = setup();
    const r = model.create(p(params));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toEqual(expected);
    expect(model.meetingCount).toBe(0);
  });

  it('accepts the bounds: 2 and 256 chars, passwords of 2 and 64', () => {
    const { model } = setup();
    expect(model.create(p({ meetingID: 'ab', name: 'Ro' })).ok).toBe(true);
    expect(model.create(p({ meetingID: 'b'.repeat(256), name: 'n'.repeat(256) })).ok).toBe(true);
    expect(model.create(p({ meetingID: 'pw', name: 'Room', attendeePW: 'ap', moderatorPW: 'k'.repeat(64) })).ok).toBe(true);
  });

  it('refuses a voiceBridge already in use, in the api-errors list form', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'one', voiceBridge: '70757' });
    const r = model.create(p({ meetingID: 'two', name: 'Room', voiceBridge: '70757' }));
    expect(r).toEqual({ ok: false, error: BBB_ERRORS.nonUniqueVoiceBridge, list: true });
  });
});

describe('create', () => {
  it('builds the meeting as bbb-web does', () => {
    const { model } = setup();
    const { result } = mustCreate(model, { meetingID: 'Demo Meeting' });
    // sha1("Demo Meeting") as in the docs' getMeetings example (bbb-api.md §3.1).
    expect(result.internalMeetingID).toMatch(/^183f0bf3[0-9a-f]{28}e75c-1715261728123$/);
    expect(result.createTime).toBe(T0);
    expect(result.createDate).toBe(javaDateString(T0));
    expect(result.createDate).toBe('Thu May 09 13:35:28 UTC 2024');
    expect(result.parentMeetingID).toBe('bbb-none');
    expect(result.dialNumber).toBe('613-555-1234');
    expect(result.voiceBridge).toMatch(/^[1-9]\d{4}$/);
    expect(result.attendeePW).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(result.moderatorPW).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(result.attendeePW).not.toBe(result.moderatorPW);
    expect(result.messageKey).toBe('');
    expect(result.message).toBe('');
    expect(result.hasUserJoined).toBe(false);
    expect(result.hasBeenForciblyEnded).toBe(false);
  });

  it('keeps given passwords, duration, caps and flags; defaults userCameraCap 3, meetingCameraCap 0', () => {
    const { model } = setup();
    const m = mustCreate(model, {
      meetingID: 'x1',
      attendeePW: 'ap',
      moderatorPW: 'mp',
      duration: '45',
      maxParticipants: '30',
      meetingCameraCap: '10',
      userCameraCap: '1',
      lockSettingsDisableCam: 'TRUE',
      webcamsOnlyForModerator: 'true',
      record: 'true',
    }).meeting;
    expect([m.attendeePW, m.moderatorPW, m.duration, m.maxParticipants]).toEqual(['ap', 'mp', 45, 30]);
    expect([m.meetingCameraCap, m.userCameraCap, m.lockSettingsDisableCam, m.webcamsOnlyForModerator, m.record]).toEqual([
      10, 1, true, true, true,
    ]);
    const d = mustCreate(model, { meetingID: 'x2', maxParticipants: 'many' }).meeting;
    expect([d.userCameraCap, d.meetingCameraCap, d.maxParticipants, d.record]).toEqual([3, 0, 0, false]);
  });

  it('stores meta_* lower-cased without the prefix, only with valid names', () => {
    const { model } = setup();
    const { meeting } = mustCreate(model, {
      meetingID: 'meta',
      'meta_endCallbackUrl': 'https://e.example/end',
      'meta_bbb-origin': 'Greenlight',
      meta_1bad: 'x',
      meta_: 'x',
      meta_a_b: 'x',
    });
    expect(meeting.metadata).toEqual({ endcallbackurl: 'https://e.example/end', 'bbb-origin': 'Greenlight' });
  });

  it('retries a random voiceBridge already in use', () => {
    const taken = (12345 - 10000) / 90000;
    const queue = [taken, taken];
    const { model } = setup({ random: () => queue.shift() ?? 0.5 });
    mustCreate(model, { meetingID: 'one', voiceBridge: '12345', attendeePW: 'ap', moderatorPW: 'mp' });
    const two = mustCreate(model, { meetingID: 'two', attendeePW: 'ap', moderatorPW: 'mp' });
    expect(two.result.voiceBridge).toBe('55000');
  });

  it('gives each meeting a distinct voiceBridge', () => {
    const { model } = setup();
    const bridges = new Set<string>();
    for (let i = 0; i < 200; i++) bridges.add(mustCreate(model, { meetingID: `m${i}` }).result.voiceBridge);
    expect(bridges.size).toBe(200);
  });
});

describe('duplicate create', () => {
  it('answers duplicateWarning when no password is given, without updating anything', () => {
    const { model, advance } = setup();
    const first = mustCreate(model, { meetingID: 'dup', name: 'First' });
    advance(1000);
    const again = mustCreate(model, { meetingID: 'dup', name: 'Second', maxParticipants: '5' });
    expect(again.duplicate).toBe(true);
    expect(again.result.messageKey).toBe(BBB_ERRORS.duplicateWarning.messageKey);
    expect(again.result.message).toBe(BBB_ERRORS.duplicateWarning.message);
    expect(again.result.internalMeetingID).toBe(first.result.internalMeetingID);
    expect(again.result.createTime).toBe(T0);
    expect(again.meeting.name).toBe('First');
    expect(again.meeting.maxParticipants).toBe(0);
    expect(model.meetingCount).toBe(1);
  });

  it('answers duplicateWarning when both passwords match', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'dup', attendeePW: 'ap', moderatorPW: 'mp' });
    const again = mustCreate(model, { meetingID: 'dup', attendeePW: 'ap', moderatorPW: 'mp' });
    expect(again.result.messageKey).toBe('duplicateWarning');
  });

  it.each([
    ['different passwords', { attendeePW: 'ap', moderatorPW: 'other' }],
    ['only one password, even a matching one', { attendeePW: 'ap' }],
  ])('answers idNotUnique for %s', (_label, pw) => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'dup', attendeePW: 'ap', moderatorPW: 'mp' });
    const r = model.create(p({ meetingID: 'dup', name: 'Room', ...pw }));
    expect(r).toEqual({ ok: false, error: BBB_ERRORS.idNotUnique });
  });

  it('creates a fresh meeting once the previous one has ended', () => {
    const { model, advance } = setup({ endedRetentionMs: 10_000 });
    const first = mustCreate(model, { meetingID: 'again' });
    expect(model.end(p({ meetingID: 'again' })).ok).toBe(true);
    advance(5);
    const second = mustCreate(model, { meetingID: 'again' });
    expect(second.duplicate).toBe(false);
    expect(second.result.messageKey).toBe('');
    expect(second.result.internalMeetingID).not.toBe(first.result.internalMeetingID);
    // The ended one stays listed until akka destroys it.
    expect(model.meetings().map((m) => m.forciblyEnded)).toEqual([true, false]);
    expect(model.meeting('again')?.internalMeetingID).toBe(second.result.internalMeetingID);
  });
});

describe('join', () => {
  function joinOutcome(params: Record<string, string>, create: Record<string, string> = {}, opts: MeetingModelOptions = {}) {
    const { model } = setup(opts);
    mustCreate(model, { meetingID: 'm1', attendeePW: 'ap', moderatorPW: 'mp', ...create });
    return { model, r: model.join(p({ meetingID: 'm1', fullName: 'Jo', ...params }), CLIENT) };
  }

  it.each([
    ['role=MODERATOR', { role: 'MODERATOR' }, 'MODERATOR'],
    ['role is case-insensitive', { role: 'viewer' }, 'VIEWER'],
    ['role wins over a wrong password', { role: 'moderator', password: 'wrong' }, 'MODERATOR'],
    ['moderator password', { password: 'mp' }, 'MODERATOR'],
    ['attendee password', { password: 'ap' }, 'VIEWER'],
    ['an invalid role falls back to the password', { role: 'admin', password: 'ap' }, 'VIEWER'],
  ])('%s', (_label, params, role) => {
    const { model, r } = joinOutcome(params);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const e = model.enter(r.result.sessionToken);
    expect(e.ok && e.user.role).toBe(role);
  });

  it.each([
    ['a wrong password', { password: 'nope' }, {}, BBB_ERRORS.joinInvalidPassword],
    ['neither role nor password', {}, {}, BBB_ERRORS.joinNoRoleNoPassword],
  ])('refuses %s with a Params required error that is never a redirect', (_l, params, create, error) => {
    const { r } = joinOutcome(params, create);
    expect(r).toMatchObject({ ok: false, error, redirectable: false });
  });

  it("asks for a role when the meeting has no passwords", () => {
    const { model } = setup({ generatePasswords: false });
    mustCreate(model, { meetingID: 'nopw' });
    const r = model.join(p({ meetingID: 'nopw', fullName: 'Jo', password: 'x' }), CLIENT);
    expect(r).toMatchObject({ ok: false, error: BBB_ERRORS.joinRoleNeeded, redirectable: false });
  });

  it.each([
    ['an unknown meeting', { meetingID: 'nope', fullName: 'Jo', role: 'VIEWER' }, BBB_ERRORS.meetingForciblyEnded],
    ['no meetingID at all', { fullName: 'Jo', role: 'VIEWER' }, BBB_ERRORS.meetingForciblyEnded],
    ['an empty fullName', { meetingID: 'm1', fullName: '', role: 'VIEWER' }, BBB_ERRORS.missingParamFullName],
    ['no fullName', { meetingID: 'm1', role: 'VIEWER' }, BBB_ERRORS.missingParamFullName],
    ['no fullName and an unknown meeting (bucket 6 < 7)', { meetingID: 'nope' }, BBB_ERRORS.missingParamFullName],
    ['a createTime that does not match', { meetingID: 'm1', fullName: 'Jo', role: 'VIEWER', createTime: '1' }, BBB_ERRORS.mismatchCreateTimeParam],
    ['a createTime that is not a number', { meetingID: 'm1', fullName: 'Jo', role: 'VIEWER', createTime: 'x' }, BBB_ERRORS.notIntegral],
  ])('refuses %s with a redirect-style error', (_l, params, error) => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'm1' });
    expect(model.join(p(params), CLIENT)).toMatchObject({ ok: false, error, redirectable: true });
  });

  it('refuses a meeting that has ended but is still listed', () => {
    const { model } = setup({ endedRetentionMs: 60_000 });
    mustCreate(model, { meetingID: 'm1' });
    model.end(p({ meetingID: 'm1' }));
    const r = model.join(p({ meetingID: 'm1', fullName: 'Jo', role: 'VIEWER' }), CLIENT);
    expect(r).toMatchObject({ ok: false, error: BBB_ERRORS.meetingForciblyEnded });
  });

  it('accepts the matching createTime and returns BBB-shaped ids', () => {
    const { r, model } = joinOutcome({ role: 'VIEWER', createTime: String(T0) });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.result.messageKey).toBe('successfullyJoined');
    expect(r.result.meetingID).toBe(model.meeting('m1')?.internalMeetingID);
    expect(r.result.userID).toMatch(/^w_[a-z0-9]{12}$/);
    expect(r.result.authToken).toMatch(/^[a-z0-9]{12}$/);
    expect(r.result.sessionToken).toMatch(/^[a-z0-9]{16}$/);
    expect(r.result.guestStatus).toBe('ALLOW');
    expect(r.result.url).toBe(`${CLIENT}?sessionToken=${r.result.sessionToken}`);
  });

  it('registers a pending session only: the user counts once it enters', () => {
    const { r, model } = joinOutcome({ role: 'VIEWER', userID: 'student-42', 'userdata-bbb_skip_check_audio': 'true' });
    if (!r.ok) throw new Error('join failed');
    expect(info(model, 'm1').participantCount).toBe(0);
    expect(model.isRunning('m1')).toBe(false);
    expect(model.isPending(r.result.sessionToken)).toBe(true);
    const e = model.enter(r.result.sessionToken);
    expect(e.ok).toBe(true);
    const i = info(model, 'm1');
    expect(i.participantCount).toBe(1);
    expect(i.running).toBe(true);
    expect(i.hasUserJoined).toBe(true);
    expect(i.attendees[0]).toMatchObject({ userID: 'student-42', fullName: 'Jo', role: 'VIEWER', clientType: 'HTML5' });
    expect(i.attendees[0]?.customdata).toEqual({ bbb_skip_check_audio: 'true' });
  });

  it('uses the internal user id as external id when no userID is given', () => {
    const { r, model } = joinOutcome({ role: 'VIEWER' });
    if (!r.ok) throw new Error('join failed');
    model.enter(r.result.sessionToken);
    expect(info(model, 'm1').attendees[0]?.userID).toBe(r.result.userID);
  });

  it('treats a second enter with the same token as a reload', () => {
    const { r, model } = joinOutcome({ role: 'VIEWER' });
    if (!r.ok) throw new Error('join failed');
    expect(model.enter(r.result.sessionToken)).toMatchObject({ ok: true, reentered: false });
    expect(model.enter(r.result.sessionToken)).toMatchObject({ ok: true, reentered: true });
    expect(info(model, 'm1').participantCount).toBe(1);
  });

  it('rejects an unknown session token at enter', () => {
    const { model } = setup();
    expect(model.enter('nope')).toMatchObject({ ok: false, reason: 'unknownSession' });
  });

  it('forgets a pending join after the session TTL', () => {
    const { model, advance } = setup({ pendingSessionTtlMs: 1000 });
    mustCreate(model, { meetingID: 'm1', meetingExpireIfNoUserJoinedInMinutes: '0' });
    const r = model.join(p({ meetingID: 'm1', fullName: 'Jo', role: 'VIEWER' }), CLIENT);
    if (!r.ok) throw new Error('join failed');
    advance(999);
    model.sweep();
    expect(model.isPending(r.result.sessionToken)).toBe(true);
    advance(1);
    model.sweep();
    expect(model.enter(r.result.sessionToken)).toMatchObject({ ok: false, reason: 'unknownSession' });
  });

  it('bounds the pending joins, dropping the oldest', () => {
    const { model } = setup({ maxPendingSessions: 3 });
    mustCreate(model, { meetingID: 'm1' });
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = model.join(p({ meetingID: 'm1', fullName: 'Jo', role: 'VIEWER' }), CLIENT);
      if (r.ok) tokens.push(r.result.sessionToken);
    }
    expect(model.pendingCount).toBe(3);
    expect(model.isPending(tokens[0]!)).toBe(false);
    expect(model.isPending(tokens[3]!)).toBe(true);
  });
});

describe('maxParticipants (distinct external userIDs among users who entered)', () => {
  function full(max: number) {
    const s = setup();
    mustCreate(s.model, { meetingID: 'mx', maxParticipants: String(max) });
    return s;
  }
  const join = (model: MeetingModel, extra: Record<string, string> = {}) =>
    model.join(p({ meetingID: 'mx', fullName: 'Jo', role: 'VIEWER', ...extra }), CLIENT);

  it('counts moderators and refuses the next user', () => {
    const { model } = full(2);
    enter(model, 'mx', { role: 'MODERATOR', userID: 'teacher' });
    enter(model, 'mx', { userID: 'a' });
    expect(join(model, { userID: 'b' })).toMatchObject({ ok: false, error: BBB_ERRORS.maxParticipantsReached, redirectable: true });
    expect(join(model, { role: 'MODERATOR', userID: 'mod2' })).toMatchObject({ ok: false, error: BBB_ERRORS.maxParticipantsReached });
    expect(join(model)).toMatchObject({ ok: false });
  });

  it('always lets in a userID already inside (rejoin, second tab), counting it once', () => {
    const { model } = full(2);
    enter(model, 'mx', { userID: 'a' });
    enter(model, 'mx', { userID: 'b' });
    const tab2 = join(model, { userID: 'a' });
    expect(tab2.ok).toBe(true);
    if (tab2.ok) expect(model.enter(tab2.result.sessionToken).ok).toBe(true);
    const i = info(model, 'mx');
    expect(i.participantCount).toBe(3);
    expect(model.meeting('mx')?.extIdCounts.size).toBe(2);
    expect(join(model, { userID: 'c' }).ok).toBe(false);
  });

  it('does not count joins that never entered (the burst overshoot of issue #9078)', () => {
    const { model } = full(1);
    const a = join(model, { userID: 'a' });
    const b = join(model, { userID: 'b' });
    expect(a.ok && b.ok).toBe(true);
  });

  it('ejects at enter when the meeting filled up since the join', () => {
    const { model } = full(1);
    const a = join(model, { userID: 'a' });
    const b = join(model, { userID: 'b' });
    if (!a.ok || !b.ok) throw new Error('join failed');
    expect(model.enter(a.result.sessionToken).ok).toBe(true);
    expect(model.enter(b.result.sessionToken)).toEqual({ ok: false, reason: 'full', error: ENTER_FULL });
    expect(info(model, 'mx').participantCount).toBe(1);
    // The ejected session is gone: reloading the client does not get in either.
    expect(model.enter(b.result.sessionToken)).toMatchObject({ ok: false, reason: 'unknownSession' });
  });

  it('lets a pending join of a userID already inside enter a full meeting', () => {
    const { model } = full(1);
    const first = join(model, { userID: 'a' });
    const second = join(model, { userID: 'a' });
    if (!first.ok || !second.ok) throw new Error('join failed');
    model.enter(first.result.sessionToken);
    expect(model.enter(second.result.sessionToken).ok).toBe(true);
  });

  it('frees the seat when a user leaves', () => {
    const { model } = full(1);
    const a = enter(model, 'mx', { userID: 'a' });
    expect(join(model, { userID: 'b' }).ok).toBe(false);
    expect(model.leave(a)).toBe(true);
    expect(join(model, { userID: 'b' }).ok).toBe(true);
  });

  it('is unlimited with 0 or a negative value', () => {
    for (const max of [0, -1]) {
      const { model } = full(max);
      for (let i = 0; i < 20; i++) enter(model, 'mx');
      expect(info(model, 'mx').participantCount).toBe(20);
    }
  });

  it('ends the oldest session beyond maxUserConcurrentAccesses', () => {
    const { model } = setup({ maxUserConcurrentAccesses: 2 });
    mustCreate(model, { meetingID: 'mx' });
    const t1 = enter(model, 'mx', { userID: 'a' });
    const t2 = enter(model, 'mx', { userID: 'a' });
    const t3 = enter(model, 'mx', { userID: 'a' });
    expect(model.user(t1)).toBeUndefined();
    expect(model.user(t2)).toBeDefined();
    expect(model.user(t3)).toBeDefined();
    expect(info(model, 'mx').participantCount).toBe(2);
  });
});

describe('cameras', () => {
  it('refuses a user beyond userCameraCap (default 3)', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx' });
    const t = enter(model, 'mx');
    expect([1, 2, 3].map(() => model.startCamera(t))).toEqual([
      { ok: true, cameras: 1 },
      { ok: true, cameras: 2 },
      { ok: true, cameras: 3 },
    ]);
    expect(model.startCamera(t)).toEqual({ ok: false, reason: 'userCameraCap' });
    expect(info(model, 'mx').videoCount).toBe(3);
  });

  it('has no user cap with userCameraCap=0', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx', userCameraCap: '0' });
    const t = enter(model, 'mx');
    for (let i = 0; i < 5; i++) expect(model.startCamera(t).ok).toBe(true);
  });

  it('refuses any camera once meeting cameras >= meetingCameraCap, moderators included', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx', meetingCameraCap: '2' });
    const mod = enter(model, 'mx', { role: 'MODERATOR' });
    const a = enter(model, 'mx');
    const b = enter(model, 'mx');
    expect(model.startCamera(mod).ok).toBe(true);
    expect(model.startCamera(a).ok).toBe(true);
    expect(model.startCamera(b)).toEqual({ ok: false, reason: 'meetingCameraCap' });
    expect(model.startCamera(mod)).toEqual({ ok: false, reason: 'meetingCameraCap' });
    model.stopCameras(a);
    expect(model.startCamera(b).ok).toBe(true);
  });

  it('locks viewers, not moderators, with lockSettingsDisableCam', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx', lockSettingsDisableCam: 'true' });
    expect(model.startCamera(enter(model, 'mx'))).toEqual({ ok: false, reason: 'locked' });
    expect(model.startCamera(enter(model, 'mx', { role: 'MODERATOR' })).ok).toBe(true);
  });

  it('stops cameras, and refuses unknown sessions', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx' });
    const t = enter(model, 'mx');
    model.startCamera(t);
    model.startCamera(t);
    expect(model.stopCameras(t)).toEqual({ ok: true, cameras: 0 });
    expect(info(model, 'mx').videoCount).toBe(0);
    expect(model.startCamera('nope')).toEqual({ ok: false, reason: 'unknownSession' });
    expect(model.stopCameras('nope')).toEqual({ ok: false, reason: 'unknownSession' });
  });
});

describe('counters', () => {
  it('keeps participant, moderator, listener, voice and video counts consistent', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx', maxParticipants: '50' });
    const mod = enter(model, 'mx', { role: 'MODERATOR', fullName: 'Teacher' });
    const l = enter(model, 'mx');
    enter(model, 'mx');
    model.startCamera(mod);
    model.startCamera(mod);
    model.setAudio(mod, 'mic');
    model.setAudio(l, 'listen');
    const i = info(model, 'mx');
    expect(i).toMatchObject({
      participantCount: 3,
      moderatorCount: 1,
      listenerCount: 1,
      voiceParticipantCount: 1,
      videoCount: 2,
      maxUsers: 50,
      running: true,
      hasUserJoined: true,
      hasBeenForciblyEnded: false,
      startTime: T0,
      endTime: 0,
    });
    const teacher = i.attendees.find((a) => a.fullName === 'Teacher');
    expect(teacher).toMatchObject({ isPresenter: true, hasJoinedVoice: true, isListeningOnly: false, hasVideo: true });
    expect(i.attendees.filter((a) => a.isPresenter)).toHaveLength(1);
  });

  it('updates on leave and hands the presenter role on', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx' });
    const mod1 = enter(model, 'mx', { role: 'MODERATOR', fullName: 'One' });
    enter(model, 'mx', { role: 'MODERATOR', fullName: 'Two' });
    model.startCamera(mod1);
    model.leave(mod1);
    const i = info(model, 'mx');
    expect(i.participantCount).toBe(1);
    expect(i.videoCount).toBe(0);
    expect(i.attendees[0]).toMatchObject({ fullName: 'Two', isPresenter: true });
    expect(model.leave(mod1)).toBe(false);
  });
});

describe('end', () => {
  it.each([
    ['no meetingID', {}, BBB_ERRORS.missingParamMeetingID],
    ['an unknown meeting', { meetingID: 'nope' }, BBB_ERRORS.notFound],
    ['a wrong moderator password', { meetingID: 'mx', password: 'ap' }, BBB_ERRORS.endWrongPassword],
  ])('refuses %s', (_l, params, error) => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx', attendeePW: 'ap', moderatorPW: 'mp' });
    expect(model.end(p(params))).toEqual({ ok: false, error });
    expect(model.meeting('mx')?.forciblyEnded).toBe(false);
  });

  it('removes the meeting at once with no retention, and refuses its pending joins at enter', () => {
    const { model } = setup();
    mustCreate(model, { meetingID: 'mx', moderatorPW: 'mp', attendeePW: 'ap' });
    const inside = enter(model, 'mx');
    const pending = model.join(p({ meetingID: 'mx', fullName: 'Late', role: 'VIEWER' }), CLIENT);
    expect(model.end(p({ meetingID: 'mx', password: 'mp' }))).toEqual({ ok: true });
    expect(model.meeting('mx')).toBeUndefined();
    expect(model.meetings()).toHaveLength(0);
    expect(model.user(inside)).toBeUndefined();
    if (pending.ok) expect(model.enter(pending.result.sessionToken)).toMatchObject({ ok: false, reason: 'ended' });
  });

  it('keeps an ended meeting listed, ended and empty, for the retention time', () => {
    const { model, advance } = setup({ endedRetentionMs: 3000 });
    mustCreate(model, { meetingID: 'mx' });
    enter(model, 'mx');
    advance(500);
    expect(model.end(p({ meetingID: 'mx' }))).toEqual({ ok: true });
    const i = info(model, 'mx');
    expect(i).toMatchObject({ hasBeenForciblyEnded: true, running: false, participantCount: 0, endTime: T0 + 500 });
    expect(model.isRunning('mx')).toBe(false);
    // Ending again is harmless, as another end message to akka would be.
    expect(model.end(p({ meetingID: 'mx' }))).toEqual({ ok: true });
    advance(2999);
    expect(model.meeting('mx')).toBeDefined();
    advance(1);
    // Reads purge it without waiting for the sweep.
    expect(model.meeting('mx')).toBeUndefined();
    expect(model.meetings()).toHaveLength(0);
  });
});

describe('expiry (sweep with an injected clock)', () => {
  it('expires a meeting nobody joined after meetingExpireIfNoUserJoinedInMinutes (default 5)', () => {
    const { model, advance } = setup();
    mustCreate(model, { meetingID: 'mx' });
    const j = model.join(p({ meetingID: 'mx', fullName: 'Jo', role: 'VIEWER' }), CLIENT);
    expect(j.ok).toBe(true);
    advance(5 * MIN - 1);
    expect(model.sweep()).toBe(0);
    advance(1);
    expect(model.sweep()).toBe(1);
    expect(model.meeting('mx')).toBeUndefined();
  });

  it('honours the create parameter, and 0 as never', () => {
    const { model, advance } = setup();
    mustCreate(model, { meetingID: 'short', meetingExpireIfNoUserJoinedInMinutes: '1' });
    mustCreate(model, { meetingID: 'never', meetingExpireIfNoUserJoinedInMinutes: '0' });
    advance(MIN);
    model.sweep();
    expect(model.meeting('short')).toBeUndefined();
    advance(24 * 60 * MIN);
    model.sweep();
    expect(model.meeting('never')).toBeDefined();
  });

  it('expires a meeting meetingExpireWhenLastUserLeftInMinutes (default 1) after the last user left', () => {
    const { model, advance } = setup();
    mustCreate(model, { meetingID: 'mx' });
    const a = enter(model, 'mx');
    advance(10 * MIN);
    expect(model.sweep()).toBe(0);
    model.leave(a);
    advance(MIN - 1);
    expect(model.sweep()).toBe(0);
    advance(1);
    expect(model.sweep()).toBe(1);
  });

  it('never expires a meeting with users inside, nor one a user re-entered', () => {
    const { model, advance } = setup();
    mustCreate(model, { meetingID: 'mx' });
    const a = enter(model, 'mx');
    model.leave(a);
    advance(30_000);
    enter(model, 'mx');
    advance(60 * MIN);
    expect(model.sweep()).toBe(0);
    expect(model.isRunning('mx')).toBe(true);
  });

  it('ends a meeting when its duration is over', () => {
    const { model, advance } = setup({ endedRetentionMs: 1000 });
    mustCreate(model, { meetingID: 'mx', duration: '2' });
    enter(model, 'mx');
    advance(2 * MIN);
    model.sweep();
    expect(info(model, 'mx')).toMatchObject({ hasBeenForciblyEnded: true, participantCount: 0 });
    advance(1000);
    model.sweep();
    expect(model.meeting('mx')).toBeUndefined();
  });
});

describe('simulated recordings', () => {
  it('records an ended meeting created with record=true that had users', () => {
    const { model, advance } = setup();
    const { result } = mustCreate(model, { meetingID: 'rec', record: 'true', meta_course: 'math' });
    mustCreate(model, { meetingID: 'norec' });
    mustCreate(model, { meetingID: 'empty', record: 'true' });
    enter(model, 'rec', { userID: 'u1' });
    enter(model, 'rec', { userID: 'u2' });
    enter(model, 'norec');
    advance(3 * MIN);
    for (const id of ['rec', 'norec', 'empty']) model.end(p({ meetingID: id }));
    const recs = model.recordings.find();
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      recordID: result.internalMeetingID,
      meetingID: 'rec',
      state: 'published',
      published: true,
      participants: 2,
      startTime: T0,
      endTime: T0 + 3 * MIN,
      metadata: { course: 'math' },
    });
    expect(recs[0]?.formats[0]).toMatchObject({ type: 'presentation', length: 3 });
    expect(model.recordings.find({ meetingIDs: ['rec'] })).toHaveLength(1);
    expect(model.recordings.find({ meetingIDs: ['norec'] })).toHaveLength(0);
  });
});
