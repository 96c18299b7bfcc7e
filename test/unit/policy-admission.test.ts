import { describe, expect, it } from 'vitest';
import { admitJoin } from '../../src/policy/admission.js';
import type { JoinRequest } from '../../src/policy/admission.js';
import { maxParticipantsAt } from '../../src/policy/curve.js';
import { PUBLISHED_CURVE } from '../helpers/published-curve.js';

const join = (over: Partial<JoinRequest>): JoinRequest => ({
  maxByCurveAtCameras: 150,
  participants: 0,
  pendingJoins: 0,
  isInside: false,
  role: 'viewer',
  moderatorMargin: 0,
  ...over,
});

describe('admitJoin', () => {
  it('admits up to the curve at the live camera count, counting joins since the poll', () => {
    expect(admitJoin(join({ participants: 149 }))).toEqual({ admitted: true });
    expect(admitJoin(join({ participants: 150 }))).toEqual({ admitted: false, reason: 'curve', limit: 150 });
    // The poll saw 140; 9 joins were admitted since: the 10th still fits, the 11th does not.
    expect(admitJoin(join({ participants: 140, pendingJoins: 9 }))).toEqual({ admitted: true });
    expect(admitJoin(join({ participants: 140, pendingJoins: 10 }))).toMatchObject({ admitted: false, reason: 'curve' });
  });

  it('holds an auto meeting to the curve as cameras come on', () => {
    const at = (cameras: number, participants: number) =>
      admitJoin(join({ maxByCurveAtCameras: maxParticipantsAt(PUBLISHED_CURVE, cameras), maxParticipants: 350, participants }));
    expect(at(1, 200)).toEqual({ admitted: true });
    expect(at(20, 99)).toEqual({ admitted: true });
    expect(at(20, 100)).toMatchObject({ admitted: false, reason: 'curve', limit: 100 });
    expect(at(31, 10)).toEqual({ admitted: false, reason: 'camerasBeyondCurve', limit: 0 });
  });

  it("the meeting's own maxParticipants binds when lower than the curve", () => {
    expect(admitJoin(join({ maxByCurveAtCameras: 350, maxParticipants: 50, participants: 49 }))).toEqual({ admitted: true });
    expect(admitJoin(join({ maxByCurveAtCameras: 350, maxParticipants: 50, participants: 50 }))).toEqual({
      admitted: false,
      reason: 'maxParticipants',
      limit: 50,
    });
  });

  it('a user already inside may always rejoin, even over the curve or beyond it', () => {
    expect(admitJoin(join({ participants: 400, isInside: true }))).toEqual({ admitted: true });
    expect(admitJoin(join({ maxByCurveAtCameras: undefined, participants: 60, isInside: true }))).toEqual({ admitted: true });
  });

  it('keeps the moderator margin for moderators', () => {
    const near = { maxByCurveAtCameras: 350, maxParticipants: 350, moderatorMargin: 5 };
    expect(admitJoin(join({ ...near, participants: 344 }))).toEqual({ admitted: true }); // the 345th seat
    expect(admitJoin(join({ ...near, participants: 345 }))).toEqual({ admitted: false, reason: 'moderatorMargin', limit: 345 });
    expect(admitJoin(join({ ...near, participants: 345, role: 'moderator' }))).toEqual({ admitted: true });
    expect(admitJoin(join({ ...near, participants: 349, role: 'moderator' }))).toEqual({ admitted: true });
    expect(admitJoin(join({ ...near, participants: 350, role: 'moderator' }))).toMatchObject({ admitted: false, reason: 'curve' });
  });

  it("holds new seats, moderators' too, to the tenant's participant quota over all its meetings", () => {
    const tenantQuota = (participants: number, pendingJoins: number) => ({ maxParticipants: 100, participants, pendingJoins });
    expect(admitJoin(join({ tenantQuota: tenantQuota(90, 9) }))).toEqual({ admitted: true }); // the 100th seat
    expect(admitJoin(join({ tenantQuota: tenantQuota(90, 10) }))).toEqual({ admitted: false, reason: 'tenantQuota', limit: 100 });
    expect(admitJoin(join({ tenantQuota: tenantQuota(100, 0), role: 'moderator' }))).toMatchObject({ admitted: false, reason: 'tenantQuota' });
    // A user inside (or admitted moments ago) takes no new seat.
    expect(admitJoin(join({ tenantQuota: tenantQuota(150, 10), isInside: true }))).toEqual({ admitted: true });
  });
});
