import { createHash } from 'node:crypto';
import Fastify, { type FastifyReply } from 'fastify';
import { describe, expect, it } from 'vitest';
import { cleanName, NAME_MAX_LENGTH, readJoinForm } from '../../src/api/links/form.js';
import { contentSecurityPolicy, serverSchemes } from '../../src/api/links/headers.js';
import { chooseLang, fromAcceptLanguage } from '../../src/api/links/language.js';
import { LANGS, MESSAGES, type FormProblem, type Refusal } from '../../src/api/links/messages.js';
import { escapeHtml, PAGE_CSS_HASH, renderForm, renderRefusal } from '../../src/api/links/page.js';
import { badLinkUrlPage } from '../../src/api/links/routes.js';

const HOSTILE = `<script>alert("x")</script> "'& </title><img src=x onerror=alert(1)>`;
const REFUSALS: Refusal[] = ['invalid', 'expired', 'revoked', 'usedUp', 'roomGone', 'full', 'ended', 'unavailable', 'rateLimited', 'methodNotAllowed'];
const PROBLEMS: FormProblem[] = ['nameMissing', 'nameTooLong', 'formUnreadable', 'formTooLarge', 'formType'];

describe('language of a link page', () => {
  it.each([
    ['en-US,en;q=0.9,fr;q=0.8', 'en'],
    ['fr-FR,fr;q=0.9,en;q=0.8', 'fr'],
    ['de-DE, en;q=0.2, fr;q=0.1', 'en'],
    ['de-DE, fr;q=0.3, en;q=0.2', 'fr'],
    ['en;q=0.5, fr;q=0.5', 'en'], // a tie: the header's order decides
    ['fr;q=0.5, en;q=0.5', 'fr'],
    ['EN-gb', 'en'],
    ['en;q=0, fr;q=0.1', 'fr'],
    ['en;q=2, fr;q=0.4', 'fr'], // an impossible weight: that range is not understood
    ['en;q=abc', undefined],
    ['de, it', undefined],
    ['*', 'fr'],
    ['', undefined],
  ])('Accept-Language %j chooses %s', (header, lang) => {
    expect(fromAcceptLanguage(header)).toBe(lang);
  });

  it('ignores an overlong header', () => {
    expect(fromAcceptLanguage(`${'de;q=0.1, '.repeat(200)}en`)).toBeUndefined();
  });

  it('?lang= wins over Accept-Language, when it names a language of ours', () => {
    expect(chooseLang('en', 'fr-FR')).toBe('en');
    expect(chooseLang('fr', 'en-US')).toBe('fr');
    expect(chooseLang('de', 'en-US')).toBe('en');
    expect(chooseLang(['en', 'fr'], 'fr')).toBe('en');
    expect(chooseLang(undefined, undefined)).toBe('fr');
    expect(chooseLang({ evil: 1 }, 'de')).toBe('fr');
  });
});

describe('messages', () => {
  const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

  it('has every key, non-empty, in both languages, with the same placeholders', () => {
    const keys = Object.keys(MESSAGES.fr).sort();
    expect(Object.keys(MESSAGES.en).sort()).toEqual(keys);
    for (const key of keys) {
      const fr = MESSAGES.fr[key as keyof typeof MESSAGES.fr];
      const en = MESSAGES.en[key as keyof typeof MESSAGES.en];
      expect(fr.trim(), `fr.${key}`).not.toBe('');
      expect(en.trim(), `en.${key}`).not.toBe('');
      // Not left untranslated.
      expect(fr, key).not.toBe(en);
      expect(placeholders(fr), key).toEqual(placeholders(en));
    }
  });

  it('has a heading and a text for every refusal, and a text for every form problem', () => {
    for (const lang of LANGS) {
      for (const r of REFUSALS) {
        expect(MESSAGES[lang][`${r}Heading`]).toBeTruthy();
        expect(MESSAGES[lang][`${r}Text`]).toBeTruthy();
      }
      for (const p of PROBLEMS) expect(MESSAGES[lang][p]).toBeTruthy();
    }
  });
});

