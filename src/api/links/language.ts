// Which language a /j page speaks: the `?lang=` switch when it names one we have, else the best
// of Accept-Language (RFC 9110 §12.5.4, q-values), else French.
import { DEFAULT_LANG, LANGS, type Lang } from './messages.js';

const isLang = (value: string): value is Lang => (LANGS as readonly string[]).includes(value);

/** Longer headers are not parsed (a browser sends a few dozen characters). */
const MAX_HEADER_LENGTH = 1000;
const QVALUE = /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i;

/** The language Accept-Language prefers among ours; undefined when it names none of them. */
export function fromAcceptLanguage(header: string | undefined): Lang | undefined {
  if (!header || header.length > MAX_HEADER_LENGTH) return undefined;
  let best: { lang: Lang; q: number } | undefined;
  for (const entry of header.split(',')) {
    const [range = '', ...params] = entry.split(';').map((p) => p.trim());
    let q = 1;
    for (const param of params) {
      const m = QVALUE.exec(param);
      if (m) q = Number(m[1]);
      else if (/^q=/i.test(param)) q = 0; // a malformed weight: the range is not understood, skip it
    }
    const primary = range.toLowerCase().split('-')[0]!;
    // `*` means "anything else": our default, ranked by its weight.
    const lang = primary === '*' ? DEFAULT_LANG : primary;
    if (q <= 0 || !isLang(lang)) continue;
    // Ties keep the earlier entry: the header's own order breaks them.
    if (!best || q > best.q) best = { lang, q };
  }
  return best?.lang;
}

/** The `lang` query parameter when it names one of ours (the first one, if repeated). */
export function fromQuery(value: unknown): Lang | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && isLang(first) ? first : undefined;
}

export function chooseLang(query: unknown, acceptLanguage: string | undefined): Lang {
  return fromQuery(query) ?? fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LANG;
}
