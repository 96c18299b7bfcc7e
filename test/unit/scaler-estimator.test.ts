import { describe, expect, it } from 'vitest';
import { ceilServers, estimate, reactiveDemand, serverDemand, serversForLarge } from '../../scaler/estimator.js';
import type { EstimateInput } from '../../scaler/estimator.js';
import { noDemand } from '../../scaler/forecast/demand.js';

const classes = {
  standard: { capacity: 500, min: 0, max: 20 },
  large: { capacity: 1000, min: 0, max: 4 },
};
const input = (over: Partial<EstimateInput>): EstimateInput => ({
  classes,
  targetUtilization: 0.7,
  reactive: 0,
  forecast: noDemand('none'),
  current: { standard: 0, large: 0 },
  currentCapacity: 0,
  rooms: [],
  fill: 0.9,
  ...over,
});

describe('server demand', () => {
  it('is the load model figure plus what young meetings still reserve', () => {
    expect(serverDemand({ capacity: 500, measuredLoad: 200, reservedLoad: 50 })).toBe(250);
  });

  it('follows the CPU when it says more than the load model, never less', () => {
    expect(serverDemand({ capacity: 500, measuredLoad: 200, reservedLoad: 50, cpu: 0.6 })).toBe(350);
    expect(serverDemand({ capacity: 500, measuredLoad: 200, reservedLoad: 0, cpu: 0.1 })).toBe(200);
  });

  it('sums over every server', () => {
    expect(reactiveDemand([])).toBe(0);
    expect(reactiveDemand([{ capacity: 500, measuredLoad: 100, reservedLoad: 10 }, { capacity: 1000, measuredLoad: 0, reservedLoad: 0, cpu: 0.5 }])).toBe(610);
  });
});

describe('whole servers', () => {
  it('rounds up, but not over float noise', () => {
    expect(ceilServers(7)).toBe(7);
    expect(ceilServers(7.0001)).toBe(8);
    expect(ceilServers(0.1 * 3 * 10)).toBe(3); // 3.0000000000000004
    expect(ceilServers(2450 / (500 * 0.7))).toBe(7);
    expect(ceilServers(0)).toBe(0);
    expect(ceilServers(-1)).toBe(0);
  });
});

describe('estimate', () => {
  it('needs the demand divided by the target utilization', () => {
    const e = estimate(input({ reactive: 1400 }));
    expect(e.demand).toBe(1400);
    expect(e.requiredCapacity).toBeCloseTo(2000, 9);
    expect(e.shortfall).toBeCloseTo(2000, 9);
  });

  it('is exactly enough at the tie: 2,450 units at 70 % of 7 standard servers', () => {
    const now = { current: { standard: 7, large: 0 }, currentCapacity: 3500 };
    expect(estimate(input({ reactive: 2450, ...now })).shortfall).toBe(0);
    expect(estimate(input({ reactive: 2451, ...now })).shortfall).toBeCloseTo(1 / 0.7, 9);
  });

  it('takes the larger of the reactive and the forecast demand', () => {
    expect(estimate(input({ reactive: 700, forecast: { total: 1400, byClass: {}, source: 'schedule' } })).demand).toBe(1400);
    expect(estimate(input({ reactive: 2100, forecast: { total: 1400, byClass: {}, source: 'schedule' } })).demand).toBe(2100);
  });

  it('starts from the servers there are, raised to each class minimum', () => {
    const e = estimate(input({ classes: { ...classes, standard: { capacity: 500, min: 3, max: 20 } }, current: { standard: 1, large: 1 }, currentCapacity: 1500 }));
    expect(e.minimum).toEqual({ standard: 3, large: 0 });
    expect(e.baseline).toEqual({ standard: 3, large: 1 });
    expect(e.shortfall).toBe(0);
  });

  it('lowers a class above its max, and counts the capacity lost as missing', () => {
    const e = estimate(input({ reactive: 2800, current: { standard: 8, large: 0 }, currentCapacity: 4000, classes: { ...classes, standard: { capacity: 500, min: 0, max: 6 } } }));
    expect(e.baseline.standard).toBe(6);
    expect(e.shortfall).toBeCloseTo(4000 - 3000, 9);
  });

  it('raises a class for the demand only it can hold, rounding up, within its max', () => {
    const forecast = { total: 0, byClass: { large: 1500 }, source: 'announced meetings' };
    expect(estimate(input({ forecast })).minimum.large).toBe(3); // 1,500 / 700 = 2.1
    expect(estimate(input({ forecast: { ...forecast, byClass: { large: 1400 } } })).minimum.large).toBe(2);
    expect(estimate(input({ forecast: { ...forecast, byClass: { large: 9000 } } })).minimum.large).toBe(4);
    expect(estimate(input({ forecast: { ...forecast, byClass: { huge: 9000 } } })).minimum).toEqual({ standard: 0, large: 0 });
  });

  it('counts the capacity of servers of classes it does not scale', () => {
    const e = estimate(input({ reactive: 700, current: { standard: 0, large: 0 }, currentCapacity: 1000 }));
    expect(e.shortfall).toBe(0);
  });
});

