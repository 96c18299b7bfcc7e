import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER } from '../../src/admin/token.js';
import { ConfigError, loadSettings, settingsHelp } from '../../src/config/settings.js';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../../src/redis/connect.js';

describe('settings', () => {
  it('has working defaults', () => {
    const s = loadSettings({});
    expect(s.PORT).toBe(8090);
    expect(s.AMPHI_CHECKSUM_ALGORITHMS).toEqual(['sha1', 'sha256', 'sha384', 'sha512']);
    expect(s.AMPHI_SECRET).toBeUndefined();
    expect(s.AMPHI_POLL_INTERVAL_MS).toBe(5000);
  });

  it('parses lists and numbers from the environment', () => {
    const s = loadSettings({ AMPHI_SECRET: 'new, old', PORT: '9000', AMPHI_CHECKSUM_ALGORITHMS: 'sha256,sha512' });
    expect(s.AMPHI_SECRET).toEqual(['new', 'old']);
    expect(s.PORT).toBe(9000);
    expect(s.AMPHI_CHECKSUM_ALGORITHMS).toEqual(['sha256', 'sha512']);
  });

  it('names every bad setting', () => {
    const bad = () => loadSettings({ PORT: 'eighty', AMPHI_CHECKSUM_ALGORITHMS: 'md5', AMPHI_JWT_SECRET: 'short' });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/PORT="eighty"/);
    expect(bad).toThrow(/AMPHI_CHECKSUM_ALGORITHMS="md5"/);
    expect(bad).toThrow(/AMPHI_JWT_SECRET="short": use at least 16 characters/);
  });

  it('reads a YAML file under the environment, and refuses unknown keys in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'amphi-config-'));
    const file = join(dir, 'amphi.yaml');
    writeFileSync(file, 'PORT: 7000\nAMPHI_POLL_INTERVAL_MS: 1000\n');
    expect(loadSettings({ AMPHI_CONFIG: file }).PORT).toBe(7000);
    expect(loadSettings({ AMPHI_CONFIG: file, PORT: '7001' }).PORT).toBe(7001);
    writeFileSync(file, 'PROT: 7000\n');
    expect(() => loadSettings({ AMPHI_CONFIG: file })).toThrow(/PROT \(in .*\): unknown setting/);
    expect(() => loadSettings({ AMPHI_CONFIG: join(dir, 'missing.yaml') })).toThrow(/cannot read/);
  });

  it('has the admin token claims, Redis command timeout and shutdown deadline, with their bounds', () => {
    const s = loadSettings({});
    // The defaults of the modules that use them outside the settings (mintAdminToken, createRedis).
    expect(s.AMPHI_JWT_ISSUER).toBe(DEFAULT_ISSUER);
    expect(s.AMPHI_JWT_AUDIENCE).toBe(DEFAULT_AUDIENCE);
    expect(s.AMPHI_REDIS_COMMAND_TIMEOUT_MS).toBe(DEFAULT_REDIS_COMMAND_TIMEOUT_MS);
    expect(s.AMPHI_SHUTDOWN_TIMEOUT_MS).toBe(25_000);
    const set = loadSettings({ AMPHI_JWT_ISSUER: 'amphi-prod', AMPHI_JWT_AUDIENCE: 'ops', AMPHI_REDIS_COMMAND_TIMEOUT_MS: '50', AMPHI_SHUTDOWN_TIMEOUT_MS: '1000' });
    expect([set.AMPHI_JWT_ISSUER, set.AMPHI_JWT_AUDIENCE, set.AMPHI_REDIS_COMMAND_TIMEOUT_MS, set.AMPHI_SHUTDOWN_TIMEOUT_MS]).toEqual(['amphi-prod', 'ops', 50, 1000]);
    const bad = () => loadSettings({ AMPHI_REDIS_COMMAND_TIMEOUT_MS: '49', AMPHI_SHUTDOWN_TIMEOUT_MS: '999' });
    expect(bad).toThrow(/AMPHI_REDIS_COMMAND_TIMEOUT_MS="49"/);
    expect(bad).toThrow(/AMPHI_SHUTDOWN_TIMEOUT_MS="999"/);
  });

  it('refuses a proxy trust setting proxy-addr cannot read, naming it', () => {
    expect(loadSettings({ AMPHI_TRUST_PROXY: '10.0.0.0/8, loopback' }).AMPHI_TRUST_PROXY).toBe('10.0.0.0/8, loopback');
    expect(loadSettings({ AMPHI_TRUST_PROXY: 'false' }).AMPHI_TRUST_PROXY).toBe('false');
    expect(() => loadSettings({ AMPHI_TRUST_PROXY: 'garbage' })).toThrow(/AMPHI_TRUST_PROXY="garbage"/);
  });

  it('documents every setting', () => {
    expect(settingsHelp()).toContain('AMPHI_POLL_INTERVAL_MS');
  });
});
