// Small helpers for writing BBB's XML wire form: one element per line, no indentation,
// LF line breaks, no XML declaration and no trailing newline (FreeMarker `<#compress>` output).

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * Escapes a text value. The apostrophe stays literal, as in the wire captures of BBB
 * (`<meetingName>Anton G's Room</meetingName>`); it needs no escaping in element content.
 */
export function escapeXml(value: string): string {
  return /[&<>"]/.test(value) ? value.replace(/[&<>"]/g, (c) => ESCAPES[c]!) : value;
}

export function el(name: string, value: string | number | boolean): string {
  return `<${name}>${typeof value === 'string' ? escapeXml(value) : String(value)}</${name}>`;
}

/** A container whose children are already rendered lines; empty renders as BBB's open/close pair. */
export function container(name: string, children: readonly string[]): string[] {
  return [`<${name}>`, ...children, `</${name}>`];
}

/** Element names come from callers (metadata, userdata); keep only what XML allows. */
export function safeElementName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

export function recordLines(record: Record<string, string>): string[] {
  return Object.entries(record).map(([key, value]) => el(safeElementName(key), value));
}

export function response(lines: readonly string[]): string {
  return ['<response>', ...lines, '</response>'].join('\n');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Java's `Date.toString()` in UTC (`EEE MMM dd HH:mm:ss zzz yyyy`), BBB's createDate. */
export function javaDateString(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}
