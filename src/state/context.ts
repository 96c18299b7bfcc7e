import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** What every part of the store shares: one connection and the pool's key layout. */
export interface StoreContext {
  redis: Redis;
  keys: Keys;
  now: () => number;
}
