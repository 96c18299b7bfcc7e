import { Gauge, type Registry } from 'prom-client';

export type ScrapeGauge = (name: string, help: string, labelNames?: string[]) => Gauge;

/**
 * Gauges filled by one read when Prometheus scrapes. prom-client collects metrics concurrently,
 * so every gauge awaits the same pass. A failed read (Redis down) empties them instead of
 * failing the whole scrape: amphi_redis_up, in the same answer, says why.
 */
export function scrapeGauges(registry: Registry, fill: () => Promise<void>): ScrapeGauge {
  const gauges: Gauge[] = [];
  let pass: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (pass ??= fill()
      .catch(() => {
        for (const g of gauges) g.reset();
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
