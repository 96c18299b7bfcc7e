import type { Registry } from 'prom-client';
import { learnedWeights, LOAD_TERMS } from '../placement/learned-weights.js';
import type { LoadWeights } from '../placement/load-model.js';
import type { Store } from '../state/store.js';
import { scrapeGauges } from './scrape-gauges.js';

// The load model in force (src/placement/cpu-load.ts rule 2), read from Redis when Prometheus
// scrapes: the weights new meetings are priced with, and how much CPU evidence they rest on. An
// operator sees the camera stream's learned cost move away from the policy's, and why the
// reservations changed. `term` is one of the four weights.

export function registerLoadModelCollector(registry: Registry, store: Store, prior: () => LoadWeights): void {
  const gauge = scrapeGauges(registry, collect);
  const weight = gauge('amphi_load_model_weight', 'Load units per meeting, participant, voice connection or camera stream delivered, as new meetings are priced (learned from CPU, else the policy)', ['term', 'source']);
  const observations = gauge('amphi_load_model_observations', 'Server polls with a CPU reading behind the learned weights, decayed over time (the policy applies below 10)');

  async function collect(): Promise<void> {
    const stats = await store.polls.learnedLoad();
    const policy = prior();
    const learned = learnedWeights(stats, policy, store.ctx.now());
    weight.reset();
    for (const term of LOAD_TERMS.slice(1) as (keyof LoadWeights)[]) weight.set({ term, source: learned ? 'learned' : 'policy' }, (learned ?? policy)[term]);
    observations.set(stats?.xtx[0] ?? 0);
  }
}
