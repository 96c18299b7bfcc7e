// The Grafana dashboard and the Prometheus alert rules against what the roles really export:
// every metric and label an expression reads must exist (test/helpers/exported-metrics.ts), and
// both files keep the shape Grafana and Prometheus import.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { exportedMetrics, type ExportedMetrics } from '../helpers/exported-metrics.js';
import { analyze, unexportedNames } from '../helpers/promql.js';

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string; description: string; runbook_url: string };
}

const dashboard = JSON.parse(readFileSync('helm/amphi/dashboards/amphi.json', 'utf8')) as {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
};
const rules = parseYaml(readFileSync('helm/amphi/alerts/amphi.rules.yaml', 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const alerts = rules.groups.flatMap((g) => g.rules);
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const expressions: { where: string; expr: string }[] = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...alerts.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
];

/** GitHub's anchors of the headings of a Markdown file. */
function anchors(path: string): Set<string> {
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .map((l) => l.replace(/^#+\s*/, '').toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')),
  );
}

describe('dashboard and alerts', () => {
  let exported: ExportedMetrics;
  beforeAll(async () => {
    exported = await exportedMetrics();
  }, 60_000);
  afterAll(async () => {
    await exported?.close();
  });

  it('read only metrics and labels the roles export', () => {
    expect(expressions.length).toBeGreaterThan(40);
    const problems = expressions.flatMap(({ where, expr }) => unexportedNames(expr, exported.families).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('would notice a misspelled metric or label (the check can fail)', () => {
    const renamed = expressions.map(({ expr }) => {
      const metric = analyze(expr).selectors[0]!.metric;
      return unexportedNames(expr.replace(metric, `${metric}_typo`), exported.families);
    });
    expect(renamed.every((problems) => problems.length > 0)).toBe(true);
    expect(unexportedNames('sum by (meetingID) (amphi_tenant_meetings)', exported.families)).toEqual(['by (meetingID): no label of amphi_tenant_meetings']);
  });

  it('the dashboard imports alone: a Prometheus data source variable used by every panel', () => {
    expect(dashboard).toMatchObject({ title: 'Amphi', uid: expect.any(String), schemaVersion: expect.any(Number) });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
    const uses = (metric: string) => expressions.some(({ where, expr }) => where.startsWith('panel') && analyze(expr).selectors.some((s) => s.metric.startsWith(metric)));
    // The panels the operators asked for.
    for (const metric of [
      'amphi_pool_headroom',
      'amphi_server_info',
      'amphi_pool_servers',
      'amphi_joins_refused_total',
      'amphi_placement_duration_seconds',
      'amphi_request_duration_seconds',
      'amphi_poller_round_duration_seconds',
      'amphi_poller_failures_total',
      'amphi_scaler_desired_servers',
      'amphi_tenant_meetings',
      'amphi_tenant_participants',
    ])
      expect(uses(metric), metric).toBe(true);
    expect(expressions.some(({ expr }) => expr.includes('topk('))).toBe(true);
    expect(expressions.some(({ expr }) => expr.includes('histogram_quantile('))).toBe(true);
  });

  it('every alert has its severity, summary, description and a runbook section in docs/alerts.md', () => {
    const sections = anchors('docs/alerts.md');
    expect(alerts.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'AmphiPoolHeadroomLow',
        'AmphiServerOffline',
        'AmphiJoinsRefusedForCapacity',
        'AmphiPollRoundSlow',
        'AmphiScalerActionsFailing',
        'AmphiRedisUnreachable',
      ]),
    );
    for (const r of alerts) {
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
      const anchor = /^docs\/alerts\.md#(.+)$/.exec(r.annotations.runbook_url)?.[1];
      expect(anchor, r.alert).toBe(r.alert.toLowerCase());
      expect(sections.has(anchor!), `docs/alerts.md has no section ${r.alert}`).toBe(true);
    }
  });
});