describe('link page HTML', () => {
  it('escapes the five HTML characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it.each(LANGS)('the form in %s: lang, labelled required field, one submit, no script', (lang) => {
    const html = renderForm({ lang, title: 'Maths 4e B', role: 'viewer' });
    expect(html).toMatch(new RegExp(`<html lang="${lang}">`));
    expect(html).toContain(`<label for="name">${MESSAGES[lang].nameLabel}</label>`);
    const input = /<input [^>]*>/.exec(html)![0];
    expect(input).toContain('id="name"');
    expect(input).toContain('name="name"');
    expect(input).toContain(' required');
    expect(input).toContain(`maxlength="${NAME_MAX_LENGTH}"`);
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).toContain(`<button type="submit">${MESSAGES[lang].submit}</button>`);
    expect(html).toContain(`<form method="post" action="?lang=${lang}">`);
    expect(html).not.toMatch(/<script|\sstyle=|\son\w+=/i);
    expect(html).toContain('Maths 4e B');
    expect(html).toContain(MESSAGES[lang].joinAsViewer);
    // The switch offers both languages, the current one marked.
    expect(html).toContain(`<a href="?lang=fr" hreflang="fr" lang="fr"${lang === 'fr' ? ' aria-current="true"' : ''}>Français</a>`);
    expect(html).toContain(`<a href="?lang=en" hreflang="en" lang="en"${lang === 'en' ? ' aria-current="true"' : ''}>English</a>`);
  });

  it('says a moderator link makes a moderator', () => {
    expect(renderForm({ lang: 'en', title: 't', role: 'moderator' })).toContain(MESSAGES.en.joinAsModerator);
  });

  it('the inline stylesheet is exactly the one the CSP hash allows', () => {
    const html = renderRefusal({ lang: 'fr', refusal: 'expired' });
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(`'sha256-${createHash('sha256').update(css).digest('base64')}'`).toBe(PAGE_CSS_HASH);
    expect(contentSecurityPolicy("'self'")).toContain(`style-src ${PAGE_CSS_HASH}`);
    expect(css).toContain(':focus-visible');
  });

  it.each(LANGS)('escapes a hostile room title and typed name (%s)', (lang) => {
    const pages = [
      renderForm({ lang, title: HOSTILE, role: 'viewer', problem: 'nameTooLong', name: `"><script>alert(2)</script>` }),
      renderRefusal({ lang, refusal: 'full', title: HOSTILE }),
      renderRefusal({ lang, refusal: 'ended', title: HOSTILE }),
    ];
    for (const html of pages) {
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img');
      expect(html.match(/<\/title>/g)).toHaveLength(1);
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &quot;&#39;&amp; &lt;/title&gt;&lt;img src=x onerror=alert(1)&gt;');
    }
    expect(pages[0]).toContain('value="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"');
    expect(pages[0]).toContain('aria-invalid="true"');
    expect(pages[0]).toContain(`role="alert">${escapeHtml(MESSAGES[lang].errorPrefix)} ${escapeHtml(MESSAGES[lang].nameTooLong)}</p>`);
  });

  it.each(LANGS)('refusal pages name the refusal in %s; only temporary ones offer to try again', (lang) => {
    for (const refusal of REFUSALS) {
      const html = renderRefusal({ lang, refusal, title: 'T', retryAfterSeconds: 42 });
      expect(html).toContain(`<html lang="${lang}">`);
      expect(html).toContain(`<h1>${escapeHtml(MESSAGES[lang][`${refusal}Heading`])}</h1>`);
      expect(html).not.toContain('<form');
      expect(html.includes(MESSAGES[lang].tryAgain)).toBe(['full', 'unavailable', 'rateLimited'].includes(refusal));
    }
    expect(renderRefusal({ lang, refusal: 'rateLimited', retryAfterSeconds: 42 })).toContain('<bdi>42</bdi>');
  });
});

