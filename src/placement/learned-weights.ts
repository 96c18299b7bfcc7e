// The load model's weights learned from what the servers' CPU says (placement/cpu-load.ts rule
// 2). The policy's weights are a prior from the published sizing; a real pool's costs differ by
// BBB version, hardware and how people use it (the camera streams delivered, above all). Each
// poll of a server reporting CPU is one observation:
//
//     cpu × capacity  ≈  b + Σ_j w_j x_j       x = (meetings, participants, voice, streams delivered)
//
// (b: the host's own work, which belongs to no meeting). The pool keeps the observations'
// sufficient statistics (XᵀX, Xᵀy), decayed in time so the model follows a pool that changes;
// weights are solved from them by least squares, pulled toward the policy's weights by a prior
// worth a small share of the evidence on each term (a direction the data does not resolve,
// e.g. participants against voice when everyone is on audio, keeps a share of each). Since the
// result prices every meeting of the pool, one server must not be able to steer it: each weight
// stays within a factor MAX_FACTOR of the policy's, and the fit is used only while at least
// MIN_SERVERS distinct servers fed it recently (one host whose exporter shows an idle machine,
// or one busy with recordings, would otherwise teach the pool that meetings are free or dear).
// Pure: the poller folds observations in (PollWriter.learnLoad); placement, the poller's
// measurements and the scaler's forecast read the weights.
import type { LoadWeights } from './load-model.js';

/** The terms, in the order of the statistics' rows; `host` is the intercept. */
export const LOAD_TERMS = ['host', 'perMeeting', 'perParticipant', 'perVoice', 'perStreamDelivered'] as const;
const K = LOAD_TERMS.length;

/** One poll of a server whose CPU was read in that poll. */
export interface LoadObservation {
  /** The server's id: the fit needs several servers behind it. */
  server: string;
  meetings: number;
  participants: number;
  voice: number;
  streamsDelivered: number;
  capacity: number;
  /** Utilization 0..1, measured over the window that ends at this poll. */
  cpu: number;
}

/** Decayed sums of the observations: xtx is K×K row-major, xty has K entries. */
export interface LoadStatistics {
  xtx: number[];
  xty: number[];
  /** When they were last decayed (ms). */
  at: number;
  /** When each server last fed them (ms), by server id. */
  seen: Readonly<Record<string, number>>;
}

/** A server this busy is saturated: its CPU says "at least", not "this much". */
export const SATURATED_CPU = 0.97;
/** How fast old evidence fades: after this long it weighs 37 %. */
export const LEARNING_TAU_MS = 30 * 60_000;
/** Evidence needed before the learned weights replace the policy's (decayed observations). */
export const MIN_OBSERVATIONS = 10;
/** …from at least this many distinct servers within SERVERS_WINDOW_MS. */
export const MIN_SERVERS = 3;
export const SERVERS_WINDOW_MS = 60 * 60_000;
/** Statistics not fed for this long are not used (no server reports CPU any more). */
export const MAX_AGE_MS = 24 * 60 * 60_000;
/** The prior's strength: this share of each term's own evidence. */
export const PRIOR_SHARE = 0.005;
/** No learned weight strays from the policy's by more than this factor, either way. */
export const MAX_FACTOR = 8;

/** The features of an observation, in LOAD_TERMS order. */
function features(o: LoadObservation): number[] {
  return [1, o.meetings, o.participants, o.voice, o.streamsDelivered];
}

/** Whether an observation says something: a live, unsaturated server with meetings. */
export function usable(o: LoadObservation): boolean {
  return o.meetings > 0 && o.capacity > 0 && Number.isFinite(o.cpu) && o.cpu >= 0 && o.cpu < SATURATED_CPU;
}

/** The sums of a batch of observations (unusable ones skipped), as a flat vector: xtx then xty; and the servers behind them. */
export function observationSums(observations: Iterable<LoadObservation>): { sums: number[]; count: number; servers: string[] } {
  const sums = new Array<number>(K * K + K).fill(0);
  let count = 0;
  const servers = new Set<string>();
  for (const o of observations) {
    if (!usable(o)) continue;
    servers.add(o.server);
    const x = features(o);
    const y = o.cpu * o.capacity;
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) sums[i * K + j]! += x[i]! * x[j]!;
      sums[K * K + i]! += x[i]! * y;
    }
    count++;
  }
  return { sums, count, servers: [...servers] };
}

/** Statistics from their stored form (the flat vector, its time, when each server fed it); undefined when malformed. */
export function decodeStatistics(flat: string | undefined, at: string | undefined, seen: Readonly<Record<string, number>> = {}): LoadStatistics | undefined {
  if (!flat || !at) return undefined;
  const v = flat.split(',').map(Number);
  const t = Number(at);
  if (v.length !== K * K + K || !v.every(Number.isFinite) || !Number.isFinite(t)) return undefined;
  return { xtx: v.slice(0, K * K), xty: v.slice(K * K), at: t, seen };
}

