// The policy's load section as the placement code's types, and the load a profile implies.
// The arithmetic stays in placement/load-model.ts; this only feeds it the policy's numbers.
import { expectedMeetingLoad } from '../placement/load-model.js';
import type { LoadWeights } from '../placement/load-model.js';
import { maxParticipantsAt } from './curve.js';
import type { Curve } from './curve.js';
import type { Policy } from './schema.js';

export interface LoadModel {
  weights: LoadWeights;
  /** Capacity in load units by server size class. */
  sizeClasses: Readonly<Record<string, number>>;
}

export function loadModel(policy: Policy): LoadModel {
  return { weights: { ...policy.load.weights }, sizeClasses: { ...policy.load.sizeClasses } };
}

/** What a new meeting reserves at placement. */
export function reservationFor(policy: Policy, expected: { participants: number; cameras: number }): number {
  return expectedMeetingLoad(expected.participants, expected.cameras, policy.load.weights);
}

/**
 * The heaviest a meeting within these limits can get while the curve holds it: the largest
 * expected load over every camera count the meeting may reach. Streams grow as cameras ×
 * viewers, so the peak usually lies between the curve's ends, not at either.
 */
export function peakLoad(curve: Curve, limits: { maxParticipants: number; maxCameras: number }, weights: LoadWeights): number {
  let peak = 0;
  for (let c = 0; c <= limits.maxCameras; c++) {
    const byCurve = maxParticipantsAt(curve, c);
    if (byCurve === undefined) break;
    peak = Math.max(peak, expectedMeetingLoad(Math.min(byCurve, limits.maxParticipants), c, weights));
  }
  return peak;
}

/**
 * The most cameras a meeting of `participants` may have and still fit, alone, a server of
 * `capacity`: beyond it no placement can hold the meeting, whatever the curve allows. At least
 * 1 (the curve's one-camera point is the policy's promise to every meeting).
 */
export function camerasHeldBy(capacity: number, participants: number, weights: LoadWeights): number {
  const base = expectedMeetingLoad(participants, 0, weights);
  const perCamera = expectedMeetingLoad(participants, 1, weights) - base;
  if (!(perCamera > 0)) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.floor((capacity - base) / perCamera));
}

/** Size classes whose capacity holds `load`, smallest first. */
export function sizeClassesHolding(model: LoadModel, load: number): string[] {
  return Object.entries(model.sizeClasses)
    .filter(([, capacity]) => capacity >= load)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
}
