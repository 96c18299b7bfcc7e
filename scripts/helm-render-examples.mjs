// The rendered examples (helm/amphi/examples/rendered-*.yaml) stand for `helm template`, which
// cannot run here. This script rewrites the parts of them that come from files rather than from
// the templates, so that they never drift from those files:
//   - helm/amphi/policies/ is refreshed from the repository's policies/ (a chart can only read
//     files inside itself), and the policies ConfigMap gets their text;
//   - the dashboard ConfigMap gets helm/amphi/dashboards/amphi.json;
//   - the PrometheusRule gets the groups of helm/amphi/alerts/amphi.rules.yaml, then those of
//     helm/amphi/alerts/amphi-scaler.rules.yaml when the example runs a scaler (a -scaler Deployment);
//   - checksum/* pod annotations get a sha256 of what they stand for (not byte-equal to Helm's,
//     which hashes its own YAML output; they only need to change when the source does).
// Usage: node scripts/helm-render-examples.mjs [--check]   (--check: exit 1 if a file would change)
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, parseAllDocuments, stringify } from 'yaml';

const root = new URL('../', import.meta.url);
const chart = new URL('helm/amphi/', root);
const check = process.argv.includes('--check');
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The repository's policy files, copied into the chart (policies/*.yaml, as the loader reads them). */
function syncPolicies() {
  const names = readdirSync(new URL('policies/', root)).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  const stale = readdirSync(new URL('policies/', chart)).filter((n) => !names.includes(n));
  if (stale.length > 0) throw new Error(`helm/amphi/policies/ holds files that policies/ does not: ${stale.join(', ')} (remove them)`);
  const out = {};
  for (const name of names) {
    const from = new URL(`policies/${name}`, root);
    const to = new URL(`policies/${name}`, chart);
    const text = readFileSync(from, 'utf8');
    let current;
    try {
      current = readFileSync(to, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) {
      if (check) throw new Error(`helm/amphi/policies/${name} differs from policies/${name}: run node scripts/helm-render-examples.mjs`);
      copyFileSync(from, to);
    }
    out[name] = text;
  }
  return out;
}

const policies = syncPolicies();
const dashboard = readFileSync(new URL('dashboards/amphi.json', chart), 'utf8');
const rules = parse(readFileSync(new URL('alerts/amphi.rules.yaml', chart), 'utf8'));
if (!rules || !Array.isArray(rules.groups)) throw new Error('helm/amphi/alerts/amphi.rules.yaml must be a Prometheus rule file: groups: [...]');
const scalerRules = parse(readFileSync(new URL('alerts/amphi-scaler.rules.yaml', chart), 'utf8'));
if (!scalerRules || !Array.isArray(scalerRules.groups)) throw new Error('helm/amphi/alerts/amphi-scaler.rules.yaml must be a Prometheus rule file: groups: [...]');

let changed = 0;
const examples = new URL('examples/', chart);
for (const file of readdirSync(examples).filter((n) => /^rendered-.*\.yaml$/.test(n)).sort()) {
  const url = new URL(file, examples);
  const before = readFileSync(url, 'utf8');
  const docs = parseAllDocuments(before);
  const manifests = docs.map((d) => d.toJS());
  const secret = docs.find((_d, i) => manifests[i]?.kind === 'Secret' && manifests[i].metadata.name.endsWith('-secrets'));
  // The scaler's file is a Secret (stringData), never a ConfigMap: the static provider's holds BBB secrets.
  const scalerConfig = docs.find((_d, i) => manifests[i]?.kind === 'Secret' && manifests[i].metadata.name.endsWith('-scaler-config'));
  const withScaler = manifests.some((m) => m?.kind === 'Deployment' && m.metadata.name.endsWith('-scaler'));
  docs.forEach((doc, i) => {
    const m = manifests[i];
    if (!m) return;
    const name = m.metadata?.name ?? '';
    if (m.kind === 'ConfigMap' && name.endsWith('-dashboard')) doc.setIn(['data', 'amphi.json'], dashboard);
    // The chart's own policies only: an example with policies.files keeps what it wrote.
    if (m.kind === 'ConfigMap' && name.endsWith('-policies') && !doc.commentBefore?.includes('policies.files')) doc.set('data', doc.createNode(policies));
    if (m.kind === 'PrometheusRule') doc.setIn(['spec', 'groups'], doc.createNode([...rules.groups, ...(withScaler ? scalerRules.groups : [])]));
    if (m.kind === 'Deployment') {
      const annotations = ['spec', 'template', 'metadata', 'annotations'];
      if (doc.hasIn([...annotations, 'checksum/secret']) && secret) doc.setIn([...annotations, 'checksum/secret'], sha256(stringify(secret.toJS())));
      if (doc.hasIn([...annotations, 'checksum/config']) && scalerConfig) doc.setIn([...annotations, 'checksum/config'], sha256(scalerConfig.toJS().stringData['scaler.yaml']));
    }
  });
  const after = docs.map((d) => d.toString({ lineWidth: 0, flowCollectionPadding: false })).join('');
  if (after !== before) {
    changed++;
    if (check) console.error(`${file} is out of date`);
    else writeFileSync(url, after);
  }
}
if (check && changed > 0) {
  console.error('run: node scripts/helm-render-examples.mjs');
  process.exit(1);
}
console.log(check ? 'rendered examples up to date' : `rendered examples: ${changed} file(s) rewritten`);
