// Reads every policies/*.yaml of a directory as one policy and validates it. An error names the
// file, line and field (zod's issue path walked through the YAML document's nodes), so an
// operator can fix a rejected edit without guessing.
//
// Sections may be spread over files: `profiles` and `tenants` entry by entry (one file per
// tenant works), the other sections (curve, load, sizeEstimate, tenantDefaults) whole, each in
// one file.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { ZodIssue } from 'zod';
import { policySchema } from './schema.js';
import type { Policy } from './schema.js';

/** The shipped policies/, both from src/policy/ and from dist/src/policy/ (the build keeps the tree under dist/). */
export const DEFAULT_POLICY_DIR = fileURLToPath(
  new URL(import.meta.url.includes('/dist/src/') ? '../../../policies/' : '../../policies/', import.meta.url),
);

export interface PolicyIssue {
  file: string;
  /** 1-based; 0 when the problem is not at a line (unreadable directory). */
  line: number;
  column?: number;
  /** The field at fault, e.g. profiles.webinar.bbb.maxParticipants; '' for YAML syntax. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; policy: Policy; files: string[] } | { ok: false; errors: PolicyIssue[] };

/** `file:line: path: message`, the form editors and CI logs link to. */
export function formatIssue(i: PolicyIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}` : i.file;
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

export class PolicyLoadError extends Error {
  constructor(readonly errors: PolicyIssue[]) {
    super(`invalid policy:\n${errors.map((e) => `  ${formatIssue(e)}`).join('\n')}`);
  }
}

/** Sections merged entry by entry across files. */
const MAP_SECTIONS = new Set(['profiles', 'tenants']);

interface Source {
  file: string;
  doc: Document;
  lines: LineCounter;
}

export async function loadPolicyDir(dir: string): Promise<LoadResult> {
  let names: string[];
  try {
    // Dotfiles are editor swap files and Kubernetes' ..data links, not policy.
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    return fail({ file: dir, line: 0, path: '', message: `cannot read the policy directory: ${(err as Error).message}` });
  }
  if (names.length === 0) return fail({ file: dir, line: 0, path: '', message: 'no policy files (*.yaml) in this directory' });

  const errors: PolicyIssue[] = [];
  const merged = new Map<string, unknown>();
  const entries = new Map<string, Map<string, unknown>>();
  /** Which file defined a section ("curve") or an entry ("profiles\0webinar"). */
  const origin = new Map<string, Source>();
  const sources: Source[] = [];

  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      errors.push({ file, line: 0, path: '', message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    const src: Source = { file, doc, lines };
    sources.push(src);
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push({ file, ...position(lines, e.pos[0]), path: '', message: e.message.split('\n')[0]! });
      continue;
    }
    const data: unknown = doc.toJS({ maxAliasCount: 100 });
    if (data === null || data === undefined) continue; // only comments
    if (!isPlainObject(data)) {
      errors.push({ file, line: 1, path: '', message: 'a policy file is a mapping of sections (curve, profiles, load, sizeEstimate, tenantDefaults, tenants)' });
      continue;
    }
    for (const [section, value] of Object.entries(data)) {
      if (MAP_SECTIONS.has(section)) {
        if (value === null) continue; // an empty section adds nothing
        if (!isPlainObject(value)) {
          errors.push(issueAt(src, [section], `must be a mapping of names to ${section === 'profiles' ? 'profiles' : 'tenant settings'}`));
          continue;
        }
        const into = entries.get(section) ?? new Map<string, unknown>();
        entries.set(section, into);
        for (const [entry, v] of Object.entries(value)) {
          const key = `${section}\0${entry}`;
          const other = origin.get(key);
          if (other) {
            errors.push(issueAt(src, [section, entry], `already defined in ${other.file}`));
            continue;
          }
          into.set(entry, v);
          origin.set(key, src);
        }
      } else {
        const other = origin.get(section);
        if (other) {
          errors.push(issueAt(src, [section], `section already defined in ${other.file}`));
          continue;
        }
        merged.set(section, value);
        origin.set(section, src);
      }
    }
  }
  if (errors.length > 0) return fail(...errors);
  for (const [section, into] of entries) merged.set(section, Object.fromEntries(into));

  const parsed = policySchema.safeParse(Object.fromEntries(merged));
  if (parsed.success) return { ok: true, policy: parsed.data, files: sources.map((s) => s.file) };
  const first = sources[0]!;
  for (const issue of parsed.error.issues) {
    for (const { path, message } of explain(issue)) {
      const [section, entry] = path;
      const src = origin.get(`${String(section)}\0${String(entry)}`) ?? origin.get(String(section)) ?? first;
      errors.push(issueAt(src, path, message));
    }
  }
  return fail(...errors);
}

/** One located message per zod issue (one per key for unknown keys, which are what typos make). */
function explain(issue: ZodIssue): { path: (string | number)[]; message: string }[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown key "${key}"` }));
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') {
    return [{ path: issue.path, message: `required (${issue.expected})` }];
  }
  return [{ path: issue.path, message: issue.message }];
}

function issueAt(src: Source, path: (string | number)[], message: string): PolicyIssue {
  return { file: src.file, ...position(src.lines, offsetOf(src.doc, path)), path: formatPath(path), message };
}

/**
 * Offset of the deepest node on `path` that the document has: a mapping key (so a missing
 * field points at its parent's key, an unknown key at itself) or a sequence item.
 */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  let node: unknown = doc.contents;
  let offset = 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
      if (!pair) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(segment)];
      if (!item) break;
      offset = (item as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

function position(lines: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(...errors: PolicyIssue[]): LoadResult {
  return { ok: false, errors: errors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line) };
}
