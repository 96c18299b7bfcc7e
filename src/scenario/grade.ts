// The scenario's verdict, from what was measured each simulated minute: the users the servers
// held, the servers the provider had, and each server's utilization as the server itself reported
// it (the simulator's CPU model), never Amphi's own estimate. Pure.

export interface MinuteSample {
  /** Simulated minutes since the pool started at 7:15 (samples may fall between whole minutes when the machine is busy). */
  minute: number;
  /** Participants inside meetings, summed over the servers. */
  users: number;
  /** Servers ready to take meetings: registered, enabled, online. */
  ready: number;
  /** Servers paid for: every server the pool or the provider holds (booting, draining included). */
  provisioned: number;
  /** The scaler's last decision, all classes. */
  desired: number;
  /**
   * What that decision held, in whole servers' capacity: the load Amphi measured and reserved,
   * and its forecast. Amphi's own figures, for analysis; the verdict never reads them.
   */
  scalerDemand: { reactive: number; forecast: number };
  /** Utilization of each ready server (fraction of its CPU, as it reports it). */
  readyUtilization: number[];
  /** Highest utilization of any server, ready or not. */
  maxUtilization: number;
  /** The servers' load summed, in whole servers (Σ utilization): what a clairvoyant packs. */
  loadInServers: number;
}

export interface ScenarioCounts {
  joinsRefusedForCapacity: number;
  joinsRefusedByPolicy: number;
  meetingsInterruptedByScaleIn: number;
}

export interface ScenarioResult extends ScenarioCounts {
  peakUsers: number;
  maxServerUtilization: number;
  p95ReadyUtilizationAtPeak: number;
  serverHours: number;
  clairvoyantServerHours: number;
  chart: string;
}

/**
 * A clairvoyant fills a server to this share of its CPU: the published sizing of a BBB server is
 * what it carries at about 80 % CPU, where audio starts to degrade (capacity.md). A fixed figure,
 * not the scaler's own target, so that a timid scaler setting cannot flatter the ratio.
 */
export const CLAIRVOYANT_FILL = 0.8;
/** Minutes whose users reach this share of the peak count as "at the peak". */
const PEAK_BAND = 0.95;

/** Nearest-rank percentile (p in (0, 100]); 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

/** Servers a clairvoyant needs for one minute's load: instant provisioning, perfect packing. */
export function clairvoyantServers(loadInServers: number, fill = CLAIRVOYANT_FILL): number {
  return Math.max(0, Math.ceil(Math.max(0, loadInServers) / fill - 1e-9));
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Σ value × the minutes until the next sample (the last sample holds one minute), in hours. */
function hoursOf(samples: readonly MinuteSample[], value: (s: MinuteSample) => number): number {
  let minutes = 0;
  samples.forEach((s, i) => {
    const next = samples[i + 1];
    minutes += value(s) * (next ? Math.max(0, next.minute - s.minute) : 1);
  });
  return minutes / 60;
}

export function grade(samples: readonly MinuteSample[], counts: ScenarioCounts, chart: string): ScenarioResult {
  const peakUsers = samples.reduce((m, s) => Math.max(m, s.users), 0);
  const atPeak = samples.filter((s) => peakUsers > 0 && s.users >= PEAK_BAND * peakUsers);
  return {
    peakUsers,
    ...counts,
    maxServerUtilization: round(samples.reduce((m, s) => Math.max(m, s.maxUtilization), 0), 3),
    p95ReadyUtilizationAtPeak: round(percentile(atPeak.flatMap((s) => s.readyUtilization), 95), 3),
    serverHours: round(hoursOf(samples, (s) => s.provisioned), 1),
    clairvoyantServerHours: round(hoursOf(samples, (s) => clairvoyantServers(s.loadInServers)), 1),
    chart,
  };
}

/** Mean utilization of the ready servers in the minutes at the peak (the table shows it beside p95). */
export function meanReadyUtilizationAtPeak(samples: readonly MinuteSample[]): number {
  const peakUsers = samples.reduce((m, s) => Math.max(m, s.users), 0);
  const values = samples.filter((s) => peakUsers > 0 && s.users >= PEAK_BAND * peakUsers).flatMap((s) => s.readyUtilization);
  return values.length === 0 ? 0 : round(values.reduce((a, b) => a + b, 0) / values.length, 3);
}
