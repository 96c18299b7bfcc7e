// The Grafana dashboard and the Prometheus alert rules against what the roles really export:
// every metric and label an expression reads must exist (test/helpers/exported-metrics.ts), and
// both files keep the shape Grafana and Prometheus import.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { exportedMetrics, type ExportedMetrics } from '../helpers/exported-metrics.js';
import { analyze, unexportedNames, type KnownFamily } from '../helpers/promql.js';

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
type RuleFile = { groups: { name: string; rules: Rule[] }[] };
const rules = parseYaml(readFileSync('helm/amphi/alerts/amphi.rules.yaml', 'utf8')) as RuleFile;
// The scaler's rules, loaded only where a scaler runs (the chart: scaler.enabled).
const scalerRules = parseYaml(readFileSync('helm/amphi/alerts/amphi-scaler.rules.yaml', 'utf8')) as RuleFile;
const alerts = [...rules.groups, ...scalerRules.groups].flatMap((g) => g.rules);
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

  /**
   * What the expressions may read: the families the roles export, and `up`, which no Amphi
   * process exports: Prometheus writes it for every scrape target (1: scraped, 0: failed), with
   * the target labels job and instance. AmphiTargetDown reads it; nothing else may.
   */
  const readable = (): Map<string, KnownFamily> => new Map<string, KnownFamily>([...exported.families, ['up', { type: 'gauge', labels: new Set<string>() }]]);

  it('read only metrics and labels the roles export (and Prometheus\' up, for AmphiTargetDown alone)', () => {
    expect(expressions.length).toBeGreaterThan(40);
    const problems = expressions.flatMap(({ where, expr }) => unexportedNames(expr, readable()).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
    expect(expressions.filter(({ expr }) => analyze(expr).selectors.some((s) => s.metric === 'up')).map(({ where }) => where)).toEqual(['alert AmphiTargetDown']);
    expect(exported.families.has('up')).toBe(false);
  });

  it('dead processes are caught: absent() of the poller\'s and the scaler\'s step timestamps, up == 0 of the scrape targets', () => {
    const rule = (name: string) => alerts.find((r) => r.alert === name)!;
    expect(rule('AmphiPollerAbsent').expr).toBe('absent(amphi_poller_last_round_timestamp_seconds)');
    expect(rule('AmphiScalerStopped').expr).toMatch(/^absent\(amphi_scaler_last_step_timestamp_seconds\) or /);
    expect(rule('AmphiTargetDown').expr).toMatch(/^up\{job=~"[^"]+"\} == 0$/);
    // The scaler's rule is in its own file: an install without a scaler does not load it.
    expect(rules.groups.flatMap((g) => g.rules).map((r) => r.alert)).not.toContain('AmphiScalerStopped');
    for (const name of ['AmphiPollerAbsent', 'AmphiScalerStopped']) expect(exported.families.has(analyze(rule(name).expr).selectors[0]!.metric), name).toBe(true);
  });

  it('capacity alerts: the headroom alert fires with no capacity at all, joins refused count only the reasons capacity binds', () => {
    expect(alerts.find((r) => r.alert === 'AmphiPoolHeadroomLow')!.expr).toMatch(/ or max\(amphi_pool_capacity\) == 0$/);
    const joins = alerts.find((r) => r.alert === 'AmphiJoinsRefusedForCapacity')!.expr;
    const reasons = /reason=~"([^"]+)"/.exec(joins)![1]!.split('|');
    // Reasons the gateway really counts: admitJoin's refusals (RefusalReason of src/policy/admission.ts), the refused joins' outcome.
    const admission = readFileSync('src/policy/admission.ts', 'utf8');
    const refusalReasons = [.../export type RefusalReason =([^;]+);/.exec(admission)![1]!.matchAll(/\| '(\w+)'/g)].map((m) => m[1]);
    expect(refusalReasons).toContain('maxParticipants');
    for (const r of reasons) expect(refusalReasons, r).toContain(r);
    expect(reasons).toEqual(expect.arrayContaining(['curve', 'camerasBeyondCurve']));
    // The organiser's own limit (a full webinar) and the moderators' seats are no capacity shortage.
    expect(reasons).not.toContain('maxParticipants');
    expect(reasons).not.toContain('moderatorMargin');
    // A few overcommitted placements are a warning; only placing nowhere (creates fail) pages.
    expect(alerts.find((r) => r.alert === 'AmphiPlacementWithoutRoom')!.labels.severity).toBe('warning');
    expect(alerts.find((r) => r.alert === 'AmphiPlacementNoServer')!.labels.severity).toBe('critical');
  });

  it('would notice a misspelled metric or label (the check can fail)', () => {
    const renamed = expressions.map(({ expr }) => {
      const metric = analyze(expr).selectors[0]!.metric;
      return unexportedNames(expr.replace(metric, `${metric}_typo`), readable());
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
        'AmphiPlacementNoServer',
        'AmphiPollerAbsent',
        'AmphiTargetDown',
        'AmphiScalerStopped',
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
