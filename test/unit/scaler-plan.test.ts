import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScalerConfig } from '../../scaler/config.js';
import type { ScalerConfig } from '../../scaler/config.js';
import { noDemand } from '../../scaler/forecast/demand.js';
import type { Demand, DemandSource } from '../../scaler/forecast/demand.js';
import { plan } from '../../scaler/plan.js';
import type { Plan, ScaleAction, ScalerState } from '../../scaler/plan.js';
import type { ScalerServer, ServerPhase } from '../../scaler/servers.js';
import { scalerServer } from '../helpers/scaler-fixtures.js';

const MIN = 60_000;
const NOW = 100_000 * MIN;
const CAPACITY: Record<string, number> = { standard: 500, large: 1000 };

const settings = (over: Record<string, unknown> = {}): ScalerConfig => {
  const r = parseScalerConfig({ classes: { standard: { min: 1, max: 20 }, large: { min: 0, max: 4 } }, ...over });
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
};
const server = (id: string, over: Partial<ScalerServer> = {}): ScalerServer => scalerServer(id, NOW, over);
const constant = (d: Partial<Demand> = {}): DemandSource => ({ name: 'test', demand: () => ({ ...noDemand('schedule'), ...d }) });
const state = (servers: ScalerServer[], over: Partial<ScalerState> = {}): ScalerState => ({
  servers,
  forecast: constant(),
  lastScaleOutAt: 0,
  lastScaleInAt: 0,
  placementFill: 0.9,
  ...over,
});
const of = <T extends ScaleAction['type']>(p: Plan, type: T) => p.actions.filter((a): a is Extract<ScaleAction, { type: T }> => a.type === type);
const targets = (p: Plan, type: 'uncordon' | 'cordon' | 'delete') => of(p, type).map((a) => a.server);
/** n standard servers, each holding `load` units. */
const loaded = (n: number, load: number, over: Partial<ScalerServer> = {}) =>
  Array.from({ length: n }, (_, i) => server(`s${i}`, { measuredLoad: load, participants: Math.round(load / 3), meetings: load > 0 ? 2 : 0, ...over }));

describe('plan: scale-out', () => {
  it('asks for servers when the measured demand passes the target utilization, and says why', () => {
    // 4 × 400 units = 1,600, needs 2,286 at 70 %: 2,000 there, 286 short.
    const p = plan(state(loaded(4, 400)), settings(), NOW);
    expect(p.reactive).toBe(1600);
    expect(p.requiredCapacity).toBeCloseTo(1600 / 0.7, 6);
    expect(of(p, 'provision')).toEqual([
      { type: 'provision', sizeClass: 'standard', count: 1, reason: 'demand 1600 units (measured) needs 2286 units at 70 %; 286 units short, 1 of class standard in the cheapest cover' },
    ]);
    expect(p.desired).toEqual({ standard: 5, large: 0 });
    expect(p.held).toEqual([]);
  });

  it('does nothing at exactly the target', () => {
    const p = plan(state(loaded(5, 350)), settings(), NOW);
    expect(p.actions).toEqual([]);
    expect(p.desired).toEqual({ standard: 5, large: 0 });
  });

  it('provisions for the forecast one provisioning time, the lead time and one interval ahead', () => {
    const windows: number[][] = [];
    const forecast: DemandSource = { name: 'f', demand: (from, to) => (windows.push([from, to]), { total: 7000, byClass: {}, source: 'weekly profile' }) };
    const p = plan(state(loaded(2, 0), { forecast }), settings(), NOW);
    // 6 min to boot, ready 5 min before the demand, the next step 1 min later.
    expect(windows).toEqual([[NOW, NOW + 12 * MIN]]);
    windows.length = 0;
    plan(state(loaded(2, 0), { forecast }), settings({ leadTime: '0s' }), NOW);
    expect(windows).toEqual([[NOW, NOW + 7 * MIN]]);
    // 9,000 units short: every large server the max allows, standard servers for the rest.
    expect(of(p, 'provision').map((a) => [a.sizeClass, a.count])).toEqual([
      ['standard', 10],
      ['large', 4],
    ]);
    expect(of(p, 'provision')[0]!.reason).toContain('(forecast by weekly profile)');
  });

  it('counts booting servers toward what is desired, and does not ask again', () => {
    const booting = [server('b1', { phase: 'booting', startedAt: NOW - MIN }), server('b2', { phase: 'booting', startedAt: NOW - MIN })];
    const p = plan(state([...loaded(4, 400), ...booting]), settings(), NOW);
    expect(of(p, 'provision')).toEqual([]);
    expect(p.desired.standard).toBe(6);
  });

  it('raises each class to its minimum and to the demand pinned to it', () => {
    const p = plan(state([], { forecast: constant({ total: 1500, byClass: { large: 1234 } }) }), settings(), NOW);
    expect(of(p, 'provision').map((a) => [a.sizeClass, a.count])).toEqual([
      ['standard', 1],
      ['large', 2],
    ]);
    expect(of(p, 'provision')[0]!.reason).toBe('class standard is below its min 1 (has 0)');
    expect(of(p, 'provision')[1]!.reason).toBe('class large needs 2 server(s) for the 1234 units only it can hold (has 0)');
  });

  it('boots at most K servers at once, minima first, then the largest, and says what waits', () => {
    const booting = Array.from({ length: 3 }, (_, i) => server(`b${i}`, { phase: 'booting' }));
    const p = plan(state(booting, { forecast: constant({ total: 7000, byClass: { large: 700 } }) }), settings({ maxConcurrent: { provisions: 5 } }), NOW);
    expect(of(p, 'provision').map((a) => [a.sizeClass, a.count])).toEqual([['large', 2]]);
    expect(p.held).toEqual(['11 more server(s) wanted: at most 5 may boot at once (3 booting)']);
  });

  it('says how much capacity no class may add', () => {
    const p = plan(state(loaded(1, 0), { forecast: constant({ total: 100_000 }) }), settings(), NOW);
    expect(p.desired).toEqual({ standard: 20, large: 4 });
    expect(p.held).toEqual(['128857 units of capacity missing: every class that could hold it is at its max']);
  });

  it('takes drained servers back before asking for new ones', () => {
    const draining = [
      server('d1', { phase: 'draining', phaseSince: NOW - 5 * MIN, participants: 10, meetings: 1, measuredLoad: 100 }),
      server('d2', { phase: 'draining', phaseSince: NOW - 5 * MIN, participants: 30, meetings: 1, measuredLoad: 200 }),
    ];
    const p = plan(state([...loaded(3, 350), ...draining]), settings(), NOW);
    // 1,350 units need 1,929: 1,500 in service, d2 (the busier) makes 2,000.
    expect(targets(p, 'uncordon')).toEqual(['d2']);
    expect(of(p, 'provision')).toEqual([]);
    expect(of(p, 'delete')).toEqual([]);
  });
});

