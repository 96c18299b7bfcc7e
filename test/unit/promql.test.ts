// The PromQL reader the dashboard and alert checks rely on (test/helpers/promql.ts).
import { describe, expect, it } from 'vitest';
import { analyze, unexportedNames, type KnownFamily } from '../helpers/promql.js';

const families = new Map<string, KnownFamily>([
  ['amphi_server_load', { type: 'gauge', labels: new Set(['server']) }],
  ['amphi_server_info', { type: 'gauge', labels: new Set(['server', 'size_class']) }],
  ['amphi_requests_total', { type: 'counter', labels: new Set(['call', 'outcome']) }],
  ['amphi_request_duration_seconds', { type: 'histogram', labels: new Set(['call']) }],
  ['amphi_pool_headroom', { type: 'gauge', labels: new Set() }],
]);

describe('PromQL reader', () => {
  it('finds metrics, matcher labels and grouping lists, not functions, keywords, ranges or strings', () => {
    const r = analyze(
      'histogram_quantile(0.99, sum by (le, call) (rate(amphi_request_duration_seconds_bucket{call=~"join|create", job!="x"}[$__rate_interval] offset 5m)))',
    );
    expect(r.selectors).toEqual([{ metric: 'amphi_request_duration_seconds_bucket', labels: ['call', 'job'] }]);
    expect(r.groupings).toEqual([{ clause: 'by', labels: ['le', 'call'], metrics: ['amphi_request_duration_seconds_bucket'] }]);
  });

  it('reads a grouping after the aggregation body and matching clauses with their enclosing group', () => {
    const r = analyze('sum(amphi_server_load * on (server) group_left (size_class) amphi_server_info) by (size_class) > bool 0 and vector(1)');
    expect(r.selectors.map((s) => s.metric)).toEqual(['amphi_server_load', 'amphi_server_info']);
    expect(r.groupings).toEqual([
      { clause: 'by', labels: ['size_class'], metrics: ['amphi_server_load', 'amphi_server_info'] },
      { clause: 'on', labels: ['server'], metrics: ['amphi_server_load', 'amphi_server_info'] },
      { clause: 'group_left', labels: ['size_class'], metrics: ['amphi_server_load', 'amphi_server_info'] },
    ]);
  });

  it('refuses what it does not know rather than letting it pass', () => {
    expect(() => analyze('made_up_function(amphi_server_load)')).toThrow(/unknown function/);
    expect(() => analyze('{__name__="amphi_server_load"}')).toThrow(/without a metric name/);
    expect(() => analyze('amphi_server_load{server="a"')).toThrow();
  });

  it('reports unexported metrics and labels, accepting histogram series, le, and target labels', () => {
    expect(unexportedNames('sum by (le) (rate(amphi_request_duration_seconds_bucket{instance="a"}[5m]))', families)).toEqual([]);
    expect(unexportedNames('amphi_request_duration_seconds_count / amphi_request_duration_seconds_sum', families)).toEqual([]);
    expect(unexportedNames('sum by (tenant) (amphi_requests_total{outcome="success"})', families)).toEqual(['by (tenant): no label of amphi_requests_total']);
    expect(unexportedNames('amphi_pool_headroom_ratio', families)).toEqual(['amphi_pool_headroom_ratio: no such metric is exported']);
    expect(unexportedNames('amphi_requests_total_bucket', families)).toEqual(['amphi_requests_total_bucket: no such metric is exported']);
    expect(unexportedNames('amphi_server_load{size_class="large"}', families)).toEqual(['amphi_server_load{size_class}: no such label']);
  });
});
