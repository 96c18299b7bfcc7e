// Values the global setup hands to test files through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis the tests use (a private redis-server unless AMPHI_TEST_REDIS_URL is set). */
    redisUrl: string;
  }
}

export {};
