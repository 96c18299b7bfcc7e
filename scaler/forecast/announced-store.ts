// The announced meetings the gateway recorded (src/state/announcements.ts) as a forecast source.
// DemandSource.demand() is synchronous and the store is in Redis, so the source holds a copy of
// the announcements that may run soon and is refreshed before each reconcile step (`refresh`,
// called by the scaler role right before Reconciler.step: src/cli/commands/scaler.ts).
import type { LoadWeights } from '../../src/placement/load-model.js';
import type { AnnouncedMeeting, AnnouncedSettings } from './announced.js';
import { announcedMeetingsSource } from './announced.js';
import type { Demand, DemandSource } from './demand.js';

/** What the store answers: the announcements that may run during [from, to]. */
export type ReadAnnounced = (from: number, to: number) => Promise<readonly AnnouncedMeeting[]>;

export class AnnouncedStoreSource implements DemandSource {
  readonly name = 'announced meetings';
  private source: DemandSource;
  private readAt: number | undefined;

  /**
   * `lookaheadMs`: how far ahead of `now` a refresh reads; at least the window the plan asks
   * the forecast about (provisioningTime + reconcileInterval, scaler/plan.ts), or meetings
   * starting at its end would be missed.
   */
  constructor(
    private readonly read: ReadAnnounced,
    private readonly settings: AnnouncedSettings,
    private readonly lookaheadMs: number,
    /**
     * The load weights learned from the servers' CPU (src/placement/cpu-load.ts rule 2), read
     * at each refresh; undefined (or none learned yet): `settings.weights`, the policy's.
     */
    private readonly learned?: () => Promise<LoadWeights | undefined>,
  ) {
    this.source = announcedMeetingsSource([], settings);
  }

  /**
   * Reads the announcements running at some instant of [now, now + lookahead], `now` in the
   * time the scaler decides in (Reconciler.timeOf). On failure the previous copy stays
   * (announcements are known ahead, so it is still mostly right) and the error is thrown for the
   * caller to log.
   */
  async refresh(now: number): Promise<number> {
    const [meetings, weights] = await Promise.all([this.read(now, now + this.lookaheadMs), this.learned?.()]);
    this.source = announcedMeetingsSource(
      meetings.map((m) => ({ startsAt: m.startsAt, ...(m.endsAt !== undefined && { endsAt: m.endsAt }), participants: m.participants, cameras: m.cameras })),
      { ...this.settings, weights: weights ?? this.settings.weights },
    );
    this.readAt = now;
    return meetings.length;
  }

  /** When the copy was last read (undefined: never). */
  get refreshedAt(): number | undefined {
    return this.readAt;
  }

  demand(from: number, to: number): Demand {
    return this.source.demand(from, to);
  }
}
