// The Helm chart (helm/amphi) and the image (Dockerfile), checked without helm or docker, which
// cannot run here: values against values.schema.json, templates against values.yaml, the
// hand-rendered examples against the Kubernetes schemas and against the templates they stand
// for, the environment against the settings the code reads, and the Dockerfile against the build.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SCALEWAY_TOKEN_ENV, WEBHOOK_SECRET_ENV } from '../../scaler/file.js';
import { parseScalerFile } from '../../scaler/file.js';
import { SETTINGS } from '../../src/config/settings.js';
import { loadPolicyDir } from '../../src/policy/loader.js';
import { parseHostPorts } from '../../src/redis/target.js';
import {
  at,
  CHART_DIR,
  chartFile,
  evalCondition,
  fullname,
  isMap,
  leafPaths,
  literalLines,
  mergeValues,
  readRendered,
  readTemplates,
  valuesFor,
  valuesPaths,
  type RenderedDoc,
  type Values,
} from '../helpers/helm-chart.js';
import { closedPort } from '../helpers/bbb-stub.js';

const repoFile = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const examples = readdirSync(new URL('examples/', CHART_DIR));
const valuesExamples = examples.filter((f) => /^values-.*\.yaml$/.test(f)).map((f) => `examples/${f}`);
const renderedExamples = examples.filter((f) => /^rendered-.*\.yaml$/.test(f));
const templates = readTemplates();

/** Variables the chart may set: the settings (src/config/settings.ts) and the scaler providers' secrets (scaler/file.ts). */
const SETTING_NAMES = new Set(Object.keys(SETTINGS));
const CHART_ENV_NAMES = new Set([...SETTING_NAMES, WEBHOOK_SECRET_ENV, SCALEWAY_TOKEN_ENV]);
/** The Redis and metrics settings the values must reach (redis.*, secrets.redis*, *.metricsPort). */
const EXPOSED_SETTINGS = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_TLS', 'AMPHI_REDIS_WAIT_REPLICAS', 'AMPHI_METRICS_PORT'];
/** Keys under redis: that belong to the redis dependency chart, not to these templates. */
const REDIS_CHART_KEYS = ['redis.architecture', 'redis.auth', 'redis.master'];

