import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expand } from '../../scaler/expander.js';
import type { ClassOption } from '../../scaler/expander.js';

const option = (sizeClass: string, capacity: number, room = 100, cost = capacity): ClassOption => ({ sizeClass, capacity, cost, room });
const proportional = [option('small', 250), option('standard', 500), option('large', 1000)];
const capacityOf = (added: Record<string, number>, options: readonly ClassOption[]) =>
  options.reduce((sum, o) => sum + (added[o.sizeClass] ?? 0) * o.capacity, 0);
const costOf = (added: Record<string, number>, options: readonly ClassOption[]) =>
  options.reduce((sum, o) => sum + (added[o.sizeClass] ?? 0) * o.cost, 0);

/** Every count vector within the rooms, for comparison on small shortfalls. */
function cheapestByBruteForce(shortfall: number, options: readonly ClassOption[]): number {
  let best = Infinity;
  const visit = (i: number, capacity: number, cost: number) => {
    if (capacity >= shortfall) best = Math.min(best, cost);
    if (capacity >= shortfall || i === options.length) return;
    for (let n = 0; n <= options[i]!.room; n++) visit(i + 1, capacity + n * options[i]!.capacity, cost + n * options[i]!.cost);
  };
  visit(0, 0, 0);
  return best;
}

describe('expander', () => {
  it('covers with the least waste when prices follow capacity, then with the fewest servers', () => {
    expect(expand(600, proportional)).toEqual({ small: 1, standard: 1 });
    expect(expand(500, proportional)).toEqual({ standard: 1 });
    expect(expand(1, proportional)).toEqual({ small: 1 });
    expect(expand(10_000, proportional)).toEqual({ large: 10 });
  });

  it('fills large shortfalls with the class of the lowest cost per unit', () => {
    const premiumLarge = [option('small', 250), option('standard', 500), option('large', 1000, 100, 1500)];
    expect(expand(10_000, premiumLarge)).toEqual({ standard: 20 });
    expect(expand(1100, premiumLarge)).toEqual({ small: 1, standard: 2 });
  });

  it('stays within each class room, and fills every room when they cannot cover', () => {
    const tight = [option('standard', 500, 6), option('large', 1000, 2)];
    const added = expand(5000, tight);
    expect(added.large).toBe(2);
    expect(added.standard).toBe(6);
    expect(expand(9000, tight)).toEqual({ standard: 6, large: 2 });
    expect(expand(1000, [option('large', 1000, 0), option('standard', 500, 3)])).toEqual({ standard: 2 });
  });

  it('adds nothing without a shortfall or without room', () => {
    expect(expand(0, proportional)).toEqual({});
    expect(expand(-5, proportional)).toEqual({});
    expect(expand(500, [option('standard', 500, 0)])).toEqual({});
  });

  const options = fc
    .uniqueArray(
      fc.record({
        sizeClass: fc.constantFrom('a', 'b', 'c', 'd'),
        capacity: fc.integer({ min: 50, max: 1200 }),
        cost: fc.integer({ min: 1, max: 2000 }),
        room: fc.integer({ min: 0, max: 6 }),
      }),
      { minLength: 1, maxLength: 3, selector: (o) => o.sizeClass },
    );

  it('covers whenever the rooms can, within them, at the cheapest cost on spans of a few servers', () => {
    fc.assert(
      fc.property(options, fc.integer({ min: 1, max: 2400 }), (opts, shortfall) => {
        const added = expand(shortfall, opts);
        for (const o of opts) expect(added[o.sizeClass] ?? 0).toBeLessThanOrEqual(o.room);
        const roomCapacity = opts.reduce((sum, o) => sum + o.room * o.capacity, 0);
        if (roomCapacity < shortfall) {
          expect(capacityOf(added, opts)).toBe(roomCapacity);
          return;
        }
        expect(capacityOf(added, opts)).toBeGreaterThanOrEqual(shortfall);
        if (shortfall <= 2 * Math.max(...opts.filter((o) => o.room > 0).map((o) => o.capacity))) {
          expect(costOf(added, opts)).toBe(cheapestByBruteForce(shortfall, opts));
        }
      }),
      { seed: 9, numRuns: 400 },
    );
  });
});
