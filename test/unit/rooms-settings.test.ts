// The rooms' settings (config/settings.ts): the /v1 audience and the join pages' frame-ancestors.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from '../../src/config/settings.js';

describe('rooms settings', () => {
  it('defaults AMPHI_V1_AUDIENCE to amphi-v1, apart from the admin audience, and AMPHI_FRAME_ANCESTORS to self', () => {
    const s = loadSettings({});
    expect(s.AMPHI_V1_AUDIENCE).toBe('amphi-v1');
    expect(s.AMPHI_V1_AUDIENCE).not.toBe(s.AMPHI_JWT_AUDIENCE);
    expect(s.AMPHI_FRAME_ANCESTORS).toBe("'self'");
  });

  it('takes a space-separated list of CSP sources for AMPHI_FRAME_ANCESTORS', () => {
    expect(loadSettings({ AMPHI_FRAME_ANCESTORS: "  'self'   https://www.education.gouv.fr https://*.ac-lyon.fr:443 " }).AMPHI_FRAME_ANCESTORS).toBe(
      "'self' https://www.education.gouv.fr https://*.ac-lyon.fr:443",
    );
    expect(loadSettings({ AMPHI_FRAME_ANCESTORS: "'none'" }).AMPHI_FRAME_ANCESTORS).toBe("'none'");
    expect(loadSettings({ AMPHI_FRAME_ANCESTORS: 'https:' }).AMPHI_FRAME_ANCESTORS).toBe('https:');
  });

  it('refuses what could end the directive or inject another', () => {
    for (const bad of ["'self'; script-src *", 'https://a.fr,https://b.fr', "'unsafe-inline'", "'none' 'self'", 'https://a.fr/"x', 'https://a.fr/x;y']) {
      expect(() => loadSettings({ AMPHI_FRAME_ANCESTORS: bad }), bad).toThrow(ConfigError);
    }
  });
});