function schemaValidator(): (values: unknown) => string[] {
  const schema = JSON.parse(chartFile('values.schema.json')) as Record<string, unknown>;
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema);
  return (values) => (validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`));
}

/** Names of the env vars a template (or the helpers it includes) can set. */
function templateEnvNames(text: string): string[] {
  return [...text.matchAll(/- name: ([A-Z][A-Z0-9_]*)$|"name" "([A-Z][A-Z0-9_]*)"/gm)].map((m) => (m[1] ?? m[2])!);
}

/**
 * What amphi.secretEnv renders for a field of secrets: no variable (the chart's Secret without
 * that value), or its secretKeyRef, optional only for an existing Secret whose key may lack
 * (a field that is not required, or one listed in secrets.optional).
 */
function expectedSecretRef(values: Values, name: string, field: string, required: boolean): unknown {
  const existing = at(values, 'secrets.existingSecret') as string;
  if (!existing && !at(values, `secrets.${field}`)) return undefined;
  const optional = existing !== '' && (!required || (at(values, 'secrets.optional') as string[]).includes(field));
  return { secretKeyRef: { name: existing || `${name}-secrets`, key: at(values, `secrets.keys.${field}`), optional } };
}

/** Key names that say "secret": none may be in a ConfigMap, whose data anyone reading the namespace's configuration sees. */
const SECRET_KEY_NAME = /secret|password|passwd|token/i;

/** Every key of a parsed YAML/JSON tree, at any depth. */
function keysOf(tree: unknown): string[] {
  if (Array.isArray(tree)) return tree.flatMap(keysOf);
  if (isMap(tree)) return Object.entries(tree).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

describe('values', () => {
  const check = schemaValidator();
  const defaults = parse(chartFile('values.yaml')) as Values;

  it('values.yaml alone is refused for want of a Redis, and for nothing else', () => {
    const errors = check(defaults);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((e) => !e.startsWith('/redis'))).toEqual([]);
    expect(check(mergeValues(defaults, { redis: { url: 'redis://r:6379/0' } }))).toEqual([]);
    expect(check(mergeValues(defaults, { redis: { sentinels: ['s1:26379', 's2:26379'] } }))).toEqual([]);
    expect(check(mergeValues(defaults, { redis: { sentinels: ['10.0.0.1:26379', '[2001:db8::1]:26379'] } }))).toEqual([]);
    expect(check(mergeValues(defaults, { redis: { urlSecret: { name: 'redis-url' } } }))).toEqual([]);
    expect(check(mergeValues(defaults, { redis: { enabled: true } }))).toEqual([]);
    // A user name alone (ACL) is no secret; IPv6 hosts; a database and options.
    for (const url of ['rediss://amphi@r:6380/1', 'redis://[2001:db8::1]:6379/0', 'redis://r/0?db=1']) expect(check(mergeValues(defaults, { redis: { url } })), url).toEqual([]);
    const url = { redis: { url: 'redis://r:6379/0' } };
    for (const over of [{ host: '::' }, { gateway: { pdb: { maxUnavailable: '25%' } } }, { gateway: { workers: 2 } }, { secrets: { existingSecret: 's', optional: ['jwtSecret', 'redisPassword'] } }]) {
      expect(check(mergeValues(mergeValues(defaults, url), over)), JSON.stringify(over)).toEqual([]);
    }
  });

  it.each(valuesExamples)('%s is valid over values.yaml', (file) => {
    expect(check(valuesFor(file))).toEqual([]);
  });

  it('there is a production example: Sentinel with WAIT, 3 gateways, Ingress with TLS, ServiceMonitor, PrometheusRule', () => {
    const v = valuesFor('examples/values-production.yaml');
    expect(at(v, 'redis.sentinels')).toHaveLength(3);
    expect(at(v, 'redis.waitReplicas')).toBeGreaterThanOrEqual(1);
    // What REDIS_SENTINELS will read, as the chart joins them.
    expect(parseHostPorts((at(v, 'redis.sentinels') as string[]).join(','))).toHaveLength(3);
    expect(at(v, 'gateway.replicas')).toBe(3);
    expect(at(v, 'gateway.autoscaling.minReplicas')).toBeGreaterThanOrEqual(3);
    expect(at(v, 'ingress.enabled')).toBe(true);
    expect(at(v, 'ingress.tls')).not.toEqual([]);
    expect(at(v, 'metrics.serviceMonitor.enabled')).toBe(true);
    expect(at(v, 'metrics.prometheusRule.enabled')).toBe(true);
  });

  it('the schema bites: wrong types, unknown keys, variables the chart sets itself', () => {
    const base = valuesFor('examples/values-minimal.yaml');
    const bad = [
      { gateway: { replicas: '3' } },
      { gateway: { replica: 3 } },
      { env: { HOST: '127.0.0.1' } },
      { env: { AMPHI_POLICY_DIR: '/x' } },
      { env: { AMPHI_POLL_INTERVAL_MS: 5000 } },
      { env: { AMPHI_PRIVATE_REDIS: '1' } },
      { env: { AMPHI_REDIS_WAIT_REPLICAS: '1' } },
      { redis: { waitReplicas: -1 } },
      { redis: { url: 'http://r:6379' } },
      // Credentials in REDIS_URL would be printed in the pod spec: urlSecret or secrets.redisPassword.
      { redis: { url: 'redis://amphi:hunter2@r:6379/0' } },
      { redis: { url: 'redis://:hunter2@r:6379/0' } },
      { redis: { url: 'rediss://r:6380/0?password=hunter2' } },
      // "auto" counts the node's cores, not the container's limit.
      { gateway: { workers: 'auto' } },
      { gateway: { workers: 0 } },
      // A PDB that allows no eviction blocks node drains.
      { gateway: { pdb: { maxUnavailable: 0 } } },
      { gateway: { pdb: { maxUnavailable: '0%' } } },
      { host: '127.0.0.1' },
      { host: '' },
      { secrets: { optional: ['scalewaySecretKey'] } },
      { redis: { sentinels: ['no-port'] } },
      { redis: { sentinels: ['2001:db8::1:26379'] } },
      { secrets: { jwtSecret: 'short' } },
      { ingress: { tls: [{ hosts: ['a.example'] }] } },
      { scaler: { config: { provider: { type: 'aws' } } } },
      { scaler: { enabled: true } },
      { scaler: { enabled: true, config: { provider: { type: 'static' } } } },
    ];
    for (const over of bad) expect(check(mergeValues(base, over)), JSON.stringify(over)).not.toEqual([]);
  });

  it.each(valuesExamples)('%s: every env name is a setting of src/config/settings.ts', (file) => {
    const env = at(valuesFor(file), 'env');
    expect(isMap(env)).toBe(true);
    for (const name of Object.keys(env as object)) expect(SETTING_NAMES, name).toContain(name);
  });

  it.each(valuesExamples)('%s: shutdown fits the grace periods (what amphi.checkShutdown enforces)', (file) => {
    const v = valuesFor(file);
    const timeout = Math.floor((at(v, 'shutdownTimeoutMs') as number) / 1000);
    expect(timeout + (at(v, 'gateway.preStopSleepSeconds') as number)).toBeLessThan(at(v, 'gateway.terminationGracePeriodSeconds') as number);
    expect(timeout).toBeLessThan(at(v, 'poller.terminationGracePeriodSeconds') as number);
    expect(timeout).toBeLessThan(at(v, 'scaler.terminationGracePeriodSeconds') as number);
  });

  it.each(valuesExamples.filter((f) => at(valuesFor(f), 'scaler.enabled')))('%s: scaler.config is a file `amphi scaler` accepts', async (file) => {
    const v = valuesFor(file);
    const policy = await loadPolicyDir(new URL('policies/', CHART_DIR).pathname);
    if (!policy.ok) throw new Error(JSON.stringify(policy.errors));
    const parsed = parseScalerFile(JSON.stringify(at(v, 'scaler.config')), policy.policy.load.sizeClasses);
    expect(parsed.ok ? [] : parsed.errors).toEqual([]);
  });
});

describe('templates', () => {
  const defaults = parse(chartFile('values.yaml')) as Values;

  it('every .Values path the templates use is in values.yaml', () => {
    const missing = [...valuesPaths()].filter(([path]) => at(defaults, path) === undefined).map(([path, files]) => `${path} (${files.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('every value of values.yaml is used by a template (or belongs to the redis chart)', () => {
    const used = [...valuesPaths().keys()];
    const unused = leafPaths(defaults).filter(
      (leaf) => !used.some((p) => leaf === p || leaf.startsWith(`${p}.`)) && !REDIS_CHART_KEYS.some((k) => leaf === k || leaf.startsWith(`${k}.`)),
    );
    expect(unused).toEqual([]);
  });

  it('sets only environment variables that the code reads', () => {
    const names = new Set([...templates.map((t) => t.text), chartFile('templates/_helpers.tpl')].flatMap(templateEnvNames));
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((n) => !CHART_ENV_NAMES.has(n))).toEqual([]);
    expect(EXPOSED_SETTINGS.filter((n) => !names.has(n))).toEqual([]);
  });

  it('never sets AMPHI_PRIVATE_REDIS: every pod shares the configured Redis', () => {
    const names = [...templates.map((t) => t.text), chartFile('templates/_helpers.tpl')].flatMap(templateEnvNames);
    expect(names).not.toContain('AMPHI_PRIVATE_REDIS');
    for (const file of renderedExamples) {
      for (const doc of readRendered(file).docs.filter((d) => d.manifest.kind === 'Deployment')) {
        const env = (at(doc.manifest, 'spec.template.spec.containers') as Array<{ env: Array<{ name: string }> }>).flatMap((c) => c.env.map((e) => e.name));
        expect(env, `${file} ${doc.source}`).not.toContain('AMPHI_PRIVATE_REDIS');
        expect(env.filter((n) => n === 'REDIS_URL' || n === 'REDIS_SENTINELS'), `${file} ${doc.source}`).toHaveLength(1);
      }
    }
    // Nor can the values: the schema refuses it in env (checked above, "the schema bites").
    const refused = (JSON.parse(chartFile('values.schema.json')) as { properties: { env: { propertyNames: { not: { enum: string[] } } } } }).properties.env.propertyNames.not.enum;
    expect(refused).toContain('AMPHI_PRIVATE_REDIS');
  });

  it('the chart ships the repository policies/ unchanged (scripts/helm-render-examples.mjs copies them)', () => {
    const names = readdirSync(new URL('../../policies/', import.meta.url)).filter((n) => n.endsWith('.yaml'));
    expect(readdirSync(new URL('policies/', CHART_DIR)).sort()).toEqual(names.sort());
    for (const n of names) expect(chartFile(`policies/${n}`), n).toBe(repoFile(`policies/${n}`));
  });

  it('Chart.yaml: apiVersion v2, the redis dependency only on redis.enabled (off by default)', () => {
    const chart = parse(chartFile('Chart.yaml')) as { apiVersion: string; appVersion: string; dependencies: Array<{ name: string; condition: string }> };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe((JSON.parse(repoFile('package.json')) as { version: string }).version);
    expect(chart.dependencies.map((d) => [d.name, d.condition])).toEqual([['redis', 'redis.enabled']]);
    expect(at(defaults, 'redis.enabled')).toBe(false);
  });

  it('no ConfigMap template carries secrets or the scaler file (the static provider\'s holds BBB secrets)', () => {
    const configMaps = templates.filter((t) => t.kind === 'ConfigMap');
    expect(configMaps.length).toBeGreaterThan(0);
    for (const t of configMaps) expect(t.text, t.file).not.toMatch(/\.Values\.(secrets|scaler\.config)\b/);
    const scalerFile = templates.filter((t) => /\.Values\.scaler\.config\b/.test(t.text) && !t.file.endsWith('-deployment.yaml'));
    expect(scalerFile.map((t) => `${t.file} ${t.kind}`)).toEqual(['scaler-secret.yaml Secret']);
    const deployment = chartFile('templates/scaler-deployment.yaml');
    expect(deployment).not.toMatch(/configMap:\s+name: \{\{ include "amphi\.fullname" \. \}\}-scaler/);
  });

  it('the policies are mounted whole, never with subPath (a subPath mount is never updated)', () => {
    for (const t of templates.filter((x) => x.kind === 'Deployment')) {
      expect(t.text, t.file).toContain('mountPath: {{ .Values.policies.mountPath }}');
      expect(t.text, t.file).not.toMatch(/subPath/);
    }
  });
});

