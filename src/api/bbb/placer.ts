import { MAX_CANDIDATES, rankServers, type TagRequest } from '../../placement/choose.js';
import { expectedMeetingLoad, type LoadWeights } from '../../placement/load-model.js';
import type { PlaceOutcome, PlaceRequest } from '../../state/meeting-directory.js';
import type { Store } from '../../state/store.js';
import type { PoolView } from './pool-view.js';

export interface PlacerOptions {
  choices: number;
  /** Share of a server's capacity placement fills before it looks elsewhere (AMPHI_PLACEMENT_MAX_FILL). */
  maxFill?: number;
  /** Share of the largest server a meeting needs to be placed on the roomiest servers (AMPHI_PLACEMENT_LARGE_SHARE). */
  largeShare?: number;
  fadeMs: number;
  random?: () => number;
}

export interface Placement {
  tenant: string;
  meetingID: string;
  upstreamID: string;
  /** The meeting's expected size; placement weighs it with the pool's learned load model. */
  expected: { participants: number; cameras: number };
  /** The policy's load weights: the learned model's prior, and what is used until it has learned. */
  weights: LoadWeights;
  tags: TagRequest;
  extra?: Record<string, unknown>;
  quotas?: PlaceRequest['quotas'];
  /** Servers not to use (a create there just failed). */
  exclude?: ReadonlySet<string>;
}

/** Ranks on the cached pool view, then lets the Lua step pick and reserve atomically. */
export class Placer {
  constructor(
    private readonly store: Store,
    private readonly pool: PoolView,
    private readonly opts: PlacerOptions,
  ) {}

  async place(p: Placement): Promise<PlaceOutcome> {
    let outcome = await this.attempt(p);
    // A stale view may list no placeable server when one just came online: look again once.
    if (outcome.outcome === 'none') {
      await this.pool.refresh();
      outcome = await this.attempt(p);
    }
    return outcome;
  }

  private async attempt(p: Placement): Promise<PlaceOutcome> {
    const views = (await this.pool.placementViews()).filter((v) => !p.exclude?.has(v.id));
    // Where servers report CPU, reserve what the CPU says such a meeting costs (placement/cpu-load.ts
    // rule 2): ranking and the atomic step use the same figure.
    const need = expectedMeetingLoad(p.expected.participants, p.expected.cameras, await this.pool.loadWeights(p.weights));
    const { candidates, sampled } = rankServers(views, need, p.tags, this.opts.random ?? Math.random, this.opts.choices, MAX_CANDIDATES, this.opts.maxFill, this.opts.largeShare);
    if (candidates.length === 0) return { outcome: 'none' };
    return this.store.meetings.place({
      tenant: p.tenant,
      meetingID: p.meetingID,
      upstreamID: p.upstreamID,
      need,
      maxFill: this.opts.maxFill,
      candidates,
      sampled,
      fadeMs: this.opts.fadeMs,
      extra: p.extra,
      quotas: p.quotas,
    });
  }
}
