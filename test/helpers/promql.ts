// Just enough PromQL to know what an expression reads: the metric names it selects, the label
// names of their matchers, and the label lists of by/without/on/ignoring/group_left/group_right
// with the metrics each applies to. Not a parser of the whole language: an identifier followed
// by `(` that is no known function is an error, so an unknown construct never passes unseen.

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'avg_over_time', 'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'count_over_time', 'day_of_month',
  'day_of_week', 'days_in_month', 'delta', 'deriv', 'exp', 'floor', 'histogram_quantile', 'holt_winters', 'hour', 'idelta', 'increase', 'irate',
  'label_join', 'label_replace', 'last_over_time', 'ln', 'log2', 'log10', 'max_over_time', 'min_over_time', 'minute', 'month', 'predict_linear',
  'present_over_time', 'quantile_over_time', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sort', 'sort_desc', 'sqrt', 'stddev_over_time',
  'stdvar_over_time', 'sum_over_time', 'time', 'timestamp', 'vector', 'year',
]);
const GROUPING = new Set(['by', 'without']);
const MATCHING = new Set(['on', 'ignoring', 'group_left', 'group_right']);
const OPERATORS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);
const PUNCTUATION = ['==', '!=', '=~', '!~', '>=', '<=', '(', ')', '{', '}', ',', '=', '+', '-', '*', '/', '%', '^', '>', '<'];

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct';
  text: string;
}

export interface Selector {
  metric: string;
  /** Label names of its matchers. */
  labels: string[];
}

export interface Grouping {
  clause: string;
  labels: string[];
  /** The metrics the clause applies to: the aggregation's argument, or the enclosing group of a binary operation. */
  metrics: string[];
}