/** kubernetes-models classes by apiVersion/kind: their validate() checks the API schema. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

describe.each(renderedExamples)('rendered example %s', (file) => {
  const rendered = readRendered(file);
  const values = valuesFor(rendered.valuesFile);
  const name = fullname(rendered.release, values);
  const find = (kind: string, suffix: string): RenderedDoc['manifest'] | undefined =>
    rendered.docs.find((d) => d.manifest.kind === kind && d.manifest.metadata.name === `${name}${suffix}`)?.manifest;

  it('every manifest is valid against its Kubernetes (or Prometheus Operator) schema', () => {
    for (const { source, manifest } of rendered.docs) {
      const Model = MODELS[`${manifest.apiVersion}/${manifest.kind}`];
      expect(Model, `${source}: no schema for ${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
      expect(() => new Model!(manifest as never).validate(), source).not.toThrow();
      expect(manifest.metadata.namespace, source).toBe(rendered.namespace);
    }
  });

  it('holds exactly the manifests the templates produce under its values', () => {
    const expected = templates
      .filter((t) => t.condition === undefined || evalCondition(t.condition, values))
      .map((t) => `${t.file} ${t.apiVersion} ${t.kind} ${name}${t.nameSuffix}`)
      .sort();
    const actual = rendered.docs.map((d) => `${d.source} ${d.manifest.apiVersion} ${d.manifest.kind} ${d.manifest.metadata.name}`).sort();
    expect(actual).toEqual(expected);
  });

  it('no ConfigMap holds a key named like a secret (secret, password, token), at any depth of its files', () => {
    for (const { source, manifest } of rendered.docs.filter((d) => d.manifest.kind === 'ConfigMap')) {
      const data = (manifest.data ?? {}) as Record<string, string>;
      const keys = Object.entries(data).flatMap(([file, text]) => [file, ...keysOf(parse(text)).map((k) => `${file}: ${k}`)]);
      expect(keys.length, source).toBeGreaterThan(0);
      expect(keys.filter((k) => SECRET_KEY_NAME.test(k.split(': ').at(-1)!)), source).toEqual([]);
    }
  });

  it("prints every line of its template that does not depend on the values", () => {
    for (const doc of rendered.docs) {
      const template = templates.find((t) => t.file === doc.source)!;
      const lines = new Set(doc.text.split('\n').map((l) => l.trim()));
      expect(literalLines(template).filter((l) => !lines.has(l)), doc.source).toEqual([]);
    }
  });

  it('sets in each Deployment only env vars its template (or the values) names, with the values given', () => {
    const helpers = chartFile('templates/_helpers.tpl');
    for (const doc of rendered.docs.filter((d) => d.manifest.kind === 'Deployment')) {
      const template = templates.find((t) => t.file === doc.source)!;
      const allowed = new Set([...templateEnvNames(template.text), ...templateEnvNames(helpers), ...Object.keys(at(values, 'env') as object)]);
      const env = (at(doc.manifest, 'spec.template.spec.containers') as Array<{ env: Array<{ name: string; value?: string; valueFrom?: unknown }> }>).flatMap((c) => c.env);
      expect(env.map((e) => e.name).filter((n) => !allowed.has(n)), doc.source).toEqual([]);
      expect(new Set(env.map((e) => e.name)).size, `${doc.source}: an env var twice`).toBe(env.length);
      const byName = new Map(env.map((e) => [e.name, e]));
      for (const [k, v] of Object.entries(at(values, 'env') as Record<string, string>)) expect(byName.get(k)?.value, `${doc.source} ${k}`).toBe(v);
      // Exactly one way to Redis, the one the values give; TLS and the password apply to both.
      const sentinels = at(values, 'redis.sentinels') as string[];
      const secretEnv = (variable: string, field: string, required: boolean): void =>
        expect(byName.get(variable)?.valueFrom, `${doc.source} ${variable}`).toEqual(expectedSecretRef(values, name, field, required));
      if (sentinels.length > 0) {
        expect(byName.get('REDIS_SENTINELS')?.value).toBe(sentinels.join(','));
        expect(byName.get('REDIS_SENTINEL_MASTER')?.value).toBe(at(values, 'redis.sentinelMaster'));
        secretEnv('REDIS_SENTINEL_PASSWORD', 'redisSentinelPassword', false);
        expect(byName.has('REDIS_URL')).toBe(false);
      } else {
        expect(byName.get('REDIS_URL')?.value ?? byName.get('REDIS_URL')?.valueFrom).toBeTruthy();
        if (at(values, 'redis.url')) expect(byName.get('REDIS_URL')?.value).toBe(at(values, 'redis.url'));
        expect(byName.has('REDIS_SENTINELS')).toBe(false);
        expect(byName.has('REDIS_SENTINEL_PASSWORD')).toBe(false);
      }
      expect(byName.get('REDIS_TLS')?.value).toBe(String(at(values, 'redis.tls')));
      // Configured secrets are referenced as not optional (a missing key stops the pod at start).
      secretEnv('REDIS_PASSWORD', 'redisPassword', true);
      secretEnv('AMPHI_SECRET', 'amphiSecret', true);
      secretEnv('AMPHI_JWT_SECRET', 'jwtSecret', true);
      // WAIT is the gateway's alone; the metrics port is the poller's and the scaler's.
      const role = doc.source.replace(/-deployment\.yaml$/, '');
      // The providers' secrets, the scaler's alone and optional (which one is needed depends on the provider).
      for (const [variable, field] of [['AMPHI_SCALER_WEBHOOK_SECRET', 'scalerWebhookSecret'], ['SCW_SECRET_KEY', 'scalewaySecretKey']] as const) {
        if (role === 'scaler') secretEnv(variable, field, false);
        else expect(byName.has(variable), `${doc.source} ${variable}`).toBe(false);
      }
      expect(byName.get('AMPHI_REDIS_WAIT_REPLICAS')?.value, doc.source).toBe(role === 'gateway' ? String(at(values, 'redis.waitReplicas')) : undefined);
      expect(byName.get('AMPHI_METRICS_PORT')?.value, doc.source).toBe(role === 'gateway' ? undefined : String(at(values, `${role}.metricsPort`)));
      expect(byName.get('AMPHI_POLICY_DIR')?.value).toBe(at(values, 'policies.mountPath'));
      expect(byName.get('AMPHI_SHUTDOWN_TIMEOUT_MS')?.value).toBe(String(at(values, 'shutdownTimeoutMs')));
      expect(byName.get('HOST')?.value).toBe(at(values, 'host'));
    }
  });

  it('carries the values: image, replicas, ports, probes, shutdown, security', () => {
    const image = `${at(values, 'image.repository') as string}:${(at(values, 'image.tag') as string) || (parse(chartFile('Chart.yaml')) as { appVersion: string }).appVersion}`;
    const gateway = find('Deployment', '-gateway')!;
    const pod = at(gateway, 'spec.template.spec') as Record<string, unknown>;
    const container = (pod.containers as Array<Record<string, unknown>>)[0]!;
    expect(container.image).toBe(image);
    expect(at(gateway, 'spec.replicas')).toBe(at(values, 'gateway.autoscaling.enabled') ? undefined : at(values, 'gateway.replicas'));
    const hpa = find('HorizontalPodAutoscaler', '-gateway');
    if (hpa) {
      expect(at(hpa, 'spec.minReplicas')).toBe(at(values, 'gateway.autoscaling.minReplicas'));
      expect(at(hpa, 'spec.maxReplicas')).toBe(at(values, 'gateway.autoscaling.maxReplicas'));
      expect(at(hpa, 'spec.scaleTargetRef.name')).toBe(gateway.metadata.name);
    }
    expect(at(container, 'readinessProbe.httpGet.path')).toBe('/ready');
    expect(at(container, 'livenessProbe.httpGet.path')).toBe('/health');
    expect(at(container, 'lifecycle.preStop.exec.command')).toEqual(['sleep', String(at(values, 'gateway.preStopSleepSeconds'))]);
    expect(pod.terminationGracePeriodSeconds).toBe(at(values, 'gateway.terminationGracePeriodSeconds'));
    expect(container.args).toEqual(['gateway', '--workers', String(at(values, 'gateway.workers'))]);
    expect(at(container, 'ports')).toEqual([{ name: 'http', containerPort: at(values, 'gateway.port'), protocol: 'TCP' }]);
    for (const doc of rendered.docs.filter((d) => d.manifest.kind === 'Deployment')) {
      const spec = at(doc.manifest, 'spec.template.spec') as Record<string, unknown>;
      expect(spec.securityContext, doc.source).toEqual(at(values, 'podSecurityContext'));
      expect(at(spec.securityContext, 'runAsNonRoot'), doc.source).toBe(true);
      for (const c of spec.containers as Array<Record<string, unknown>>) {
        expect(c.securityContext, doc.source).toEqual(at(values, 'securityContext'));
        expect(at(c, 'securityContext.readOnlyRootFilesystem'), doc.source).toBe(true);
        expect(c.image, doc.source).toBe(image);
      }
    }
    const poller = find('Deployment', '-poller');
    if (poller) {
      expect(at(poller, 'spec.replicas')).toBe(at(values, 'poller.replicas'));
      const c = (at(poller, 'spec.template.spec.containers') as Array<Record<string, unknown>>)[0]!;
      expect(c.args).toEqual(['poller']);
    }
    // The poller and the scaler serve /health and /metrics on AMPHI_METRICS_PORT (HOST=0.0.0.0).
    for (const role of ['poller', 'scaler']) {
      const deployment = find('Deployment', `-${role}`);
      if (!deployment) continue;
      const c = (at(deployment, 'spec.template.spec.containers') as Array<Record<string, unknown>>)[0]!;
      const port = at(values, `${role}.metricsPort`);
      expect(at(c, 'ports'), role).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
      expect(at(c, 'livenessProbe.httpGet'), role).toEqual({ path: '/health', port: 'metrics' });
      expect(at(find('Service', `-${role}-metrics`), 'spec.ports'), role).toEqual([{ name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' }]);
    }
    const scaler = find('Deployment', '-scaler');
    if (scaler) {
      expect(at(scaler, 'spec.replicas')).toBe(at(values, 'scaler.replicas'));
      const c = (at(scaler, 'spec.template.spec.containers') as Array<Record<string, unknown>>)[0]!;
      expect(c.args).toEqual(['scaler', '--config', '/etc/amphi/scaler/scaler.yaml']);
      // The file is a Secret (the static provider's holds BBB secrets), mounted as one.
      const volume = (at(scaler, 'spec.template.spec.volumes') as Array<Record<string, unknown>>).find((v) => v.name === 'scaler-config');
      const existing = at(values, 'scaler.existingConfigSecret') as string;
      expect(volume).toEqual({ name: 'scaler-config', secret: { secretName: existing || `${name}-scaler-config` } });
      const config = find('Secret', '-scaler-config');
      if (existing) expect(config).toBeUndefined();
      else expect(parse((at(config, 'stringData') as Record<string, string>)['scaler.yaml']!)).toEqual(at(values, 'scaler.config'));
      expect(find('ConfigMap', '-scaler')).toBeUndefined();
    }
    expect(at(find('PodDisruptionBudget', '-gateway'), 'spec.maxUnavailable')).toBe(at(values, 'gateway.pdb.enabled') ? at(values, 'gateway.pdb.maxUnavailable') : undefined);
  });

  it('the Secret holds the non-empty secrets of the values, or the existing Secret is referenced', () => {
    const existing = at(values, 'secrets.existingSecret') as string;
    const secret = find('Secret', '-secrets');
    const keys = at(values, 'secrets.keys') as Record<string, string>;
    const expected = Object.fromEntries(
      Object.entries(keys)
        .filter(([field]) => at(values, `secrets.${field}`))
        .map(([field, key]) => [key, Buffer.from(at(values, `secrets.${field}`) as string).toString('base64')]),
    );
    if (existing) expect(secret).toBeUndefined();
    else expect(at(secret, 'data')).toEqual(expected);
    const secretName = existing || `${name}-secrets`;
    for (const doc of rendered.docs.filter((d) => d.manifest.kind === 'Deployment')) {
      for (const m of doc.text.matchAll(/secretKeyRef:\s+name: (\S+)/g)) {
        if (m[1] !== at(values, 'redis.urlSecret.name')) expect(m[1], doc.source).toBe(secretName);
      }
    }
  });

  it('ingress and ServiceMonitors follow the values', () => {
    const ingress = find('Ingress', '-gateway');
    if (ingress) {
      expect(at(ingress, 'spec.ingressClassName')).toBe((at(values, 'ingress.className') as string) || undefined);
      expect(at(ingress, 'spec.tls')).toEqual((at(values, 'ingress.tls') as unknown[]).length > 0 ? at(values, 'ingress.tls') : undefined);
      const hosts = at(values, 'ingress.hosts') as Array<{ host: string; paths: Array<{ path: string; pathType: string }> }>;
      expect(at(ingress, 'spec.rules')).toEqual(
        hosts.map((h) => ({
          host: h.host,
          http: { paths: h.paths.map((p) => ({ ...p, backend: { service: { name: `${name}-gateway`, port: { name: 'http' } } } })) },
        })),
      );
    }
    for (const suffix of ['-gateway', '-poller', '-scaler']) {
      const monitor = find('ServiceMonitor', suffix);
      if (!monitor) continue;
      const service = rendered.docs.find((d) => d.manifest.kind === 'Service' && d.manifest.metadata.name.startsWith(`${name}${suffix}`))!.manifest;
      expect(at(monitor, 'spec.selector.matchLabels')).toEqual(at(service, 'spec.selector'));
      expect((at(monitor, 'spec.endpoints') as Array<{ port: string }>)[0]!.port).toBe((at(service, 'spec.ports') as Array<{ name: string }>)[0]!.name);
      expect((at(monitor, 'spec.endpoints') as Array<{ interval: string }>)[0]!.interval).toBe(at(values, 'metrics.serviceMonitor.interval'));
      // job="amphi-<role>" whatever the release: what AmphiTargetDown matches.
      expect(at(monitor, 'spec.jobLabel')).toBe('amphi-job');
      expect(at(service, 'metadata.labels.amphi-job')).toBe(`amphi${suffix}`);
      const targetDown = (parse(chartFile('alerts/amphi.rules.yaml')) as { groups: Array<{ rules: Array<{ alert?: string; expr: string }> }> }).groups
        .flatMap((g) => g.rules)
        .find((r) => r.alert === 'AmphiTargetDown')!;
      expect(new RegExp(`^(?:${/job=~"([^"]+)"/.exec(targetDown.expr)![1]!})$`).test(`amphi${suffix}`), targetDown.expr).toBe(true);
    }
  });

  it('embeds helm/amphi/dashboards/amphi.json, the groups of helm/amphi/alerts/amphi.rules.yaml and the policies exactly', () => {
    const dashboard = find('ConfigMap', '-dashboard');
    if (at(values, 'metrics.dashboard.enabled')) {
      const json = at(dashboard, 'data') as Record<string, string>;
      expect(json['amphi.json']!.trimEnd()).toBe(chartFile('dashboards/amphi.json').trimEnd());
      expect(at(dashboard, 'metadata.labels.grafana_dashboard')).toBe('1');
    }
    const rule = find('PrometheusRule', '-alerts');
    if (at(values, 'metrics.prometheusRule.enabled')) {
      // The scaler's rules (a scaler that stopped) only where a scaler runs: elsewhere they would fire for ever.
      const groups = (path: string) => (parse(chartFile(path)) as { groups: unknown[] }).groups;
      const scalerGroups = at(values, 'scaler.enabled') ? groups('alerts/amphi-scaler.rules.yaml') : [];
      expect(at(rule, 'spec.groups')).toEqual([...groups('alerts/amphi.rules.yaml'), ...scalerGroups]);
    }
    const policies = find('ConfigMap', '-policies');
    if (!at(values, 'policies.existingConfigMap')) {
      const files = at(values, 'policies.files') as Record<string, string>;
      const expected = Object.keys(files).length > 0
        ? files
        : Object.fromEntries(readdirSync(new URL('policies/', CHART_DIR)).filter((f) => f.endsWith('.yaml')).map((f) => [f, chartFile(`policies/${f}`)]));
      expect(at(policies, 'data')).toEqual(expected);
    }
  });
});

describe('image', () => {
  const dockerfile = repoFile('Dockerfile');
  // Instructions, with continuation lines joined and comments dropped.
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages = instructions.reduce<string[][]>((acc, line) => (/^FROM\s/i.test(line) ? [...acc, [line]] : (acc.at(-1)?.push(line), acc)), []);
  const runtime = stages.at(-1) ?? [];
  const arg = (name: string): string | undefined => instructions.map((l) => new RegExp(`^ARG ${name}=(\\S+)`).exec(l)?.[1]).find(Boolean);
  const baseOf = (from: string): string => from.split(/\s+/)[1]!.replace(/^\$\{(\w+)\}$/, (_m, a: string) => arg(a) ?? '');

  it('is multi-stage: a build stage that runs npm ci and npm run build, a node:20-bookworm-slim runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => / AS build$/i.test(s[0]!))!;
    expect(build).toBeDefined();
    expect(build.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(build.some((l) => /^RUN npm run build\b/.test(l))).toBe(true);
    expect(baseOf(runtime[0]!)).toBe('node:20-bookworm-slim');
  });

  it('installs only production dependencies in the runtime and copies dist/ and policies/', () => {
    expect(runtime.some((l) => /^RUN npm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(runtime.some((l) => /^COPY --from=build \S*dist\/? dist\/?$/.test(l))).toBe(true);
    expect(runtime.some((l) => /^COPY policies\/? policies\/?$/.test(l))).toBe(true);
  });

  it('runs as a numeric non-root user', () => {
    const user = runtime.filter((l) => /^USER\s/.test(l)).at(-1);
    expect(user).toBeDefined();
    const uid = user!.split(/\s+/)[1]!.split(':')[0]!;
    expect(uid).toMatch(/^\d+$/);
    expect(uid).not.toBe('0');
  });

  it('ENTRYPOINT runs the file npm run build makes from src/cli/main.ts, the bin of package.json; CMD gateway', () => {
    const entry = runtime.find((l) => l.startsWith('ENTRYPOINT'))!;
    const [node, main] = JSON.parse(entry.slice('ENTRYPOINT'.length)) as string[];
    expect(node).toBe('node');
    const pkg = JSON.parse(repoFile('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(main).toBe(pkg.bin.amphi);
    // tsc -p tsconfig.build.json: rootDir "." and outDir "dist", so dist/X.js comes from X.ts.
    const build = JSON.parse(repoFile('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string }; include: string[] };
    expect(pkg.scripts.build).toContain('tsc -p tsconfig.build.json');
    expect(build.compilerOptions).toMatchObject({ rootDir: '.', outDir: 'dist' });
    const source = main!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    expect(build.include.some((dir) => source.startsWith(`${dir}/`))).toBe(true);
    expect(() => repoFile(source)).not.toThrow();
    expect(JSON.parse(runtime.find((l) => l.startsWith('CMD'))!.slice(3))).toEqual(['gateway']);
  });

  it('exposes the gateway port, listens beyond loopback, and checks /health with node (no curl in slim)', () => {
    const port = String((SETTINGS.PORT.schema as { parse(v: unknown): unknown }).parse(undefined));
    expect(runtime).toContain(`EXPOSE ${port}`);
    expect(runtime.some((l) => /^ENV .*\bHOST=0\.0\.0\.0\b/.test(l))).toBe(true);
    const health = runtime.find((l) => l.startsWith('HEALTHCHECK'))!;
    expect(health).toBeDefined();
    expect(health).toMatch(/CMD \["node", "-e", /);
    expect(health).toContain('/health');
    expect(health).not.toMatch(/curl|wget/);
  });

  it('the health check script: AMPHI_METRICS_PORT=0 is healthy (nothing to check), a closed port is not, /health is asked', async () => {
    const health = runtime.find((l) => l.startsWith('HEALTHCHECK'))!;
    const [, , script] = JSON.parse(health.slice(health.indexOf('CMD [') + 3)) as string[];
    expect(script).toContain('/proc/1/cmdline');
    const dir = mkdtempSync(join(tmpdir(), 'amphi-health-'));
    // run(role, env): the script with a stand-in for PID 1's command line; its exit code.
    const run = async (role: string, env: Record<string, string>): Promise<number> => {
      const cmdline = join(dir, `${role}.cmdline`);
      writeFileSync(cmdline, ['node', '/app/dist/src/cli/main.js', role, ''].join('\0'));
      const { PATH } = process.env;
      return new Promise((resolve) => {
        execFile(process.execPath, ['-e', script!.replace('/proc/1/cmdline', cmdline)], { env: { PATH, ...env } }, (err) =>
          resolve(err ? ((err as { code?: number }).code ?? -1) : 0),
        );
      });
    };
    const closed = await closedPort();
    const server = createHttpServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const open = (server.address() as AddressInfo).port;
    try {
      for (const role of ['poller', 'scaler']) {
        expect(await run(role, { AMPHI_METRICS_PORT: '0' }), `${role} metrics off`).toBe(0);
        expect(await run(role, { AMPHI_METRICS_PORT: String(closed) }), `${role} closed port`).toBe(1);
        expect(await run(role, { AMPHI_METRICS_PORT: String(open) }), `${role} /health answers`).toBe(0);
      }
      expect(await run('gateway', { PORT: String(closed) })).toBe(1);
      expect(await run('gateway', { PORT: String(open), AMPHI_METRICS_PORT: '0' })).toBe(0);
      expect(await run('servers', {})).toBe(0);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('.dockerignore keeps node_modules, dist, .git and test outputs out of the context', () => {
    const ignored = repoFile('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.git', 'coverage']) expect(ignored).toContain(entry);
  });
});
