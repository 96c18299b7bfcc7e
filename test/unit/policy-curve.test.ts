import { describe, expect, it } from 'vitest';
import {
  curveMaxCameras,
  curveMaxParticipants,
  curveProblems,
  maxCamerasAt,
  maxParticipantsAt,
  overCurve,
} from '../../src/policy/curve.js';
import type { Curve } from '../../src/policy/curve.js';
import { policySchema } from '../../src/policy/schema.js';
import { PUBLISHED_CURVE } from '../helpers/published-curve.js';

describe('maxParticipantsAt on the published table', () => {
  it.each([
    [1, 350],
    [5, 250],
    [10, 150],
    [20, 100],
    [30, 50],
  ])('at the point %i cameras: %i', (cameras, max) => {
    expect(maxParticipantsAt(PUBLISHED_CURVE, cameras)).toBe(max);
  });

  it.each([
    [3, 300],
    [7, 210],
    [15, 125],
    [25, 75],
  ])('between points, %i cameras: %i (linear)', (cameras, max) => {
    expect(maxParticipantsAt(PUBLISHED_CURVE, cameras)).toBe(max);
  });

  it('rounds down between points, never up', () => {
    const curve: Curve = [
      { cameras: 0, maxParticipants: 10 },
      { cameras: 4, maxParticipants: 1 },
    ];
    // 7.75, 5.5, 3.25 exactly
    expect([1, 2, 3].map((c) => maxParticipantsAt(curve, c))).toEqual([7, 5, 3]);
    expect(maxParticipantsAt(PUBLISHED_CURVE, 6)).toBe(230);
    expect(maxParticipantsAt(PUBLISHED_CURVE, 11)).toBe(145);
  });

  it('0 cameras behaves like 1, and a fractional count is rounded up', () => {
    expect(maxParticipantsAt(PUBLISHED_CURVE, 0)).toBe(350);
    expect(maxParticipantsAt(PUBLISHED_CURVE, -2)).toBe(350);
    expect(maxParticipantsAt(PUBLISHED_CURVE, 4.2)).toBe(maxParticipantsAt(PUBLISHED_CURVE, 5));
  });

  it('refuses cameras beyond the last point', () => {
    expect(maxParticipantsAt(PUBLISHED_CURVE, 31)).toBeUndefined();
    expect(maxParticipantsAt(PUBLISHED_CURVE, 1000)).toBeUndefined();
  });

  it('never increases with more cameras, at every count', () => {
    for (let c = 0; c < 30; c++) expect(maxParticipantsAt(PUBLISHED_CURVE, c + 1)!).toBeLessThanOrEqual(maxParticipantsAt(PUBLISHED_CURVE, c)!);
  });

  it('reads a one-point curve as a flat limit up to its cameras', () => {
    const flat: Curve = [{ cameras: 4, maxParticipants: 20 }];
    expect([0, 4].map((c) => maxParticipantsAt(flat, c))).toEqual([20, 20]);
    expect(maxParticipantsAt(flat, 5)).toBeUndefined();
  });
});

describe('maxCamerasAt', () => {
  it.each([
    [100, 20],
    [50, 30],
    [10, 30],
    [150, 10],
    [149, 10],
    [151, 9],
    [250, 5],
    [300, 3],
    [350, 1],
  ])('%i participants may turn on %i cameras', (participants, cameras) => {
    expect(maxCamerasAt(PUBLISHED_CURVE, participants)).toBe(cameras);
    // It is the largest such count: one more camera would not fit (or is beyond the curve).
    expect(maxParticipantsAt(PUBLISHED_CURVE, cameras)!).toBeGreaterThanOrEqual(participants);
    expect(maxParticipantsAt(PUBLISHED_CURVE, cameras + 1) ?? 0).toBeLessThan(participants);
  });

  it('is 0 when the meeting is larger than the curve allows at all', () => {
    expect(maxCamerasAt(PUBLISHED_CURVE, 351)).toBe(0);
  });

  it('names the extremes', () => {
    expect(curveMaxParticipants(PUBLISHED_CURVE)).toBe(350);
    expect(curveMaxCameras(PUBLISHED_CURVE)).toBe(30);
  });
});

describe('overCurve', () => {
  it('flags a meeting whose live cameras put it above the curve', () => {
    expect(overCurve(120, 10, PUBLISHED_CURVE)).toBe(false);
    expect(overCurve(150, 10, PUBLISHED_CURVE)).toBe(false);
    expect(overCurve(120, 20, PUBLISHED_CURVE)).toBe(true); // cameras turned on after the joins
    expect(overCurve(10, 31, PUBLISHED_CURVE)).toBe(true); // beyond the last point
    expect(overCurve(350, 0, PUBLISHED_CURVE)).toBe(false);
  });
});

describe('curve validation', () => {
  it('accepts the published table', () => {
    expect(curveProblems(PUBLISHED_CURVE)).toEqual([]);
  });

  it('rejects cameras that do not increase and participants that increase, naming the point', () => {
    const problems = curveProblems([
      { cameras: 1, maxParticipants: 350 },
      { cameras: 1, maxParticipants: 300 },
      { cameras: 5, maxParticipants: 320 },
      { cameras: 4, maxParticipants: 100 },
    ]);
    expect(problems.map((p) => [p.index, p.field])).toEqual([
      [1, 'cameras'],
      [2, 'maxParticipants'],
      [3, 'cameras'],
    ]);
  });

  const policyWith = (points: unknown) => ({
    curve: { points },
    profiles: { auto: { expected: { participants: 10, cameras: 1 } } },
    tenantDefaults: { profile: 'auto', hintProfile: 'auto' },
  });

  it('the schema rejects invalid curves with the path of the field at fault', () => {
    const cases: [unknown, string][] = [
      [[], 'curve.points'],
      [[{ cameras: 1, maxParticipants: 0 }], 'curve.points.0.maxParticipants'],
      [[{ cameras: -1, maxParticipants: 10 }], 'curve.points.0.cameras'],
      [[{ cameras: 1.5, maxParticipants: 10 }], 'curve.points.0.cameras'],
      [[{ cameras: 1, maxParticipants: 10 }, { cameras: 2, maxParticipants: 20 }], 'curve.points.1.maxParticipants'],
      [[{ cameras: 1, maxParticipants: 10, extra: 1 }], 'curve.points.0'],
    ];
    for (const [points, path] of cases) {
      const result = policySchema.safeParse(policyWith(points));
      expect(result.success, JSON.stringify(points)).toBe(false);
      expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(path);
    }
    expect(policySchema.safeParse(policyWith(PUBLISHED_CURVE)).success).toBe(true);
  });
});
