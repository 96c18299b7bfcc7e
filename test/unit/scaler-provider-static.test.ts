import { describe, expect, it } from 'vitest';
import { checkIdempotencyKey, describeServer, ProviderError, tagsFromList, tagsToList } from '../../scaler/providers/provider.js';
import { STATIC_POOL_FIXED, StaticProvider } from '../../scaler/providers/static.js';

const pool = [
  { id: 'bbb1', apiUrl: 'https://bbb1.example.org/bigbluebutton/api', secret: 's1', sizeClass: 'standard' },
  { apiUrl: 'https://bbb2.example.org/bigbluebutton/api', secret: 's2', sizeClass: 'large', tags: { rack: 'b' } },
];

describe('static provider', () => {
  it('lists the configured servers, running', async () => {
    const p = new StaticProvider(pool);
    expect(await p.list()).toEqual([
      { id: 'bbb1', sizeClass: 'standard', status: 'running', apiUrl: pool[0]!.apiUrl, secret: 's1', tags: {} },
      { id: pool[1]!.apiUrl, sizeClass: 'large', status: 'running', apiUrl: pool[1]!.apiUrl, secret: 's2', tags: { rack: 'b' } },
    ]);
    expect(await p.status('bbb1')).toBe('running');
    expect(await p.status('bbb9')).toBe('gone');
    expect((await p.get('bbb1'))?.secret).toBe('s1');
    expect(await p.get('bbb9')).toBeUndefined();
  });

  it('refuses create and delete, for good', async () => {
    const p = new StaticProvider(pool);
    for (const call of [() => p.create({ sizeClass: 'standard', idempotencyKey: 'k' }), () => p.delete('bbb1')]) {
      const err = (await call().catch((e: unknown) => e)) as ProviderError;
      expect(err).toBeInstanceOf(ProviderError);
      expect(err.message.startsWith(STATIC_POOL_FIXED)).toBe(true);
      expect(err.retryable).toBe(false);
    }
    expect(await p.list()).toHaveLength(2);
  });

  it('copies: a caller cannot change the pool through an answer', async () => {
    const p = new StaticProvider(pool);
    (await p.list())[0]!.tags.x = 'y';
    expect((await p.get('bbb1'))!.tags).toEqual({});
  });

  it('refuses a server listed twice', () => {
    expect(() => new StaticProvider([pool[0]!, pool[0]!])).toThrow(/listed twice/);
  });
});

describe('provider helpers', () => {
  it('describeServer hides the secret', () => {
    const s = { id: 'a', sizeClass: 'standard', status: 'running' as const, secret: 'top-secret', tags: {} };
    expect(JSON.stringify(describeServer(s))).not.toContain('top-secret');
    expect(describeServer(s).secret).toBe('[redacted]');
  });

  it('tags go to and from flat strings', () => {
    const tags = { 'amphi-managed': '', 'amphi-key': 'job:1', 'a=b': 'c' };
    expect(tagsToList(tags)).toEqual(['amphi-managed', 'amphi-key=job:1', 'a=b=c']);
    expect(tagsFromList(['amphi-managed', 'amphi-key=job:1', 'x=y=z'])).toEqual({ 'amphi-managed': '', 'amphi-key': 'job:1', x: 'y=z' });
  });

  it('idempotency keys must fit in a tag filter', () => {
    expect(() => checkIdempotencyKey('p', 'provision:standard:42')).not.toThrow();
    for (const bad of ['', 'a,b', 'a b', 'a=b', 'x'.repeat(101)]) expect(() => checkIdempotencyKey('p', bad)).toThrow(ProviderError);
  });
});