describe('room for large meetings', () => {
  it('puts each, in the order they come, on the roomiest server, as the gateway places them', () => {
    expect(serversForLarge([600, 300], [700, 320], 900)).toBe(0);
    // 300 first takes the 700 room, and 600 then finds 400 and 320: one new server (300 takes it, 600 the 700).
    expect(serversForLarge([300, 600], [700, 320], 900)).toBe(1);
    expect(serversForLarge([], [], 900)).toBe(0);
    expect(serversForLarge([500, 500], [500, 499], 900)).toBe(1);
  });

  it('asks nothing for those that come before a new server could be ready, though they take rooms', () => {
    // 300 comes soon and takes the 700 room; 600 then needs a new server.
    expect(serversForLarge([300, 600], [700, 320], 900, 1)).toBe(1);
    // 800 comes soon, does not fit, and still fills the roomiest; nothing is asked for it.
    expect(serversForLarge([800, 300], [700, 320], 900, 1)).toBe(0);
    expect(serversForLarge([800, 800], [700], 900, 2)).toBe(0);
  });

  it('packs those that fit nowhere into new servers, and leaves out one too large for any server', () => {
    // 600 + 300 and 500 + 400 in two rooms of 900.
    expect(serversForLarge([600, 500, 400, 300], [200, 250], 900)).toBe(2);
    // 950 is over any server's room at the fill ceiling: a new server would not hold it either.
    expect(serversForLarge([950, 950, 100], [], 900)).toBe(1);
    expect(serversForLarge([950], [], 900)).toBe(0);
  });

  const webinars = { total: 0, byClass: {}, source: 'weekly profile', large: { loads: [600, 550], soon: 0, remaining: 1, source: 'weekly profile' } };

  it('adds servers of the largest class when the pool has the capacity but no server with the room', () => {
    // 10 large servers at 700 of 1,000 units: 7,000 units, 10,000 at 70 % holds them, but each has 200 of room at 90 %.
    const e = estimate(input({ reactive: 7000, current: { standard: 0, large: 10 }, currentCapacity: 10_000, rooms: Array(10).fill(200), forecast: webinars, classes: { ...classes, large: { capacity: 1000, min: 0, max: 40 } } }));
    expect(e.shortfall).toBe(0);
    expect(e.holes).toEqual({ sizeClass: 'large', count: 2 });
    // One room of 600 holds the larger one.
    expect(estimate(input({ reactive: 7000, current: { standard: 0, large: 10 }, currentCapacity: 10_000, rooms: [...Array(9).fill(200), 600], forecast: webinars, classes: { ...classes, large: { capacity: 1000, min: 0, max: 40 } } })).holes.count).toBe(1);
  });

  it('counts what it adds against the shortfall, and the servers the class minimum adds as empty rooms', () => {
    const e = estimate(input({ reactive: 7000, current: { standard: 0, large: 0 }, currentCapacity: 7000, rooms: Array(7).fill(200), forecast: webinars, classes: { ...classes, large: { capacity: 1000, min: 0, max: 40 } } }));
    expect(e.holes.count).toBe(2);
    expect(e.shortfall).toBeCloseTo(10_000 - 9000, 6);
    const raised = estimate(input({ current: { standard: 0, large: 0 }, rooms: [], forecast: webinars, classes: { ...classes, large: { capacity: 1000, min: 2, max: 40 } } }));
    expect(raised.baseline.large).toBe(2);
    expect(raised.holes.count).toBe(0);
  });

  it('stays within the largest class max', () => {
    expect(estimate(input({ current: { standard: 0, large: 4 }, rooms: [0, 0, 0, 0], forecast: webinars })).holes).toEqual({ sizeClass: 'large', count: 0 });
    expect(estimate(input({ current: { standard: 0, large: 3 }, rooms: [0, 0, 0], forecast: webinars })).holes).toEqual({ sizeClass: 'large', count: 1 });
  });
});
