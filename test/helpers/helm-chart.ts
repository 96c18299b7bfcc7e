// Reading the Helm chart without helm: its values, its templates (kind, name, the condition
// that wraps each one), and the hand-rendered examples. Only as much of Go templates as the
// chart's file-level conditions use is understood; anything else fails loudly.
import { readdirSync, readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

export const CHART_DIR = new URL('../../helm/amphi/', import.meta.url);
export const chartFile = (path: string): string => readFileSync(new URL(path, CHART_DIR), 'utf8');

export type Values = Record<string, unknown>;

export const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's merge of a values file over the chart's: maps merge key by key, anything else replaces. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base[k], v);
  return out;
}

/** The value at a dotted path (`gateway.pdb.enabled`), or undefined. */
export function at(values: unknown, path: string): unknown {
  let v = values;
  for (const key of path.split('.').filter((k) => k !== '')) {
    if (!isMap(v)) return undefined;
    v = v[key];
  }
  return v;
}

/** Go templates' truth: false, 0, nil and empty strings, maps and lists are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Evaluates a file-level `if` condition: .Values paths, not, and, or, parentheses. */
export function evalCondition(condition: string, values: Values): boolean {
  const tokens = condition.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const operand = (): unknown => {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`condition ends early: ${condition}`);
    if (t === '(') {
      const v = call();
      if (tokens[i++] !== ')') throw new Error(`unbalanced parenthesis: ${condition}`);
      return v;
    }
    const path = /^\$?\.Values\.([\w.]+)$/.exec(t);
    if (path) return at(values, path[1]!);
    throw new Error(`unsupported in a file-level condition: "${t}" (${condition})`);
  };
  const call = (): unknown => {
    const t = tokens[i];
    if (t === 'not') {
      i++;
      return !truthy(operand());
    }
    if (t === 'and' || t === 'or') {
      i++;
      const args: unknown[] = [];
      while (i < tokens.length && tokens[i] !== ')') args.push(operand());
      if (args.length < 2) throw new Error(`${t} needs two operands: ${condition}`);
      // Go returns the deciding operand; only its truth matters here.
      return t === 'and' ? args.every(truthy) : args.some(truthy);
    }
    return operand();
  };
  const result = truthy(call());
  if (i !== tokens.length) throw new Error(`unexpected "${tokens[i]}" in condition: ${condition}`);
  return result;
}

export interface Template {
  file: string;
  text: string;
  apiVersion: string;
  kind: string;
  /** What follows the fullname in metadata.name ("-gateway"). */
  nameSuffix: string;
  /** The `if` that wraps the whole file, or undefined when it always renders. */
  condition: string | undefined;
}

/** Every templates/*.yaml: one manifest each, optionally wrapped whole in one `if`. */
export function readTemplates(): Template[] {
  return readdirSync(new URL('templates/', CHART_DIR))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const text = chartFile(`templates/${file}`);
      const lines = text.split('\n');
      const apiLine = lines.findIndex((l) => l.startsWith('apiVersion:'));
      if (apiLine < 0) throw new Error(`${file}: no apiVersion line`);
      if (lines.filter((l) => l.startsWith('apiVersion:')).length !== 1) throw new Error(`${file}: one manifest a file, please`);
      const ifLine = lines.slice(0, apiLine).find((l) => /^\{\{-?\s*if\s/.test(l));
      const condition = ifLine ? /^\{\{-?\s*if\s+(.*?)\s*-?\}\}$/.exec(ifLine)?.[1] : undefined;
      if (ifLine && condition === undefined) throw new Error(`${file}: cannot read the condition ${ifLine}`);
      if (ifLine && !/^\{\{-?\s*end\s*-?\}\}$/.test(lines.filter((l) => l.trim() !== '').at(-1) ?? '')) {
        throw new Error(`${file}: the condition before apiVersion must wrap the whole file (end on the last line)`);
      }
      const kind = /^kind: (\w+)$/m.exec(text)?.[1];
      const apiVersion = /^apiVersion: (\S+)$/m.exec(text)?.[1];
      const nameSuffix = /^ {2}name: \{\{ include "amphi\.fullname" \. \}\}(\S*)$/m.exec(text)?.[1];
      if (!kind || !apiVersion || nameSuffix === undefined) throw new Error(`${file}: kind, apiVersion or metadata.name not found`);
      return { file, text, apiVersion, kind, nameSuffix, condition };
    });
}

