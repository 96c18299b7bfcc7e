// The /j pages in a real headless Chromium: what a person sees in French and in English, the
// labelled form, the join that lands on the (simulated) BBB client, and a refused link.
// AMPHI_SCREENSHOTS=1 also writes docs/screenshots/*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { MESSAGES } from '../../src/api/links/messages.js';
import { launchChromium, screenshot } from '../helpers/chromium.js';
import { startLinkGateway, type LinkGateway } from '../helpers/join-links.js';

// The page functions below run in the browser; the project compiles without the DOM library,
// so the little they use is declared here.
interface InputElement {
  required: boolean;
  maxLength: number;
  type: string;
  validity: { valueMissing: boolean };
}
declare const document: { activeElement: { id: string } | null };
declare function getComputedStyle(el: unknown): { backgroundColor: string; outlineWidth: string };

describe('link pages in Chromium', () => {
  let browser: Browser;
  let gw: LinkGateway;
  beforeAll(async () => {
    browser = await launchChromium();
    gw = await startLinkGateway({ label: 'link-browser' });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** A page in a browser speaking `locale`, with the CSP violations it reports kept. */
  async function open(locale: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ locale, viewport: { width: 800, height: 520 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      // (Statuses such as the refusal's own 410 are reported as console errors too: not those.)
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
    return { context, page, errors };
  }

  for (const [lang, locale] of [['fr', 'fr-FR'], ['en', 'en-GB']] as const) {
    const m = MESSAGES[lang];

    it(`shows a labelled form in ${lang} and the join lands on the BBB client`, async () => {
      const room = await gw.room({ title: lang === 'fr' ? 'Mathématiques 4e B' : 'Year 9 Mathematics' });
      const { url, link } = await gw.link(room);
      const { context, page, errors } = await open(locale);
      try {
        const res = await page.goto(url);
        expect(res?.status()).toBe(200);
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        expect(await page.title()).toContain(room.title);
        await expect.poll(() => page.locator('h1').textContent()).toBe(m.joinHeading);
        expect(await page.locator('main').textContent()).toContain(room.title);

        // The field is reachable by its label (accessible name) and constrained as documented.
        const field = page.getByLabel(m.nameLabel, { exact: true });
        expect(await field.getAttribute('id')).toBe('name');
        expect(await field.evaluate((el: InputElement) => [el.required, el.maxLength, el.type])).toEqual([true, 100, 'text']);
        expect(await page.getByRole('button').count()).toBe(1);
        const button = page.getByRole('button', { name: m.submit });

        // The stylesheet applies (its CSP hash is right) and the keyboard focus is visible.
        expect(await button.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(0, 0, 145)');
        await page.keyboard.press('Tab'); // the first link of the language switch
        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab'); // the name field
        expect(await page.evaluate(() => document.activeElement?.id)).toBe('name');
        expect(await field.evaluate((el) => getComputedStyle(el).outlineWidth)).toBe('3px');

        await field.fill('Camille Martin');
        await screenshot(page, `link-page-${lang}.png`);

        // An empty name is stopped by the browser itself (required): still on the page, no use taken.
        await field.fill('');
        await button.click();
        expect(page.url()).toBe(url);
        expect(await field.evaluate((el: InputElement) => el.validity.valueMissing)).toBe(true);
        expect(await gw.store.rooms.getLink(link.id)).toMatchObject({ uses: 0 });

        await field.fill('Camille Martin');
        await Promise.all([page.waitForURL(/\/html5client\/join\?sessionToken=/), button.click()]);
        const entered = JSON.parse((await page.locator('body').textContent()) ?? '{}') as { response: Record<string, unknown> };
        expect(entered.response).toMatchObject({ returncode: 'SUCCESS', fullname: 'Camille Martin', role: 'VIEWER', confname: room.title });
        const servers = gw.pool.cluster.servers().map(({ server }) => new URL(server.baseUrl).origin);
        expect(servers).toContain(new URL(page.url()).origin);
        expect(await gw.store.rooms.getLink(link.id)).toMatchObject({ uses: 1 });
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });

    it(`shows a revoked link's refusal in ${lang}`, async () => {
      const room = await gw.room({ title: 'Sciences' });
      const { url, link } = await gw.link(room);
      await gw.store.rooms.revokeLink(room.id, link.id);
      const { context, page, errors } = await open(locale);
      try {
        const res = await page.goto(url);
        expect(res?.status()).toBe(410);
        expect(await page.getAttribute('html', 'lang')).toBe(lang);
        expect(await page.locator('h1').textContent()).toBe(m.revokedHeading);
        expect(await page.locator('main p').first().textContent()).toBe(m.revokedText);
        expect(await page.locator('form').count()).toBe(0);
        await screenshot(page, `refused-${lang}.png`);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('switches language with the link, and a form refused by the server keeps the chosen language', async () => {
    const { url } = await gw.link(await gw.room({ title: 'Anglais' }));
    const { context, page } = await open('fr-FR');
    try {
      await page.goto(url);
      await Promise.all([page.waitForURL(/\?lang=en$/), page.getByRole('link', { name: 'English' }).click()]);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.locator('h1').textContent()).toBe(MESSAGES.en.joinHeading);
      expect(await page.getByRole('link', { name: 'English' }).getAttribute('aria-current')).toBe('true');
      // Only spaces: the browser lets it through (required is satisfied), the server refuses it.
      await page.getByLabel(MESSAGES.en.nameLabel).fill('   ');
      await Promise.all([page.waitForLoadState('load'), page.getByRole('button').click()]);
      await expect.poll(() => page.getByRole('alert').textContent()).toBe(`${MESSAGES.en.errorPrefix} ${MESSAGES.en.nameMissing}`);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await page.getByLabel(MESSAGES.en.nameLabel).getAttribute('aria-invalid')).toBe('true');
    } finally {
      await context.close();
    }
  });
});
