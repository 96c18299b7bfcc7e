import { afterEach, describe, expect, it } from 'vitest';
import { BbbClientError } from '../../src/bbb/client.js';
import type { CliIO } from '../../src/cli/command.js';
import { commands } from '../../src/cli/commands.js';
import { pollerCommand } from '../../src/cli/commands/poller.js';
import { main } from '../../src/cli/dispatch.js';
import { mapLimit } from '../../src/util/map-limit.js';
import { failureText, isNoteworthy, roundSummary } from '../../src/poller/poller.js';
import type { RoundStats } from '../../src/poller/poller.js';

const error = (kind: BbbClientError['kind'], extra: Partial<ConstructorParameters<typeof BbbClientError>[0]> = {}) =>
  new BbbClientError({ kind, server: 'http://127.0.0.1:1/bigbluebutton/api', callName: 'getMeetings', detail: 'x', ...extra });

describe('poll failure texts', () => {
  it.each<[BbbClientError, string]>([
    [error('timeout'), 'timeout'],
    [error('refused'), 'refused'],
    [error('http', { status: 502 }), 'http 502'],
    [error('malformed'), 'malformed XML'],
    [error('failed', { messageKey: 'checksumError' }), 'FAILED checksumError'],
    [error('network', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }), 'network ECONNRESET'],
    [error('network'), 'network error'],
  ])('%s → %s', (err, text) => {
    expect(failureText(err)).toBe(text);
  });

  it('keeps the message of anything else', () => {
    expect(failureText(new Error('boom'))).toBe('boom');
    expect(failureText('plain')).toBe('plain');
  });
});

describe('round summary', () => {
  const quiet: RoundStats = {
    servers: 3, polled: 2, failed: 1, skipped: 0, deferred: 0, errors: 0, durationMs: 12.4, repinned: 0, forgotten: 0, overCurve: 0, restored: false, changes: [],
  };

  it('is a debug line when nothing changed', () => {
    expect(isNoteworthy(quiet)).toBe(false);
    expect(roundSummary(quiet)).toEqual({ servers: 3, polled: 2, failed: 1, leasedElsewhere: 0, deferred: 0, durationMs: 12 });
  });

  it('names what changed', () => {
    const busy: RoundStats = {
      ...quiet,
      repinned: 4,
      restored: true,
      changes: [
        { server: 'a', to: 'offline', error: 'timeout' },
        { server: 'b', to: 'online' },
        { server: 'c', to: 'disabled' },
      ],
    };
    expect(isNoteworthy(busy)).toBe(true);
    expect(roundSummary(busy)).toEqual({
      servers: 3,
      polled: 2,
      failed: 1,
      leasedElsewhere: 0,
      deferred: 0,
      durationMs: 12,
      restored: true,
      offline: [{ server: 'a', error: 'timeout' }],
      online: [{ server: 'b' }],
      disabled: [{ server: 'c' }],
      repinned: 4,
    });
    expect(isNoteworthy({ ...quiet, forgotten: 1 })).toBe(true);
    expect(isNoteworthy({ ...quiet, errors: 1 })).toBe(true);
  });
});

describe('bounded concurrency', () => {
  it('runs every item once with at most `limit` in flight', async () => {
    let inFlight = 0;
    let max = 0;
    const seen: number[] = [];
    const doubled = await mapLimit([...Array(20).keys()], 3, async (item, index) => {
      expect(index).toBe(item);
      max = Math.max(max, ++inFlight);
      await new Promise((r) => setTimeout(r, 1 + (item % 3)));
      seen.push(item);
      inFlight--;
      return item * 2;
    });
    expect(max).toBe(3);
    expect(doubled).toEqual([...Array(20).keys()].map((i) => i * 2));
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('handles no items and a limit above the item count', async () => {
    expect(await mapLimit([], 8, async () => expect.unreachable())).toEqual([]);
    const seen: string[] = [];
    await mapLimit(['a', 'b'], 100, async (s) => void seen.push(s));
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('amphi poller', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  function capture(): CliIO & { out: string; err: string } {
    const io = { out: '', err: '', stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s) };
    return io;
  }

  it('is registered', () => {
    expect(commands).toContain(pollerCommand);
  });

  it('stops with exit code 2 and names the bad setting', async () => {
    process.env.AMPHI_POLL_INTERVAL_MS = '5';
    process.env.REDIS_URL = 'redis://127.0.0.1:1'; // never reached: settings fail first
    const io = capture();
    expect(await main(['poller'], io)).toBe(2);
    expect(io.err).toMatch(/AMPHI_POLL_INTERVAL_MS="5"/);
    expect(io.out).toBe('');
  });

  it('rejects arguments', async () => {
    const io = capture();
    expect(await main(['poller', '--nope'], io)).toBe(2);
  });
});