describe('plan: scale-in', () => {
  const idle = () => [...loaded(2, 300), server('quiet', { participants: 3, meetings: 1, measuredLoad: 20 }), server('empty')];

  it('cordons the cheapest server the pool can do without, at or below the scale-in utilization', () => {
    const p = plan(state(idle()), settings(), NOW);
    // 620 units at 60 % need 1,034: dropping 'empty' keeps 1,500, dropping 'quiet' too keeps 1,000 (too little).
    expect(of(p, 'cordon')).toEqual([{ type: 'cordon', server: 'empty', reason: expect.stringContaining('cheapest to drain (0 participant(s), 0 meeting(s)') }]);
    expect(p.desired.standard).toBe(3);
  });

  it('waits for the cooldowns after a scale-out and after a scale-in', () => {
    const afterOut = plan(state(idle(), { lastScaleOutAt: NOW - 9 * MIN }), settings(), NOW);
    expect(afterOut.actions).toEqual([]);
    expect(afterOut.held).toEqual(['1 server(s) not needed, scale-in held: 9 min since the last scale-out (cooldown 10 min)']);
    expect(of(plan(state(idle(), { lastScaleOutAt: NOW - 10 * MIN }), settings(), NOW), 'cordon')).toHaveLength(1);
    const afterIn = plan(state(idle(), { lastScaleInAt: NOW - MIN }), settings(), NOW);
    expect(afterIn.actions).toEqual([]);
    expect(afterIn.held).toEqual(['1 server(s) not needed, scale-in held: 1 min since the last scale-in (cooldown 2 min)']);
  });

  it('drains while a class is only raised to its minimum', () => {
    const p = plan(state(idle()), settings({ classes: { standard: { min: 1, max: 20 }, large: { min: 1, max: 4 } } }), NOW);
    expect(of(p, 'provision').map((a) => [a.sizeClass, a.count])).toEqual([['large', 1]]);
    expect(targets(p, 'cordon')).toEqual(['empty']);
  });

  it('never drains while servers are booting', () => {
    expect(of(plan(state([...idle(), server('new', { phase: 'booting' })]), settings(), NOW), 'cordon')).toEqual([]);
  });

  it('never drains a server younger than the minimum lifetime, nor one added by hand', () => {
    // Without 'empty', the next cheapest goes: 'quiet' (the pool keeps 1,500 units for 1,034).
    const young = idle().map((s) => (s.id === 'empty' ? { ...s, startedAt: NOW - 14 * MIN } : s));
    expect(targets(plan(state(young), settings(), NOW), 'cordon')).toEqual(['quiet']);
    const byHand = idle().map((s) => (s.id === 'empty' ? { ...s, managed: false } : s));
    expect(targets(plan(state(byHand), settings(), NOW), 'cordon')).toEqual(['quiet']);
    const allYoung = idle().map((s) => ({ ...s, startedAt: NOW - 14 * MIN }));
    expect(plan(state(allYoung), settings(), NOW).actions).toEqual([]);
  });

  it('keeps the servers a forecast rise will need', () => {
    expect(of(plan(state(idle(), { forecast: constant({ total: 1000 }) }), settings(), NOW), 'cordon')).toEqual([]);
  });

  it('keeps at most K servers draining or being deleted', () => {
    const inFlight = [server('d1', { phase: 'draining', participants: 4, meetings: 1 }), server('x1', { phase: 'deleting' })];
    const p = plan(state([...loaded(6, 50), ...inFlight]), settings({ maxConcurrent: { drains: 3 } }), NOW);
    expect(of(p, 'cordon')).toHaveLength(1);
    expect(p.held[0]).toMatch(/^\d+ more server\(s\) could be drained: at most 1 drain\(s\) may start now$/);
  });

  it('drains a class above its max even in a cooldown, and covers the loss with another class', () => {
    const servers = [...loaded(4, 300), server('busiest', { measuredLoad: 300, participants: 150, meetings: 3 })];
    const p = plan(state(servers, { lastScaleOutAt: NOW - MIN }), settings({ classes: { standard: { min: 1, max: 3 }, large: { max: 4 } } }), NOW);
    expect(targets(p, 'cordon')).toEqual(['s0', 's1']);
    expect(of(p, 'cordon')[0]!.reason).toMatch(/^class standard is above its max 3: cheapest of its servers to drain/);
    expect(of(p, 'provision').map((a) => [a.sizeClass, a.count])).toEqual([['large', 1]]);
    expect(p.desired).toEqual({ standard: 3, large: 1 });
  });

  it('deletes drained servers, and only those a poll after the cordon found empty', () => {
    const cordonedAt = NOW - 3 * MIN;
    const p = plan(
      state([
        ...loaded(3, 100),
        server('done', { phase: 'draining', phaseSince: cordonedAt, polledAt: cordonedAt + 1 }),
        server('stale', { phase: 'draining', phaseSince: cordonedAt, polledAt: cordonedAt - 1 }),
        server('class', { phase: 'draining', phaseSince: cordonedAt, meetings: 1, participants: 20, measuredLoad: 40 }),
        server('rec', { phase: 'draining', phaseSince: cordonedAt, recordingsProcessing: 1 }),
      ]),
      settings(),
      NOW,
    );
    expect(of(p, 'delete')).toEqual([{ type: 'delete', server: 'done', reason: 'drained: a poll after its cordon found no meeting, participant, reservation or recording' }]);
  });
});

