// examples/embed/index.html in Chromium: served from another origin than the gateway's, its
// iframe shows the link page, the form works inside the sandbox, the join lands on the BBB
// client inside the frame with camera and microphone delegated to it; a site not listed in
// AMPHI_FRAME_ANCESTORS gets no page in its frame.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Frame, Page } from 'playwright-core';
import { MESSAGES } from '../../src/api/links/messages.js';
import { launchChromium } from '../helpers/chromium.js';
import { startLinkGateway, type LinkGateway } from '../helpers/join-links.js';

const EXAMPLE = readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'embed', 'index.html'), 'utf8');
const PLACEHOLDER = 'https://amphi.example.gouv.fr/j/REPLACE-WITH-THE-LINK-TOKEN';

// Run in the framed BBB client page; the project compiles without the DOM library.
declare const document: { featurePolicy?: { allowsFeature(feature: string): boolean } };

describe('the embedding example in Chromium', () => {
  let browser: Browser;
  let gw: LinkGateway;
  let site: Server;
  let port: number;
  /** What the example page's link is replaced with; `allow` overrides its allow attribute. */
  const served: { link: string; allow?: string } = { link: '' };

  beforeAll(async () => {
    browser = await launchChromium();
    site = createServer((_req, res) => {
      let html = EXAMPLE.replaceAll(PLACEHOLDER, served.link);
      if (served.allow !== undefined) html = html.replace(/ allow="[^"]*"/, ` allow="${served.allow}"`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    port = (site.address() as AddressInfo).port;
    // The embedding site is http://localhost:<port>; http://127.0.0.1:<port> is another origin, not listed.
    gw = await startLinkGateway({ label: 'embed-browser', env: { AMPHI_FRAME_ANCESTORS: `'self' http://localhost:${port}` } });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await new Promise((resolve) => site?.close(resolve));
  });

  async function joinInFrame(page: Page, name: string): Promise<Frame> {
    const frame = page.frameLocator('iframe.webinar');
    await frame.getByLabel(MESSAGES.fr.nameLabel, { exact: true }).fill(name);
    await frame.getByRole('button', { name: MESSAGES.fr.submit }).click();
    let client: Frame | undefined;
    await expect.poll(() => (client = page.frames().find((f) => /\/html5client\/join\?sessionToken=/.test(f.url()))), { timeout: 10_000 }).toBeTruthy();
    return client!;
  }

  const features = (frame: Frame) =>
    frame.evaluate(() => ['camera', 'microphone', 'display-capture', 'autoplay', 'fullscreen'].map((f) => document.featurePolicy?.allowsFeature(f) ?? null));

  it('a listed site shows the link page in its frame; the join lands on the BBB client with camera and microphone', async () => {
    const room = await gw.room({ title: 'Webinaire de rentrée' });
    served.link = (await gw.link(room)).url;
    served.allow = undefined;
    const context = await browser.newContext({ locale: 'fr-FR' });
    try {
      const page = await context.newPage();
      await page.goto(`http://localhost:${port}/`);
      await expect.poll(() => page.frameLocator('iframe.webinar').locator('h1').textContent()).toBe(MESSAGES.fr.joinHeading);
      const client = await joinInFrame(page, 'Léa Dubois');
      const entered = JSON.parse((await client.locator('body').textContent()) ?? '{}') as { response: Record<string, unknown> };
      expect(entered.response).toMatchObject({ returncode: 'SUCCESS', fullname: 'Léa Dubois', confname: room.title });
      // The embedding page itself stays where it was: only the frame moved on.
      expect(page.url()).toBe(`http://localhost:${port}/`);
      expect(await features(client)).toEqual([true, true, true, true, true]);
    } finally {
      await context.close();
    }
  });

  it('without `*`, the allow attribute would only delegate to the gateway, not to the BBB server the frame goes on to', async () => {
    served.link = (await gw.link(await gw.room())).url;
    served.allow = 'camera; microphone; display-capture; autoplay; fullscreen';
    const context = await browser.newContext({ locale: 'fr-FR' });
    try {
      const page = await context.newPage();
      await page.goto(`http://localhost:${port}/`);
      const client = await joinInFrame(page, 'Léa Dubois');
      expect((await features(client)).slice(0, 3)).toEqual([false, false, false]);
    } finally {
      served.allow = undefined;
      await context.close();
    }
  });

  it('a site not in AMPHI_FRAME_ANCESTORS gets no link page in its frame', async () => {
    served.link = (await gw.link(await gw.room())).url;
    const context = await browser.newContext({ locale: 'fr-FR' });
    try {
      const page = await context.newPage();
      const blocked = new Promise<string>((resolve) => {
        page.on('console', (m) => {
          if (/frame-ancestors/.test(m.text())) resolve(m.text());
        });
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      expect(await blocked).toContain(`http://localhost:${port}`);
      expect(await page.frameLocator('iframe.webinar').locator('#name').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