describe('the name field', () => {
  it('is cleaned: controls become spaces, bidi overrides go, spaces collapse, NFC', () => {
    expect(cleanName('  Jean\tDupont\r\n ')).toBe('Jean Dupont');
    expect(cleanName('a\u0000b\u007fc\u2028d')).toBe('a b c d');
    expect(cleanName('\u202Eevil\u202C name\u2066')).toBe('evil name');
    expect(cleanName('Zoe\u0301')).toBe('Zoé');
    // Joiners are part of some scripts and emoji: kept.
    expect(cleanName('👩\u200D🏫 Mme\u00a0Ndiaye')).toBe('👩\u200D🏫 Mme Ndiaye');
  });

  it('accepts 1..100 characters once cleaned, counted as characters, not UTF-16 units', () => {
    expect(readJoinForm('name=%20%20Ana%20')).toEqual({ ok: true, name: 'Ana' });
    expect(readJoinForm(`name=${'é'.repeat(100)}`)).toEqual({ ok: true, name: 'é'.repeat(100) });
    expect(readJoinForm(`name=${encodeURIComponent('😀'.repeat(100))}`)).toEqual({ ok: true, name: '😀'.repeat(100) });
    expect(readJoinForm(`name=${'a'.repeat(101)}`)).toEqual({ ok: false, problem: 'nameTooLong', name: 'a'.repeat(101) });
    expect(readJoinForm(`name=${'a'.repeat(100)}%00%00%00`)).toEqual({ ok: true, name: 'a'.repeat(100) });
    expect(readJoinForm('name=Jos%C3%A9+Garc%C3%ADa')).toEqual({ ok: true, name: 'José García' });
  });

  it('refuses an empty name, a missing field, duplicates and strangers', () => {
    expect(readJoinForm('')).toEqual({ ok: false, problem: 'nameMissing' });
    expect(readJoinForm('name=')).toEqual({ ok: false, problem: 'nameMissing' });
    expect(readJoinForm('name=%09%0A%20%E2%80%AE')).toEqual({ ok: false, problem: 'nameMissing' });
    expect(readJoinForm('name=a&name=b')).toMatchObject({ ok: false, problem: 'formUnreadable' });
    expect(readJoinForm('name=a&role=moderator')).toMatchObject({ ok: false, problem: 'formUnreadable' });
    expect(readJoinForm('fullName=a')).toMatchObject({ ok: false, problem: 'formUnreadable' });
  });
});

describe('security headers', () => {
  it('a page with a form may post to itself and the servers’ schemes; one without, nowhere', () => {
    expect(serverSchemes(['https://bbb1.gouv.fr/bigbluebutton/api', 'HTTPS://bbb2.gouv.fr'])).toEqual(['https:']);
    expect(serverSchemes(['http://127.0.0.1:9/bigbluebutton/api'])).toEqual(['http:']);
    expect(serverSchemes([])).toEqual(['https:']);
    expect(contentSecurityPolicy("'self'", ['https:'])).toContain("form-action 'self' https:;");
    expect(contentSecurityPolicy('https://e.gouv.fr')).toBe(
      `default-src 'none'; style-src ${PAGE_CSS_HASH}; form-action 'none'; frame-ancestors https://e.gouv.fr; base-uri 'none'`,
    );
  });
});

describe('an undecodable /j URL', () => {
  it('gets the invalid-link page from frameworkErrors (as app.ts wires it), other URLs are left alone', async () => {
    const app = Fastify({
      frameworkErrors: (_err, req, res) => {
        const reply = res as FastifyReply;
        const page = badLinkUrlPage(req.raw.url ?? req.url, req.headers['accept-language'], 'https://example.gouv.fr');
        if (page) return reply.code(page.status).headers(page.headers).send(page.body);
        return reply.code(400).send('other');
      },
    });
    app.get('/j/*', async () => 'unreachable');
    app.get('/x/*', async () => 'unreachable');
    const fr = await app.inject({ url: '/j/%ff' });
    expect(fr.statusCode).toBe(404);
    expect(fr.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(fr.headers['content-security-policy']).toContain('frame-ancestors https://example.gouv.fr;');
    expect(fr.headers['cache-control']).toBe('no-store');
    expect(fr.body).toContain(`<h1>${escapeHtml(MESSAGES.fr.invalidHeading)}</h1>`);
    const en = await app.inject({ url: '/j/%E0%A4%A?lang=en' });
    expect(en.body).toContain(`<html lang="en">`);
    expect((await app.inject({ url: '/j/%ff', headers: { 'accept-language': 'en-US' } })).body).toContain(MESSAGES.en.invalidHeading);
    expect((await app.inject({ url: '/x/%ff' })).body).toBe('other');
    expect(badLinkUrlPage('/jx/%ff', undefined, "'self'")).toBeUndefined();
    await app.close();
  });
});
