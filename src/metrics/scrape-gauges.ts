import { Gauge, type Registry } from 'prom-client';

export type ScrapeGauge = (name: string, help: string, labelNames?: string[]) => Gauge;

/** Where a registry's failed scrape reads are logged (a role's pino logger fits). */
export interface ScrapeLog {
  warn(fields: object, msg: string): void;
}

/** At most one line per registry this often while its reads keep failing. */
export const SCRAPE_FAILURE_LOG_INTERVAL_MS = 60_000;

interface ScrapeLogState {
  log: ScrapeLog;
  lastLogged: number;
  notLogged: number;
}

const logs = new WeakMap<Registry, ScrapeLogState>();

/**
 * Logs the failed reads of the scrape gauges of `registry` (set once, where the registry and a
 * logger meet), rate-limited: the first, then at most one every SCRAPE_FAILURE_LOG_INTERVAL_MS
 * with the count of those not logged. Without it a failure only empties the gauges.
 */
export function logScrapeFailures(registry: Registry, log: ScrapeLog): void {
  logs.set(registry, { log, lastLogged: -Infinity, notLogged: 0 });
}

function reportFailure(registry: Registry, err: unknown, now: number): void {
  const state = logs.get(registry);
  if (!state) return;
  if (now - state.lastLogged < SCRAPE_FAILURE_LOG_INTERVAL_MS) {
    state.notLogged += 1;
    return;
  }
  state.log.warn({ err, ...(state.notLogged > 0 && { notLogged: state.notLogged }) }, 'metrics: a scrape read failed; its gauges are empty');
  state.lastLogged = now;
  state.notLogged = 0;
}

/**
 * Gauges filled by one read when Prometheus scrapes. prom-client collects metrics concurrently,
 * so every gauge awaits the same pass. A failed read (Redis down) empties them instead of
 * failing the whole scrape: amphi_redis_up, in the same answer, says why; the failure is
 * logged if the registry has a logger (logScrapeFailures).
 */
export function scrapeGauges(registry: Registry, fill: () => Promise<void>, now: () => number = Date.now): ScrapeGauge {
  const gauges: Gauge[] = [];
  let pass: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (pass ??= fill()
      .catch((err: unknown) => {
        for (const g of gauges) g.reset();
        reportFailure(registry, err, now());
      })
      .finally(() => (pass = undefined)));
  return (name, help, labelNames = []) => {
    // Every gateway worker reads the same Redis: aggregated across workers, the first answer is
    // the answer (a sum would count the pool once per worker).
    const g = new Gauge({ name, help, labelNames, registers: [registry], collect: refresh, aggregator: 'first' });
    gauges.push(g);
    return g;
  };
}
