// The camera curve: how many participants one meeting may hold with N cameras on. Pure.
// Between two points the limit is interpolated linearly and rounded down (never above what the
// table allows); fewer cameras than the first point get the first point's limit (0 cameras
// behaves like 1 in the default table); more cameras than the last point are refused.

export interface CurvePoint {
  cameras: number;
  maxParticipants: number;
}

export type Curve = readonly CurvePoint[];

/**
 * The most participants a meeting may hold with `cameras` cameras on; undefined when that many
 * cameras are beyond the curve (refused). A fractional camera count is rounded up (safe side).
 */
export function maxParticipantsAt(curve: Curve, cameras: number): number | undefined {
  const c = Math.max(0, Math.ceil(cameras));
  const first = curve[0];
  if (!first) return undefined;
  if (c <= first.cameras) return first.maxParticipants;
  for (let i = 1; i < curve.length; i++) {
    const lo = curve[i - 1]!;
    const hi = curve[i]!;
    if (c > hi.cameras) continue;
    // Integer arithmetic then floor: exact for table values, and rounds down between points.
    return lo.maxParticipants + Math.floor(((hi.maxParticipants - lo.maxParticipants) * (c - lo.cameras)) / (hi.cameras - lo.cameras));
  }
  return undefined;
}

/**
 * The most cameras a meeting of `participants` may turn on. 0 when not even one camera fits,
 * which also covers a meeting larger than the curve allows at all (callers that must tell
 * those apart compare with curveMaxParticipants). Note BBB reads meetingCameraCap=0 as "no
 * cap", so a 0 from here must never be sent as one.
 */
export function maxCamerasAt(curve: Curve, participants: number): number {
  for (let c = curveMaxCameras(curve); c >= 1; c--) {
    if ((maxParticipantsAt(curve, c) ?? 0) >= participants) return c;
  }
  return 0;
}

/** The curve's largest meeting (at its fewest cameras). */
export function curveMaxParticipants(curve: Curve): number {
  return curve[0]?.maxParticipants ?? 0;
}

/** The most cameras the curve allows at all (its last point). */
export function curveMaxCameras(curve: Curve): number {
  return curve[curve.length - 1]?.cameras ?? 0;
}

/** True when live counts put a meeting above its curve (cameras turned on after people joined). */
export function overCurve(participants: number, cameras: number, curve: Curve): boolean {
  const max = maxParticipantsAt(curve, cameras);
  return max === undefined || participants > max;
}

export interface CurveProblem {
  /** Index of the offending point, and the field at fault. */
  index: number;
  field: keyof CurvePoint;
  message: string;
}

/** Points must rise strictly in cameras and never rise in participants. */
export function curveProblems(curve: Curve): CurveProblem[] {
  const problems: CurveProblem[] = [];
  for (let i = 1; i < curve.length; i++) {
    const prev = curve[i - 1]!;
    const p = curve[i]!;
    if (p.cameras <= prev.cameras) {
      problems.push({ index: i, field: 'cameras', message: `cameras must increase from point to point (${prev.cameras} then ${p.cameras})` });
    }
    if (p.maxParticipants > prev.maxParticipants) {
      problems.push({
        index: i,
        field: 'maxParticipants',
        message: `maxParticipants must not increase with more cameras (${prev.maxParticipants} then ${p.maxParticipants})`,
      });
    }
  }
  return problems;
}
