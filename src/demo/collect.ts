// Gathers what the view shows, from where it really is: the pool as the gateway sees it
// (Redis, written by the poller), the gateway's own metrics, the simulated servers' ground
// truth (their CPU figure, meetings created) and the traffic driver's counters. Rates are
// deltas between two snapshots.
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { SimServer } from '../simulator/index.js';
import type { Store } from '../state/store.js';
import type { TrafficDriver } from '../traffic/driver.js';
import { clockLabel } from '../traffic/model.js';
import type { DemoSnapshot, DemoSummary, ServerRow, ServerSummary } from './view.js';

export interface DemoServer {
  id: string;
  size: string;
  capacity: number;
  sim: SimServer;
}

export interface CollectorOptions {
  store: Store;
  fadeMs: number;
  servers: readonly DemoServer[];
  driver: TrafficDriver;
  metrics: GatewayMetrics;
  apiUrl: string;
  secret: string;
  speed: number;
  startMinuteOfDay: number;
  durationMs: number;
  /** Real clock in ms. */
  now: () => number;
}

interface Peak {
  utilization: number;
  participants: number;
}

export class SnapshotCollector {
  private readonly startedAt: number;
  private previous: { at: number; gateway: Record<string, number>; traffic: number } | undefined;
  private readonly peaks = new Map<string, Peak>();
  private last: DemoSnapshot | undefined;
  /** Meetings each server had created before the run (a reused simulator). */
  private readonly createdBefore = new Map<string, number>();

  constructor(private readonly opts: CollectorOptions) {
    this.startedAt = opts.now();
    for (const s of opts.servers) this.createdBefore.set(s.id, s.sim.totals().meetingsCreatedTotal);
  }

  async collect(): Promise<DemoSnapshot> {
    const o = this.opts;
    const at = o.now();
    const [{ servers: records, views }, requests, refused] = await Promise.all([
      o.store.snapshot(o.fadeMs),
      o.metrics.requests.get(),
      o.metrics.refusedJoins.get(),
    ]);
    const sims = new Map(o.servers.map((s) => [s.id, s]));
    const rows: ServerRow[] = records.map((r, i) => {
      const sim = sims.get(r.id);
      const view = views[i];
      const row: ServerRow = {
        id: r.id,
        size: sim?.size ?? '',
        health: r.health,
        state: r.state,
        capacity: r.capacity,
        measuredLoad: r.measuredLoad,
        reserved: Math.max(0, (view?.load ?? r.measuredLoad) - r.measuredLoad),
        meetings: r.meetings,
        participants: r.participants,
        videos: r.videos,
      };
      if (sim) row.cpu = sim.sim.totals().load;
      return row;
    });
    rows.sort((a, b) => a.id.localeCompare(b.id));

    const byCall: Record<string, number> = {};
    for (const v of requests.values) {
      const call = String(v.labels.call ?? '');
      byCall[call] = (byCall[call] ?? 0) + v.value;
    }
    const gatewayRefused: Record<string, number> = {};
    for (const v of refused.values) gatewayRefused[String(v.labels.reason ?? '')] = v.value;

    const traffic = { ...o.driver.counters };
    const prev = this.previous;
    const seconds = prev ? (at - prev.at) / 1000 : 0;
    const rateByCall: Record<string, number> = {};
    let gatewayRps = 0;
    if (prev && seconds > 0) {
      for (const [call, total] of Object.entries(byCall)) {
        const r = (total - (prev.gateway[call] ?? 0)) / seconds;
        rateByCall[call] = r;
        gatewayRps += r;
      }
    }
    const trafficRps = prev && seconds > 0 ? (traffic.requests - prev.traffic) / seconds : 0;
    this.previous = { at, gateway: byCall, traffic: traffic.requests };

    for (const r of rows) {
      const peak = this.peaks.get(r.id) ?? { utilization: 0, participants: 0 };
      peak.utilization = Math.max(peak.utilization, r.capacity > 0 ? r.measuredLoad / r.capacity : 0);
      peak.participants = Math.max(peak.participants, r.participants);
      this.peaks.set(r.id, peak);
    }

    const elapsedMs = at - this.startedAt;
    const snapshot: DemoSnapshot = {
      elapsedMs,
      durationMs: o.durationMs,
      clock: clockLabel(o.startMinuteOfDay, elapsedMs * o.speed),
      speed: o.speed,
      apiUrl: o.apiUrl,
      secret: o.secret,
      gatewayRps,
      gatewayRpsByCall: rateByCall,
      trafficRps,
      gatewayRefused,
      servers: rows,
      traffic,
      inside: o.driver.inside,
    };
    this.last = snapshot;
    return snapshot;
  }

  /** The final report, from the peaks seen and the servers' own creation counters. */
  summary(): DemoSummary {
    const o = this.opts;
    const last = this.last;
    const elapsedMs = o.now() - this.startedAt;
    const servers: ServerSummary[] = o.servers.map((s) => {
      const peak = this.peaks.get(s.id) ?? { utilization: 0, participants: 0 };
      const created = s.sim.totals().meetingsCreatedTotal - (this.createdBefore.get(s.id) ?? 0);
      return { id: s.id, size: s.size, capacity: s.capacity, peakUtilization: peak.utilization, peakParticipants: peak.participants, meetingsPlaced: created };
    });
    let gatewayRequests = 0;
    if (this.previous) for (const v of Object.values(this.previous.gateway)) gatewayRequests += v;
    return {
      elapsedMs,
      clockFrom: clockLabel(o.startMinuteOfDay, 0),
      clockTo: clockLabel(o.startMinuteOfDay, elapsedMs * o.speed),
      servers,
      traffic: { ...o.driver.counters },
      gatewayRequests,
      gatewayRefused: last?.gatewayRefused ?? {},
    };
  }
}
