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
