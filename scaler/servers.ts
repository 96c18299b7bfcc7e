// The scaler's view of a server: what it holds (load, meetings, recordings) and where it is in
// the scaler's lifecycle. Built from the registry and the scaler's own actions by the caller;
// the decision code only reads it.

/** What the load of one server is made of, in load units (src/placement/load-model.ts). */
export interface ServerLoad {
  /** Capacity in load units. */
  capacity: number;
  /** The load model applied to what the poller measured (participants, voice, cameras). */
  measuredLoad: number;
  /** What young meetings still reserve beyond what was measured of them. */
  reservedLoad: number;
  /** Measured CPU use, 0 to 1, when the server reports it. */
  cpu?: number;
}

/**
 * - `booting`: asked of the provider and not answering yet, or registered and not yet found
 *   online by the poller; counts toward desired, holds nothing.
 * - `ready`: enabled and online; the capacity placement uses.
 * - `draining`: cordoned by the scaler, removed once empty.
 * - `deleting`: being deprovisioned.
 * - `unavailable`: offline, or cordoned or disabled by an operator: the scaler never touches it.
 */
export type ServerPhase = 'booting' | 'ready' | 'draining' | 'deleting' | 'unavailable';

export interface ScalerServer extends ServerLoad {
  id: string;
  sizeClass: string;
  phase: ServerPhase;
  /** Created by the scaler's provider. Servers added by hand are capacity, never removed. */
  managed: boolean;
  /** When it came into service (booting: when it was asked for), ms. */
  startedAt: number;
  /** When its current phase began (draining: when it was cordoned), ms. */
  phaseSince: number;
  /** When the poller last measured it (0: never), ms. */
  polledAt: number;
  /** Meetings on it, placed or polled. */
  meetings: number;
  participants: number;
  /** Recordings it is still processing: deleting the server would lose them. */
  recordingsProcessing: number;
}
