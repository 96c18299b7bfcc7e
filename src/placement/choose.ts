// Server choice for a new meeting. Pure: the caller passes a snapshot and a random source.
// The snapshot may be a little stale, so the choice is a ranked list of candidates and the
// atomic Redis step (state/commands/place-meeting.lua) takes the first that still fits on live
// counters. Sampling a few random candidates first (power-of-d-choices) is what spreads a
// burst of creates made on the same snapshot instead of sending them all to one server.

export type ServerState = 'enabled' | 'cordoned' | 'disabled';
export type ServerHealth = 'online' | 'offline';

export interface ServerView {
  id: string;
  capacity: number;
  /** Measured load plus what young meetings still reserve, in load units. */
  load: number;
  state: ServerState;
  health: ServerHealth;
  tags: readonly string[];
}

export interface TagRequest {
  /** The server must carry every one of these. */
  required: readonly string[];
  /** Servers carrying these are preferred; others are used when none of them fits. */
  preferred: readonly string[];
}

export const NO_TAGS: TagRequest = { required: [], preferred: [] };

/**
 * Reads Scalelite's `meta_server-tag` convention: comma-separated tags, a trailing `!` makes
 * a tag required, otherwise it is a preference.
 */
export function parseServerTags(value: string | undefined): TagRequest {
  if (!value) return NO_TAGS;
  const required: string[] = [];
  const preferred: string[] = [];
  for (const raw of value.split(',')) {
    const tag = raw.trim();
    if (tag === '' || tag === '!') continue;
    if (tag.endsWith('!')) required.push(tag.slice(0, -1));
    else preferred.push(tag);
  }
  return { required, preferred };
}

/**
 * Room for a new meeting: what keeps the server's load within `maxFill` of its capacity. The
 * ceiling is a margin for what the load model gets wrong about a meeting (more cameras than
 * announced, a heavier mix of microphones): a server filled to it on paper still has room in
 * its CPU. A full pool still places, above the ceiling (see rankServers).
 */
export function headroom(s: ServerView, maxFill = 1): number {
  return s.capacity * maxFill - s.load;
}

export function isPlaceable(s: ServerView, tags: TagRequest): boolean {
  return s.state === 'enabled' && s.health === 'online' && tags.required.every((t) => s.tags.includes(t));
}

export interface Ranking {
  /** Candidates in the order the atomic step should try them. */
  candidates: string[];
  /** How many leading candidates are the random sample to compare on live counters. */
  sampled: number;
}


function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const picked: T[] = [];
  while (picked.length < count && pool.length > 0) {
    const i = Math.floor(random() * pool.length);
    picked.push(pool[i]!);
    pool[i] = pool[pool.length - 1]!;
    pool.pop();
  }
  return picked;
}

/**
 * How many candidates the atomic step is given at most. Its cost is per candidate (a full pool
 * has it compare them all), so this keeps a placement's cost independent of the pool's size;
 * the view is at most AMPHI_SNAPSHOT_MS old, and its best servers are the live best but for
 * what was placed or polled since.
 */
export const MAX_CANDIDATES = 64;

/**
 * Whether a meeting needing `need` units is a large one: at least `largeShare` of the largest
 * server's capacity. The gateway places it on the roomiest servers; the scaler records its
 * arrival and keeps room for those expected (scaler/arrivals.ts).
 */
export function isLargeMeeting(need: number, largestCapacity: number, largeShare: number): boolean {
  return largestCapacity > 0 && need >= largeShare * largestCapacity;
}

/**
 * Ranks the servers for a meeting that needs `need` units: first `choices` random servers
 * that fit (in the preferred-tag group when one fits), then the other fitting servers by
 * headroom, then — so a full pool still serves — the rest by headroom; `limit` candidates at
 * most. Servers that are not placeable (cordoned, disabled, offline, missing a required tag)
 * never appear.
 *
 * A large meeting (isLargeMeeting with `largeShare`) takes the `choices` roomiest fitting
 * servers instead of random ones: a webinar that lands on a server with just enough room by the
 * load model fills it past its CPU when the model misjudges it, and the room the scaler keeps
 * for it is on the roomiest servers.
 */
export function rankServers(
  servers: readonly ServerView[],
  need: number,
  tags: TagRequest,
  random: () => number,
  choices = 2,
  limit = MAX_CANDIDATES,
  maxFill = 1,
  largeShare = 1,
): Ranking {
  const byHeadroom = (a: ServerView, b: ServerView): number => headroom(b, maxFill) - headroom(a, maxFill);
  const placeable = servers.filter((s) => isPlaceable(s, tags));
  const fits = placeable.filter((s) => headroom(s, maxFill) >= need);
  const preferredFits = tags.preferred.length
    ? fits.filter((s) => tags.preferred.some((t) => s.tags.includes(t)))
    : fits;
  const group = preferredFits.length > 0 ? preferredFits : fits;
  const large = isLargeMeeting(need, Math.max(0, ...placeable.map((s) => s.capacity)), largeShare);
  const head = large ? [...group].sort(byHeadroom).slice(0, choices) : sample(group, choices, random).sort(byHeadroom);
  const taken = new Set(head.map((s) => s.id));
  const inGroup = new Set(group);
  const others = fits.filter((s) => !inGroup.has(s));
  const rest = [...group.filter((s) => !taken.has(s.id)).sort(byHeadroom), ...others.sort(byHeadroom)];
  for (const s of rest) taken.add(s.id);
  const overflow = placeable.filter((s) => !taken.has(s.id)).sort(byHeadroom);
  return { candidates: [...head, ...rest, ...overflow].slice(0, Math.max(limit, head.length)).map((s) => s.id), sampled: head.length };
}
