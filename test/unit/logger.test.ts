import { describe, expect, it } from 'vitest';
import { lazyRequestLog, nextRequestId } from '../../src/api/http/request-log.js';
import { createLogger, roleLog } from '../../src/log/logger.js';

function captured(level: Parameters<typeof createLogger>[0] = 'info'): { log: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = createLogger(level, (line) => out.push(line));
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the process logger', () => {
  it('writes pino JSON lines at LOG_LEVEL and above, each naming its role', () => {
    const { log, lines } = captured('info');
    const poller = roleLog(log, 'poller');
    poller.debug('hidden');
    poller.warn({ server: 'bbb-1', failed: 2 }, 'poll failed');
    expect(lines()).toEqual([expect.objectContaining({ level: 40, name: 'amphi', role: 'poller', server: 'bbb-1', failed: 2, msg: 'poll failed', pid: process.pid })]);
    const silent = captured('silent');
    silent.log.fatal('x');
    expect(silent.lines()).toEqual([]);
  });

  it('redacts fields that may hold a secret, at the top and one level down', () => {
    const { log, lines } = captured();
    log.info(
      { secret: 's1', server: { id: 'a', secret: 's2', url: 'http://bbb/api/create?checksum=c1' }, tenant: { name: 'acme', secrets: ['s3'] }, checksum: 'c2', url: '/api/join?checksum=c3', req: { headers: { authorization: 'Bearer t' } } },
      'fields',
    );
    const text = JSON.stringify(lines());
    for (const hidden of ['s1', 's2', 's3', 'c1', 'c2', 'c3', 'Bearer']) expect(text).not.toContain(hidden);
    expect(lines()[0]).toMatchObject({ server: { id: 'a', secret: '[redacted]' }, tenant: { name: 'acme' } });
  });

  it('redacts them deeper down and inside arrays too', () => {
    const { log, lines } = captured();
    log.info(
      {
        pool: { servers: [{ id: 'a', secret: 'deep-s1' }], record: { server: { secret: 'deep-s2', url: 'http://bbb/api?checksum=deep-c1' } } },
        list: [{ password: 'deep-p1' }, { token: 'deep-t1' }],
        event: { meeting: { info: { moderatorPW: 'deep-m1', attendeePW: 'deep-a1' } } },
      },
      'nested',
    );
    const text = JSON.stringify(lines());
    for (const hidden of ['deep-s1', 'deep-s2', 'deep-c1', 'deep-p1', 'deep-t1', 'deep-m1', 'deep-a1']) expect(text, hidden).not.toContain(hidden);
    expect(lines()[0]).toMatchObject({ pool: { servers: [{ id: 'a', secret: '[redacted]' }] }, list: [{ password: '[redacted]' }, { token: '[redacted]' }] });
  });

  it('serializes `err` without the arguments a Redis error carries', () => {
    const { log, lines } = captured();
    log.error({ err: Object.assign(new Error('READONLY'), { command: { name: 'hset', args: ['k', 'tenant-secret'] } }) }, 'write failed');
    expect(lines()[0]).toMatchObject({ err: { type: 'Error', message: 'READONLY' } });
    expect(JSON.stringify(lines())).not.toContain('tenant-secret');
  });
});

describe('request logs', () => {
  it('number requests in one sequence, and a request log carries its id', () => {
    const { log, lines } = captured();
    const [first, second] = [nextRequestId(), nextRequestId()];
    // Gateway workers each count from 1: an id names its process (a worker id, else the pid).
    expect(first).toMatch(/^req-(w\d+|p\d+)-[0-9a-z]+$/);
    expect(first).toContain(`-p${process.pid}-`);
    expect(second).not.toBe(first);
    lazyRequestLog(log, second).warn({ server: 'a' }, 'upstream call failed');
    expect(lines()).toEqual([expect.objectContaining({ reqId: second, server: 'a', msg: 'upstream call failed' })]);
  });
});
