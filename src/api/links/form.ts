// The join form's one field: the display name others see in the meeting. Checked here, before
// the link is used, so a bad form never spends a use.
import type { FormProblem } from './messages.js';

export const NAME_MAX_LENGTH = 100;

// Control characters and line/paragraph separators become spaces (a pasted tab or newline
// separates words); bidirectional overrides and isolates are dropped, as they let a name
// display as something else (U+202E turns "evil" around). Joiners stay: scripts need them.
const CONTROLS = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** The name as it will be shown: normalized, controls removed, spaces collapsed and trimmed. */
export function cleanName(raw: string): string {
  return raw.normalize('NFC').replace(CONTROLS, ' ').replace(BIDI_CONTROLS, '').replace(/\s+/gu, ' ').trim();
}

export type FormResult = { ok: true; name: string } | { ok: false; problem: FormProblem; name?: string };

/**
 * Reads an urlencoded body: exactly one `name` field and nothing else (a browser sends just
 * that), 1..100 characters (code points) once cleaned. `name` is returned on failure too, cleaned,
 * so the form can be shown again with it.
 */
export function readJoinForm(body: string): FormResult {
  const fields = new URLSearchParams(body);
  const keys = [...fields.keys()];
  const names = fields.getAll('name');
  if (names.length !== 1 || keys.length !== 1) return { ok: false, problem: names.length === 0 && keys.length === 0 ? 'nameMissing' : 'formUnreadable' };
  const name = cleanName(names[0]!);
  if (name === '') return { ok: false, problem: 'nameMissing' };
  if ([...name].length > NAME_MAX_LENGTH) return { ok: false, problem: 'nameTooLong', name };
  return { ok: true, name };
}