describe('plan: large meetings', () => {
  const webinars = (loads: number[], remaining = 1): Partial<Demand> => ({ large: { loads, soon: 0, remaining, source: 'weekly profile' } });

  it('adds a server of the largest class when the capacity is there but no server has the room, and says why', () => {
    // 10 × 350 of 500 units: 3,500 held by 5,000 at 70 %, but each has 100 of room at 90 %.
    const p = plan(state(loaded(10, 350), { forecast: constant(webinars([400])) }), settings(), NOW);
    expect(of(p, 'provision')).toEqual([
      {
        type: 'provision',
        sizeClass: 'large',
        count: 1,
        reason: '1 large meeting(s) of up to 400 units expected by weekly profile find no server with that much room (100 % of today\'s load still running then): 1 new server(s) of class large',
      },
    ]);
    expect(p.desired).toEqual({ standard: 10, large: 1 });
  });

  it('asks nothing for a meeting heavier than any server can hold within the fill ceiling', () => {
    expect(plan(state(loaded(10, 350), { forecast: constant(webinars([901])) }), settings(), NOW).actions).toEqual([]);
    expect(of(plan(state(loaded(10, 350), { forecast: constant(webinars([900])) }), settings(), NOW), 'provision')).toHaveLength(1);
  });

  it('counts what ends before they come: a lesson over frees room on every server', () => {
    // Half the load ends before: 450 − 175 = 275 of room on each server, enough for 250.
    expect(plan(state(loaded(10, 350), { forecast: constant(webinars([250], 0.5)) }), settings(), NOW).actions).toEqual([]);
    expect(of(plan(state(loaded(10, 350), { forecast: constant(webinars([250], 1)) }), settings(), NOW), 'provision')).toHaveLength(1);
  });

  it('asks nothing at a change of lesson: most servers empty first, and the demand sizes the pool', () => {
    expect(plan(state(loaded(10, 350), { forecast: constant(webinars([400, 400, 400], 0.4)) }), settings(), NOW).actions).toEqual([]);
  });

  it('never drains the servers whose room they will need', () => {
    const idle = () => [...loaded(2, 300), server('quiet', { participants: 3, meetings: 1, measuredLoad: 20 }), server('empty')];
    // Room at 90 %: 150, 150, 430 and 450; one meeting of 400 still fits without 'empty'.
    expect(targets(plan(state(idle(), { forecast: constant(webinars([400])) }), settings(), NOW), 'cordon')).toEqual(['empty']);
    // Two need both big rooms: the cheapest server the pool can do without is then a busy one.
    expect(targets(plan(state(idle(), { forecast: constant(webinars([400, 420])) }), settings(), NOW), 'cordon')).toEqual(['s0']);
  });
});

