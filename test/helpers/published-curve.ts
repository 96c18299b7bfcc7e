// The published "Webinaire de l'État" table (reference/capacity.md), copied here on purpose:
// the tests check the curve code against it, not against whatever policies/ ships.
import type { Curve } from '../../src/policy/curve.js';

export const PUBLISHED_CURVE: Curve = [
  { cameras: 1, maxParticipants: 350 },
  { cameras: 5, maxParticipants: 250 },
  { cameras: 10, maxParticipants: 150 },
  { cameras: 20, maxParticipants: 100 },
  { cameras: 30, maxParticipants: 50 },
];
