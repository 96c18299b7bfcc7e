import { describe, expect, it } from 'vitest';
import { byRemovalCost, chooseDrains, isDrained, mayDrain } from '../../scaler/scale-down.js';
import type { DrainInput } from '../../scaler/scale-down.js';
import type { ScalerServer } from '../../scaler/servers.js';
import { scalerServer } from '../helpers/scaler-fixtures.js';

const MIN = 60_000;
const NOW = 1_000 * MIN;
const server = (id: string, over: Partial<ScalerServer> = {}): ScalerServer => scalerServer(id, NOW, over);
const ids = (servers: readonly ScalerServer[]) => servers.map((s) => s.id);

describe('which server costs least to remove', () => {
  it('fewest participants, then meetings, then recordings, then the larger, the older, by id', () => {
    const servers = [
      server('a', { participants: 3, meetings: 1 }),
      server('b', { participants: 0, meetings: 2 }),
      server('c', { participants: 0, meetings: 1, recordingsProcessing: 1 }),
      server('d', { participants: 0, meetings: 1 }),
      server('e', { capacity: 1000 }),
      server('f', { startedAt: NOW - 90 * MIN }),
      server('h'),
      server('g'),
    ];
    expect(ids([...servers].sort(byRemovalCost))).toEqual(['e', 'f', 'g', 'h', 'd', 'c', 'b', 'a']);
  });
});

describe('what may be drained', () => {
  it('only a ready server the scaler created, at least the minimum lifetime old', () => {
    const life = 15 * MIN;
    expect(mayDrain(server('a', { startedAt: NOW - life }), NOW, life)).toBe(true);
    expect(mayDrain(server('a', { startedAt: NOW - life + 1 }), NOW, life)).toBe(false);
    expect(mayDrain(server('a', { managed: false }), NOW, life)).toBe(false);
    for (const phase of ['booting', 'draining', 'deleting', 'unavailable'] as const) expect(mayDrain(server('a', { phase }), NOW, life)).toBe(false);
  });

  it('deletes only what a poll after the cordon found empty', () => {
    const drained = server('a', { phase: 'draining', phaseSince: NOW - MIN, polledAt: NOW - 1000 });
    expect(isDrained(drained)).toBe(true);
    expect(isDrained({ ...drained, polledAt: NOW - MIN })).toBe(false); // polled as it was cordoned
    expect(isDrained({ ...drained, meetings: 1 })).toBe(false);
    expect(isDrained({ ...drained, participants: 1 })).toBe(false);
    expect(isDrained({ ...drained, reservedLoad: 30 })).toBe(false); // a meeting being created
    expect(isDrained({ ...drained, recordingsProcessing: 1 })).toBe(false);
    expect(isDrained({ ...drained, managed: false })).toBe(false);
    expect(isDrained({ ...drained, phase: 'ready' })).toBe(false);
  });
});

describe('choosing servers to drain', () => {
  const pool = [server('busy', { participants: 40, meetings: 2 }), server('quiet', { participants: 2, meetings: 1 }), server('empty')];
  const input = (over: Partial<DrainInput> = {}): DrainInput => ({
    candidates: pool,
    excess: {},
    voluntary: true,
    capacity: 1500,
    keepCapacity: 0,
    count: { standard: 3 },
    minimum: { standard: 0 },
    slots: 5,
    ...over,
  });

  it('drains the cheapest while the pool keeps enough capacity without them', () => {
    expect(ids(chooseDrains(input({ keepCapacity: 900 })).drain)).toEqual(['empty']);
    expect(ids(chooseDrains(input({ keepCapacity: 500 })).drain)).toEqual(['empty', 'quiet']);
    expect(ids(chooseDrains(input({ keepCapacity: 1000.5 })).drain)).toEqual([]);
  });

  it('keeps each class at its minimum', () => {
    expect(ids(chooseDrains(input({ minimum: { standard: 2 } })).drain)).toEqual(['empty']);
  });

  it('starts at most as many drains as there are slots, and says how many more could go', () => {
    const choice = chooseDrains(input({ slots: 1 }));
    expect(ids(choice.drain)).toEqual(['empty']);
    expect(choice.held).toEqual(['2 more server(s) could be drained: at most 1 drain(s) may start now']);
    expect(chooseDrains(input({ slots: 0 })).drain).toEqual([]);
  });

  it('drains a class above its max whatever the demand, and nothing else unless voluntary', () => {
    const large = server('big', { sizeClass: 'large', capacity: 1000, participants: 5 });
    const choice = chooseDrains(input({ candidates: [...pool, large], excess: { standard: 1 }, voluntary: false, keepCapacity: 1e9, count: { standard: 3, large: 1 } }));
    expect(ids(choice.drain)).toEqual(['empty']);
    expect(choice.held).toEqual([]);
    const stuck = chooseDrains(input({ candidates: [], excess: { standard: 2 }, voluntary: false }));
    expect(stuck.held).toEqual([
      'class standard is 2 server(s) above its max that may not be drained yet (booting, younger than the minimum lifetime, or not created by the scaler)',
    ]);
  });
});