describe('plan: properties', () => {
  const phases: ServerPhase[] = ['booting', 'ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'draining', 'draining', 'deleting', 'unavailable'];
  const arbServer = fc
    .record({
      sizeClass: fc.constantFrom('standard', 'large'),
      phase: fc.constantFrom(...phases),
      managed: fc.boolean(),
      age: fc.integer({ min: 0, max: 120 }),
      cordonedAgo: fc.integer({ min: 0, max: 30 }),
      polledAgo: fc.integer({ min: 0, max: 40 }),
      meetings: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })),
      participantsPerMeeting: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })), // 0: created, nobody joined yet
      recordingsProcessing: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 3 })),
      utilization: fc.double({ min: 0, max: 1.1, noNaN: true }),
      reserved: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 })),
      cpu: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    })
    .map((r): Omit<ScalerServer, 'id'> => {
      const capacity = CAPACITY[r.sizeClass]!;
      const empty = r.meetings === 0;
      return {
        sizeClass: r.sizeClass,
        capacity,
        phase: r.phase,
        managed: r.phase === 'booting' || r.phase === 'draining' || r.phase === 'deleting' ? true : r.managed,
        startedAt: NOW - r.age * MIN,
        phaseSince: NOW - r.cordonedAgo * MIN,
        polledAt: NOW - r.polledAgo * MIN,
        meetings: r.meetings,
        participants: r.meetings * r.participantsPerMeeting,
        recordingsProcessing: r.recordingsProcessing,
        measuredLoad: empty || r.phase === 'booting' ? 0 : r.utilization * capacity,
        reservedLoad: r.phase === 'booting' ? 0 : r.reserved,
        ...(r.cpu === undefined ? {} : { cpu: r.cpu }),
      };
    });
  const arbCase = fc.record({
    servers: fc.array(arbServer, { maxLength: 30 }).map((list) => list.map((s, i) => ({ ...s, id: `s${i}` }))),
    standard: fc.record({ min: fc.integer({ min: 0, max: 5 }), extra: fc.integer({ min: 0, max: 20 }) }),
    large: fc.record({ min: fc.integer({ min: 0, max: 3 }), extra: fc.integer({ min: 0, max: 6 }) }),
    provisions: fc.integer({ min: 1, max: 12 }),
    drains: fc.integer({ min: 1, max: 4 }),
    forecast: fc.record({
      total: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30_000 })),
      large: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5000 })),
    }),
    sinceOut: fc.integer({ min: 0, max: 60 }),
    sinceIn: fc.integer({ min: 0, max: 60 }),
  });
  type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;
  const run = (c: Case, provisions = c.provisions) => {
    const config = settings({
      classes: { standard: { min: c.standard.min, max: c.standard.min + c.standard.extra }, large: { min: c.large.min, max: c.large.min + c.large.extra } },
      maxConcurrent: { provisions, drains: c.drains },
    });
    const s = state(c.servers, {
      forecast: constant({ total: c.forecast.total, byClass: { large: c.forecast.large } }),
      lastScaleOutAt: NOW - c.sinceOut * MIN,
      lastScaleInAt: NOW - c.sinceIn * MIN,
    });
    return { config, p: plan(s, config, NOW) };
  };
  const byId = (servers: readonly ScalerServer[]) => new Map(servers.map((s) => [s.id, s]));
  const options = { seed: 42, numRuns: 500 };

  it('never deletes a server with a meeting, a participant, a reservation or a recording', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const servers = byId(c.servers);
        for (const id of targets(run(c).p, 'delete')) {
          const s = servers.get(id)!;
          expect([s.phase, s.managed, s.meetings, s.participants, s.reservedLoad, s.recordingsProcessing]).toEqual(['draining', true, 0, 0, 0, 0]);
          expect(s.polledAt).toBeGreaterThan(s.phaseSince);
        }
      }),
      options,
    );
  });

  it('cordons only ready servers it created, old enough, and acts on each server once', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { config, p } = run(c);
        const servers = byId(c.servers);
        for (const id of targets(p, 'cordon')) {
          const s = servers.get(id)!;
          expect([s.phase, s.managed]).toEqual(['ready', true]);
          expect(NOW - s.startedAt).toBeGreaterThanOrEqual(config.minLifetime);
        }
        for (const id of targets(p, 'uncordon')) expect(servers.get(id)!.phase).toBe('draining');
        const touched = p.actions.flatMap((a) => (a.type === 'provision' ? [] : [a.server]));
        expect(new Set(touched).size).toBe(touched.length);
        for (const a of p.actions) expect(a.reason.length).toBeGreaterThan(10);
      }),
      options,
    );
  });

  it('keeps desired within each class [min, max]', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { config, p } = run(c);
        for (const [name, k] of Object.entries(config.classes)) {
          expect(p.desired[name]).toBeGreaterThanOrEqual(k.min);
          expect(p.desired[name]).toBeLessThanOrEqual(k.max);
        }
      }),
      options,
    );
  });

  it('never starts more than K actions of a kind', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { config, p } = run(c);
        const count = (phase: ServerPhase) => c.servers.filter((s) => s.phase === phase).length;
        const provisioned = of(p, 'provision').reduce((sum, a) => sum + a.count, 0);
        if (provisioned > 0) expect(count('booting') + provisioned).toBeLessThanOrEqual(config.maxConcurrent.provisions);
        const draining = count('draining') - of(p, 'uncordon').length + count('deleting');
        if (of(p, 'cordon').length > 0) expect(draining + of(p, 'cordon').length).toBeLessThanOrEqual(config.maxConcurrent.drains);
      }),
      options,
    );
  });

  it('drains in a cooldown, or while the pool grows, only classes above their max', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { config, p } = run(c);
        const cooling = c.sinceOut * MIN < config.cooldowns.scaleInAfterScaleOut || c.sinceIn * MIN < config.cooldowns.scaleInAfterScaleIn;
        const covering = of(p, 'provision').some((a) => a.reason.includes('cheapest cover'));
        const growing = covering || of(p, 'uncordon').length > 0 || c.servers.some((s) => s.phase === 'booting');
        if (!cooling && !growing) return;
        const servers = byId(c.servers);
        for (const [name, k] of Object.entries(config.classes)) {
          const inService = c.servers.filter((s) => s.sizeClass === name && (s.phase === 'ready' || s.phase === 'booting')).length;
          const cordoned = targets(p, 'cordon').filter((id) => servers.get(id)!.sizeClass === name).length;
          expect(cordoned).toBeLessThanOrEqual(Math.max(0, inService - k.max));
        }
      }),
      options,
    );
  });

  it('leaves the pool able to hold the demand at the target whenever the class maxima allow it', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { config, p } = run(c, 1000);
        const ceiling = Object.values(config.classes).reduce((sum, k) => sum + k.max * k.capacity, 0);
        if (p.requiredCapacity > ceiling) return;
        const servers = byId(c.servers);
        let capacity = c.servers.filter((s) => s.phase === 'ready' || s.phase === 'booting').reduce((sum, s) => sum + s.capacity, 0);
        for (const a of p.actions) {
          if (a.type === 'provision') capacity += a.count * CAPACITY[a.sizeClass]!;
          if (a.type === 'uncordon') capacity += servers.get(a.server)!.capacity;
          if (a.type === 'cordon') capacity -= servers.get(a.server)!.capacity;
        }
        expect(capacity).toBeGreaterThanOrEqual(p.requiredCapacity - 1e-6);
      }),
      options,
    );
  });
});
