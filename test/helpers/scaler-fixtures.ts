import type { ScalerServer } from '../../scaler/servers.js';

export const MINUTE = 60_000;

const CAPACITY: Readonly<Record<string, number>> = { small: 250, standard: 500, large: 1000 };

/** A ready, scaler-created, empty server an hour old at `now`, with `over` applied. */
export function scalerServer(id: string, now: number, over: Partial<ScalerServer> = {}): ScalerServer {
  const sizeClass = over.sizeClass ?? 'standard';
  return {
    id,
    sizeClass,
    capacity: CAPACITY[sizeClass] ?? 500,
    phase: 'ready',
    managed: true,
    startedAt: now - 60 * MINUTE,
    phaseSince: now - 60 * MINUTE,
    polledAt: now - 1000,
    meetings: 0,
    participants: 0,
    recordingsProcessing: 0,
    measuredLoad: 0,
    reservedLoad: 0,
    ...over,
  };
}
