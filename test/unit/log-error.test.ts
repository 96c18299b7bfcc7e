import { describe, expect, it } from 'vitest';
import { logError } from '../../src/api/http/log-error.js';

describe('logged errors', () => {
  it('keep type, message and stack, and drop the command a Redis error carries', () => {
    // ioredis' ReplyError shape: the failed command with its arguments.
    const err = Object.assign(new Error('READONLY You can\'t write against a read only replica.'), {
      command: { name: 'hset', args: ['amphi:{default}:tenants', 'acme', '{"secrets":["acme-secret"]}'] },
    });
    const logged = logError(err);
    expect(logged).toMatchObject({ type: 'Error', message: err.message });
    expect(typeof logged.stack).toBe('string');
    expect(JSON.stringify(logged)).not.toContain('acme-secret');
  });
});

describe('logError on what is not an Error', () => {
  it('logs a message string as one field, not one field per character', () => {
    const logged = logError('create on http://127.0.0.1:1/bigbluebutton/api failed (timeout)');
    expect(logged.message).toBe('create on http://127.0.0.1:1/bigbluebutton/api failed (timeout)');
    expect(Object.keys(logged)).not.toContain('0');
  });
});

describe('logged errors hide the secrets a message or stack can hold', () => {
  it('replaces checksum= and password= values in the message, the stack and the causes', () => {
    const cause = new Error('GET http://bbb-1/bigbluebutton/api/getMeetings?checksum=cause-sum failed');
    const err = new Error('create on http://bbb-1/bigbluebutton/api/create?meetingID=m&moderatorPW=mod-pw&checksum=top-sum failed: password=pw-1', { cause });
    const inner = new AggregateError([new Error('redis://u:url-pw@r:6379/0?password=agg-pw unreachable')], 'all failed');
    const logged = logError(Object.assign(err, { attempts: [inner] }));
    const text = JSON.stringify(logged);
    for (const hidden of ['cause-sum', 'top-sum', 'mod-pw', 'pw-1', 'url-pw', 'agg-pw']) expect(text, hidden).not.toContain(hidden);
    // pino's serializer appends the causes' messages to the message, and their stacks to the stack.
    expect(logged.message).toMatch(/^create on http:\/\/bbb-1\/bigbluebutton\/api\/create\?meetingID=m&moderatorPW=\*\*\*&checksum=\*\*\* failed: password=\*\*\*/);
    expect(logged.message).toContain('getMeetings?checksum=***');
    expect(logged.stack).toContain('checksum=***');
    expect(text).toContain('password=***');
  });

  it('a thrown string is redacted too', () => {
    expect(logError('failed: ?checksum=abc123').message).toBe('failed: ?checksum=***');
  });
});
