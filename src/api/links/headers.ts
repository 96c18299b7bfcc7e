// The headers every /j answer carries. The pages run no script and load nothing: the CSP allows
// only their own inline stylesheet (by hash). frame-ancestors says which sites may embed a link
// page (AMPHI_FRAME_ANCESTORS, validated by config/settings.ts; examples/embed/README.md).
//
// form-action: Chromium applies it to every redirect that follows a form post, so `'self'` alone
// would block the 303 to the BBB server. The form page allows its own origin plus the URL
// schemes of the pool's servers (servers come and go with autoscaling, so a list of origins
// taken when the page was shown could miss the one the meeting lands on); pages without a form
// allow no form target at all.
import { PAGE_CSS_HASH } from './page.js';

/** `formTargets` undefined: the page has no form. */
export function contentSecurityPolicy(ancestors: string, formTargets?: readonly string[]): string {
  return [
    "default-src 'none'",
    `style-src ${PAGE_CSS_HASH}`,
    `form-action ${formTargets ? ["'self'", ...formTargets].join(' ') : "'none'"}`,
    `frame-ancestors ${ancestors}`,
    "base-uri 'none'",
  ].join('; ');
}

export function securityHeaders(ancestors: string, formTargets?: readonly string[]): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(ancestors, formTargets),
    'x-content-type-options': 'nosniff',
    // The token is in the URL: no Referer may carry it to the BBB server or anywhere else.
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

/** The schemes (`https:`, `http:`) of the servers' URLs, for form-action; `https:` when none is known. */
export function serverSchemes(urls: readonly string[]): string[] {
  const schemes = new Set<string>();
  for (const url of urls) {
    const scheme = /^(https?):/i.exec(url)?.[1];
    if (scheme) schemes.add(`${scheme.toLowerCase()}:`);
  }
  return schemes.size > 0 ? [...schemes].sort() : ['https:'];
}