/**
 * The lines of a template that print as they are whatever the values: neither template actions
 * nor comments, and outside any if/with/range block (other than the file-level condition).
 */
export function literalLines(template: Template): string[] {
  const out: string[] = [];
  let depth = 0;
  let wrapped = template.condition !== undefined;
  for (const line of template.text.split('\n')) {
    const t = line.trim();
    const actions = [...t.matchAll(/\{\{-?\s*(\w+)?/g)].map((m) => m[1]);
    for (const a of actions) {
      if (a === 'if' || a === 'with' || a === 'range') {
        if (wrapped) wrapped = false; // the file-level if: its body counts as depth 0
        else depth++;
      } else if (a === 'end') depth--;
    }
    if (depth === 0 && t !== '' && !t.includes('{{') && !t.startsWith('#')) out.push(t);
  }
  return out;
}

export interface RenderedDoc {
  source: string;
  text: string;
  manifest: Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
}

export interface Rendered {
  file: string;
  /** The `helm template RELEASE helm/amphi --namespace NS -f VALUES` of the file's first line. */
  release: string;
  namespace: string;
  valuesFile: string;
  docs: RenderedDoc[];
}

export function readRendered(file: string): Rendered {
  const text = chartFile(`examples/${file}`);
  const command = /^# helm template (\S+) helm\/amphi --namespace (\S+) -f helm\/amphi\/(examples\/values-[\w-]+\.yaml)$/m.exec(text);
  if (!command) throw new Error(`${file}: the first line must be the helm template command it stands for`);
  const parts = text.split(/^---$/m).slice(1);
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length !== parts.length) throw new Error(`${file}: ${parts.length} '---' for ${docs.length} documents`);
  return {
    file,
    release: command[1]!,
    namespace: command[2]!,
    valuesFile: command[3]!,
    docs: docs.map((d, i) => {
      const part = parts[i]!;
      const source = /^# Source: amphi\/templates\/(\S+)$/m.exec(part)?.[1];
      if (!source) throw new Error(`${file}: document ${i + 1} has no "# Source: amphi/templates/..." line`);
      if (d.errors.length > 0) throw new Error(`${file} (${source}): ${d.errors.map((e) => e.message).join('; ')}`);
      return { source, text: part, manifest: d.toJS() as RenderedDoc['manifest'] };
    }),
  };
}

/** The chart's values merged with an example's, as helm does for `-f`. */
export function valuesFor(valuesFile: string): Values {
  return mergeValues(parse(chartFile('values.yaml')), parse(chartFile(valuesFile))) as Values;
}

/** amphi.fullname of _helpers.tpl. */
export function fullname(release: string, values: Values): string {
  const override = at(values, 'fullnameOverride');
  if (typeof override === 'string' && override !== '') return override.slice(0, 63).replace(/-+$/, '');
  const chartName = (parse(chartFile('Chart.yaml')) as { name: string }).name;
  const name = (at(values, 'nameOverride') as string | undefined) || chartName;
  return (release.includes(name) ? release : `${release}-${name}`).slice(0, 63).replace(/-+$/, '');
}

/** Every `.Values.a.b` path a template or helper uses. */
export function valuesPaths(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const file of readdirSync(new URL('templates/', CHART_DIR)).filter((f) => /\.(yaml|tpl)$/.test(f))) {
    const text = chartFile(`templates/${file}`);
    const add = (path: string): void => void used.set(path, [...(used.get(path) ?? []), file]);
    for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) add(m[1]!.slice(1));
    // Variables bound to values ({{- $v := .Values }}, {{- $s := .Values.secrets }}) count too.
    for (const alias of text.matchAll(/\$(\w+) := \.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?=[\s}])/g)) {
      for (const m of text.matchAll(new RegExp(`\\$${alias[1]}((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)`, 'g'))) add(`${alias[2]!}${m[1]!}`.slice(1));
    }
  }
  return used;
}

/** The dotted paths of every leaf of a values tree (an empty map or list is a leaf). */
export function leafPaths(values: unknown, prefix = ''): string[] {
  if (!isMap(values) || Object.keys(values).length === 0) return [prefix];
  return Object.entries(values).flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}.${k}`));
}