/** Distinct servers that fed the statistics within SERVERS_WINDOW_MS of `now`. */
export function recentServers(stats: LoadStatistics, now: number): number {
  return Object.values(stats.seen).filter((at) => now - at <= SERVERS_WINDOW_MS).length;
}

/** The learned weights, or undefined while the evidence is too thin or too old. */
export function learnedWeights(stats: LoadStatistics | undefined, prior: LoadWeights, now: number): LoadWeights | undefined {
  if (stats === undefined || now - stats.at > MAX_AGE_MS) return undefined;
  if (!(stats.xtx[0]! >= MIN_OBSERVATIONS) || recentServers(stats, now) < MIN_SERVERS) return undefined;
  const theta = solve(stats, prior);
  if (theta === undefined) return undefined;
  const out = {} as LoadWeights;
  for (let j = 1; j < K; j++) {
    const term = LOAD_TERMS[j] as keyof LoadWeights;
    out[term] = theta[j]! * scale(prior, j);
  }
  return out;
}

/** Each term is fitted as a multiple of the policy's weight (1 = the policy); a zero weight is fitted as is. */
function scale(prior: LoadWeights, j: number): number {
  if (j === 0) return 1;
  const p = prior[LOAD_TERMS[j] as keyof LoadWeights];
  return p > 0 ? p : 1;
}

function priorTheta(prior: LoadWeights, j: number): number {
  return j > 0 && prior[LOAD_TERMS[j] as keyof LoadWeights] > 0 ? 1 : 0;
}

/** The bounds of a term's fitted value: a multiple of a positive policy weight within MAX_FACTOR either way; else at least zero. */
function bounds(prior: LoadWeights, j: number): [number, number] {
  return priorTheta(prior, j) === 1 ? [1 / MAX_FACTOR, MAX_FACTOR] : [0, Number.POSITIVE_INFINITY];
}

/**
 * Bounded ridge least squares toward the prior, in the scaled terms: (ZᵀZ + λD) θ = Zᵀy + λDθ₀. D holds
 * each term's spread around its mean (n for the host term): what the data says about that
 * term's slope. The raw ZᵀZ diagonal would not do: every count grows with the number of
 * meetings, and most of a term's raw energy is that shared growth, not evidence on its own
 * weight. A term that never varied (D = 0) gets D = 1: the prior alone decides it. A term that
 * comes out of its bounds is held at the bound it crossed and the rest solved again (an active
 * set: at most K + 1 passes).
 */
function solve(stats: LoadStatistics, prior: LoadWeights): number[] | undefined {
  const s = LOAD_TERMS.map((_, j) => scale(prior, j));
  const zz = (i: number, j: number) => stats.xtx[i * K + j]! * s[i]! * s[j]!;
  const zy = (i: number) => stats.xty[i]! * s[i]!;
  const n = stats.xtx[0]!;
  const spread = LOAD_TERMS.map((_, j) => {
    const d = j === 0 ? n : zz(j, j) - (zz(0, j) * zz(0, j)) / n;
    return d > 1e-9 * Math.max(1, zz(j, j)) ? d : 1;
  });
  // Terms found outside their bounds are held at the bound crossed and the rest solved again.
  const fixed = new Map<number, number>();
  for (let pass = 0; pass <= K; pass++) {
    const free = LOAD_TERMS.map((_, j) => j).filter((j) => !fixed.has(j));
    const a = free.map((i) => free.map((j) => zz(i, j) + (i === j ? PRIOR_SHARE * spread[i]! : 0)));
    const b = free.map((i) => {
      let rhs = zy(i) + PRIOR_SHARE * spread[i]! * priorTheta(prior, i);
      for (const [k, v] of fixed) rhs -= zz(i, k) * v;
      return rhs;
    });
    const x = gaussian(a, b);
    if (x === undefined) return undefined;
    const theta = new Array<number>(K).fill(0);
    for (const [k, v] of fixed) theta[k] = v;
    free.forEach((j, k) => (theta[j] = x[k]!));
    const outside = free.filter((j) => theta[j]! < bounds(prior, j)[0] || theta[j]! > bounds(prior, j)[1]);
    if (outside.length === 0) return theta;
    for (const j of outside) fixed.set(j, Math.min(bounds(prior, j)[1], Math.max(bounds(prior, j)[0], theta[j]!)));
  }
  return undefined;
}

/** Solves a x = b by Gaussian elimination with partial pivoting; undefined when singular. */
function gaussian(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (!(Math.abs(m[p]![c]!) > 1e-12)) return undefined;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r]![n]!;
    for (let k = r + 1; k < n; k++) v -= m[r]![k]! * x[k]!;
    x[r] = v / m[r]![r]!;
  }
  return x;
}
