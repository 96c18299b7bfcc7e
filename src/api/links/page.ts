// The HTML of the /j/<token> pages: the join form and the refusal page. No script at all (the
// form works as plain HTML); the one stylesheet is inline and allowed by its hash in the CSP, so
// the page needs no second request. Every text that is not ours (room title, typed name) is
// HTML-escaped where it is inserted.
import { createHash } from 'node:crypto';
import type { LinkRole } from '../../rooms/types.js';
import { NAME_MAX_LENGTH } from './form.js';
import { type FormProblem, LANGS, type Lang, MESSAGES, type Messages, type Refusal } from './messages.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * A message with its `{placeholders}` filled in, as HTML: the message and each value escaped,
 * each value in a <bdi> so a right-to-left title cannot reorder the sentence around it.
 */
function fill(template: string, values: Readonly<Record<string, string>> = {}): string {
  return escapeHtml(template).replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? `<bdi>${escapeHtml(values[key]!)}</bdi>` : whole));
}

// DSFR-like colours (bleu France, rouge Marianne), contrast >= 7:1 on white for text.
export const PAGE_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;font-size:100%;line-height:1.5;color:#161616;background:#f6f6f6}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;padding:1rem}
header{width:100%;max-width:32rem;display:flex;justify-content:space-between;align-items:center;gap:1rem;margin-bottom:1rem;font-size:.875rem}
header p{margin:0;font-weight:700;color:#000091}
nav ul{list-style:none;margin:0;padding:0;display:flex;gap:.75rem}
a{color:#000091;text-underline-offset:.2em}
a[aria-current]{font-weight:700;text-decoration:none;color:#161616}
main{width:100%;max-width:32rem;background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:1.5rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p{margin:0 0 1rem}
bdi{font-weight:700}
label{display:block;font-weight:700;margin-bottom:.25rem}
.hint{font-size:.875rem;color:#3a3a3a;margin-bottom:.5rem}
input{display:block;width:100%;font:inherit;padding:.5rem .75rem;border:1px solid #3a3a3a;border-radius:.25rem;margin-bottom:1rem;background:#fff;color:#161616}
input[aria-invalid=true]{border:2px solid #ce0500}
button{font:inherit;font-weight:700;padding:.5rem 1.5rem;border:0;border-radius:.25rem;background:#000091;color:#fff;cursor:pointer}
button:hover{background:#1212ff}
.error{border-left:.25rem solid #ce0500;padding:.5rem .75rem;background:#ffe9e9;color:#a00000}
:focus-visible{outline:3px solid #0a76f6;outline-offset:2px}
@media (prefers-color-scheme:dark){html{color:#eee;background:#161616}main{background:#1e1e1e;border-color:#3a3a3a}
header p,a{color:#8585f6}a[aria-current]{color:#eee}.hint{color:#cecece}input{background:#161616;color:#eee;border-color:#cecece}
.error{background:#3b0000;color:#ffbdbd}}
`.trim();

/** The CSP source that allows exactly the stylesheet above. */
export const PAGE_CSS_HASH = `'sha256-${createHash('sha256').update(PAGE_CSS, 'utf8').digest('base64')}'`;

function languageSwitch(lang: Lang): string {
  // `?lang=xx` resolves against the page's own path: the same link, in the other language.
  const items = LANGS.map((l) => {
    const current = l === lang ? ' aria-current="true"' : '';
    return `<li><a href="?lang=${l}" hreflang="${l}" lang="${l}"${current}>${escapeHtml(MESSAGES[l].languageName)}</a></li>`;
  });
  return `<nav aria-label="${escapeHtml(MESSAGES[lang].languageSwitch)}"><ul>${items.join('')}</ul></nav>`;
}

function layout(lang: Lang, documentTitle: string, body: string): string {
  const m = MESSAGES[lang];
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(documentTitle)} – ${escapeHtml(m.service)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><p>${escapeHtml(m.service)}</p>${languageSwitch(lang)}</header>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface FormPage {
  lang: Lang;
  title: string;
  role: LinkRole;
  /** Shown above the field when a submitted form was refused. */
  problem?: FormProblem;
  /** What was typed, cleaned, to fill the field again. */
  name?: string;
}

/** The join form: the room's title, one labelled name field, one button. */
export function renderForm(page: FormPage): string {
  const m: Messages = MESSAGES[page.lang];
  const error = page.problem
    ? `<p class="error" id="name-error" role="alert">${escapeHtml(m.errorPrefix)} ${escapeHtml(m[page.problem])}</p>\n`
    : '';
  const described = page.problem ? 'name-error name-hint' : 'name-hint';
  const invalid = page.problem ? ' aria-invalid="true"' : '';
  const value = page.name ? ` value="${escapeHtml(page.name)}"` : '';
  // The form posts to the page's own path, keeping the language the person reads.
  return layout(
    page.lang,
    page.title,
    `<h1>${escapeHtml(m.joinHeading)}</h1>
<p>${fill(m.joinIntro, { title: page.title })}</p>
<p>${escapeHtml(page.role === 'moderator' ? m.joinAsModerator : m.joinAsViewer)}</p>
${error}<form method="post" action="?lang=${page.lang}">
<label for="name">${escapeHtml(m.nameLabel)}</label>
<p class="hint" id="name-hint">${escapeHtml(m.nameHint)}</p>
<input id="name" name="name" type="text" required maxlength="${NAME_MAX_LENGTH}" autocomplete="name" spellcheck="false" aria-describedby="${described}"${invalid}${value}>
<button type="submit">${escapeHtml(m.submit)}</button>
</form>`,
  );
}

export interface RefusalPage {
  lang: Lang;
  refusal: Refusal;
  /** The room's title, for the refusals that name it. */
  title?: string;
  retryAfterSeconds?: number;
}

/** Refusals worth trying again from the same link, a little later. */
const RETRYABLE: ReadonlySet<Refusal> = new Set(['full', 'unavailable', 'rateLimited']);

export function renderRefusal(page: RefusalPage): string {
  const m = MESSAGES[page.lang];
  const heading = m[`${page.refusal}Heading`];
  const text = fill(m[`${page.refusal}Text`], { title: page.title ?? '', seconds: String(page.retryAfterSeconds ?? 60) });
  const retry = RETRYABLE.has(page.refusal) ? `\n<p><a href="?lang=${page.lang}">${escapeHtml(m.tryAgain)}</a></p>` : '';
  return layout(page.lang, heading, `<h1>${escapeHtml(heading)}</h1>\n<p>${text}</p>${retry}`);
}
