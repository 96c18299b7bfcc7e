// examples/embed: the example page's iframe is the one its README documents, and the gateway
// lets the site named in AMPHI_FRAME_ANCESTORS frame the link pages (form and refusals alike).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startLinkGateway, type LinkGateway } from '../helpers/join-links.js';

const DIR = join(import.meta.dirname, '..', '..', 'examples', 'embed');
const ALLOW = 'camera *; microphone *; display-capture *; autoplay *; fullscreen *';
const SANDBOX = ['allow-forms', 'allow-scripts', 'allow-same-origin', 'allow-popups', 'allow-popups-to-escape-sandbox', 'allow-downloads'];

/** The attributes of the one <iframe> in a text. */
function iframeAttributes(text: string): Record<string, string> {
  const tags = text.match(/<iframe\b(?:[^>"]|"[^"]*")*>/g) ?? [];
  expect(tags).toHaveLength(1);
  return Object.fromEntries([...tags[0]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe('the embedding example', () => {
  it('uses the iframe attributes its README documents', () => {
    const page = iframeAttributes(readFileSync(join(DIR, 'index.html'), 'utf8'));
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    const documented = iframeAttributes(readme);
    for (const attrs of [page, documented]) {
      expect(attrs.allow).toBe(ALLOW);
      expect(attrs.sandbox!.split(' ')).toEqual(SANDBOX);
      expect(attrs.referrerpolicy).toBe('no-referrer');
      expect(attrs.title).toBeTruthy();
      expect(attrs.src).toMatch(/^https:\/\/amphi\.example\.gouv\.fr\/j\//);
    }
    // Nothing that would let the frame take over the embedding page.
    expect(page.sandbox).not.toMatch(/allow-top-navigation/);
    // Every sandbox keyword and the setting are explained.
    for (const keyword of SANDBOX) expect(readme).toContain(`\`${keyword}\``);
    expect(readme).toContain('AMPHI_FRAME_ANCESTORS');
    // The redirect alternative is offered in both.
    expect(readFileSync(join(DIR, 'index.html'), 'utf8')).toMatch(/<a href="https:\/\/amphi\.example\.gouv\.fr\/j\/[^"]+" target="_blank" rel="noopener noreferrer">/);
  });
});

describe('frame-ancestors from AMPHI_FRAME_ANCESTORS', () => {
  let gw: LinkGateway;
  beforeAll(async () => {
    gw = await startLinkGateway({ label: 'embed', env: { AMPHI_FRAME_ANCESTORS: 'https://example.gouv.fr' } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('is on the form page and on refusal pages', async () => {
    const room = await gw.room();
    const { url, link } = await gw.link(room);
    const form = await request(url);
    await form.body.dump();
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-security-policy']).toMatch(/; frame-ancestors https:\/\/example\.gouv\.fr;/);
    await gw.store.rooms.revokeLink(room.id, link.id);
    for (const target of [url, `${gw.url}/j/forged`]) {
      const refused = await request(target);
      await refused.body.dump();
      expect(refused.statusCode).toBeGreaterThanOrEqual(404);
      expect(refused.headers['content-security-policy']).toMatch(/; frame-ancestors https:\/\/example\.gouv\.fr;/);
    }
    // No X-Frame-Options: it would override frame-ancestors in older browsers and forbid the embedding.
    expect(form.headers['x-frame-options']).toBeUndefined();
  });
});