export function tokenize(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      i = expr.includes('\n', i) ? expr.indexOf('\n', i) : expr.length;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string in: ${expr}`);
      out.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '[') {
      // A range or subquery: durations and Grafana's $__rate_interval, no metric.
      const end = expr.indexOf(']', i);
      if (end < 0) throw new Error(`unterminated range in: ${expr}`);
      i = end + 1;
    } else if (/^[0-9.]/.test(rest)) {
      const m = /^(0x[0-9a-f]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?([smhdwy]|ms)*)/i.exec(rest)!;
      out.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/^[a-zA-Z_:]/.test(rest)) {
      const m = /^[a-zA-Z_:][\w:]*/.exec(rest)!;
      out.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else {
      const p = PUNCTUATION.find((q) => rest.startsWith(q));
      if (!p) throw new Error(`unexpected "${c}" in: ${expr}`);
      out.push({ kind: 'punct', text: p });
      i += p.length;
    }
  }
  return out;
}

/** Index of the `)` closing the `(` at `open`. */
function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.text === '(') depth++;
    if (tokens[i]!.text === ')' && --depth === 0) return i;
  }
  throw new Error('unbalanced parentheses');
}

/** The identifiers of a `( a, b )` list starting at `open`, and the index after it. */
function labelList(tokens: Token[], open: number): { labels: string[]; next: number } {
  if (tokens[open]?.text !== '(') return { labels: [], next: open };
  const end = closing(tokens, open);
  const labels = tokens.slice(open + 1, end).filter((t) => t.kind === 'ident').map((t) => t.text);
  return { labels, next: end + 1 };
}

export function analyze(expr: string): { selectors: Selector[]; groupings: Grouping[] } {
  const tokens = tokenize(expr);
  const selectors: (Selector & { at: number })[] = [];
  const clauses: { clause: string; labels: string[]; from: number; to: number }[] = [];
  /** Token ranges of every parenthesized group, to find what encloses a matching clause. */
  const groups: { from: number; to: number }[] = [];
  tokens.forEach((t, i) => {
    if (t.text === '(') groups.push({ from: i, to: closing(tokens, i) });
  });
  const enclosing = (at: number) =>
    groups.filter((g) => g.from < at && at < g.to).reduce((inner, g) => (g.from > inner.from ? g : inner), { from: -1, to: tokens.length });

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct' && t.text === '{' && tokens[i - 1]?.kind !== 'ident') throw new Error(`a selector without a metric name in: ${expr}`);
    if (t.kind !== 'ident') continue;
    const next = tokens[i + 1]?.text;
    if (AGGREGATIONS.has(t.text)) {
      // `sum by (l) (body)` or `sum (body) by (l)`.
      let at = i + 1;
      let clause: { clause: string; labels: string[] } | undefined;
      if (GROUPING.has(tokens[at]?.text ?? '')) {
        const list = labelList(tokens, at + 1);
        clause = { clause: tokens[at]!.text, labels: list.labels };
        at = list.next;
      }
      if (tokens[at]?.text !== '(') throw new Error(`${t.text} without its argument in: ${expr}`);
      const end = closing(tokens, at);
      if (!clause && GROUPING.has(tokens[end + 1]?.text ?? '')) clause = { clause: tokens[end + 1]!.text, labels: labelList(tokens, end + 2).labels };
      if (clause) clauses.push({ ...clause, from: at, to: end });
    } else if (FUNCTIONS.has(t.text)) {
      if (next !== '(') throw new Error(`function ${t.text} without arguments in: ${expr}`);
    } else if (GROUPING.has(t.text)) {
      // Read with its aggregation.
      i = labelList(tokens, i + 1).next - 1;
    } else if (MATCHING.has(t.text)) {
      const list = labelList(tokens, i + 1);
      clauses.push({ clause: t.text, labels: list.labels, ...enclosing(i) });
      i = list.next - 1;
    } else if (OPERATORS.has(t.text.toLowerCase())) {
      // and, or, unless, bool, offset (its duration is a number token).
    } else if (next === '(') {
      throw new Error(`unknown function ${t.text} in: ${expr}`);
    } else {
      const labels: string[] = [];
      if (next === '{') {
        let j = i + 2;
        while (tokens[j] && tokens[j]!.text !== '}') {
          const [name, op, value] = [tokens[j], tokens[j + 1], tokens[j + 2]];
          if (name?.kind !== 'ident' || !['=', '!=', '=~', '!~'].includes(op?.text ?? '') || value?.kind !== 'string') throw new Error(`bad matcher in: ${expr}`);
          labels.push(name.text);
          j += tokens[j + 3]?.text === ',' ? 4 : 3;
        }
        if (!tokens[j]) throw new Error(`unterminated matchers in: ${expr}`);
        i = j;
      }
      selectors.push({ metric: t.text, labels, at: i });
    }
  }
  const metricsIn = (from: number, to: number) => selectors.filter((s) => s.at > from && s.at < to).map((s) => s.metric);
  return {
    selectors: selectors.map(({ metric, labels }) => ({ metric, labels })),
    groupings: clauses.map(({ clause, labels, from, to }) => ({ clause, labels, metrics: metricsIn(from, to) })),
  };
}

/** What an expression's checks need to know of an exported family. */
export interface KnownFamily {
  type: string;
  labels: ReadonlySet<string>;
}

/** Labels Prometheus adds to every series of a scrape target. */
const TARGET_LABELS = ['job', 'instance'];

/**
 * Every metric and label of `expr` that `families` does not export, as messages (empty: all
 * exported). `_bucket`, `_sum` and `_count` of a histogram family are that family; `le` is a
 * label of its buckets.
 */
export function unexportedNames(expr: string, families: ReadonlyMap<string, KnownFamily>): string[] {
  const problems: string[] = [];
  const labelsOf = (metric: string): Set<string> | undefined => {
    const exact = families.get(metric);
    if (exact) return new Set([...exact.labels, ...TARGET_LABELS]);
    const m = /^(.*)_(bucket|sum|count)$/.exec(metric);
    const base = m && families.get(m[1]!);
    if (!m || base?.type !== 'histogram') return undefined;
    return new Set([...base.labels, ...TARGET_LABELS, ...(m[2] === 'bucket' ? ['le'] : [])]);
  };
  const { selectors, groupings } = analyze(expr);
  for (const s of selectors) {
    const labels = labelsOf(s.metric);
    if (!labels) problems.push(`${s.metric}: no such metric is exported`);
    else for (const l of s.labels) if (!labels.has(l)) problems.push(`${s.metric}{${l}}: no such label`);
  }
  for (const g of groupings) {
    const known = new Set(g.metrics.flatMap((m) => [...(labelsOf(m) ?? [])]));
    for (const l of g.labels) if (!known.has(l)) problems.push(`${g.clause} (${l}): no label of ${g.metrics.join(', ') || 'any metric'}`);
  }
  return problems;
}
