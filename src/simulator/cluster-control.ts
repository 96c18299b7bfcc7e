// The cluster's control API (JSON). It stays reachable when a server is `down`, so faults can
// be switched off again from outside the process.
import { splitUrl } from '../bbb/request.js';
import { parseFault } from './faults.js';
import type { SimCluster } from './sim-cluster.js';
import { jsonResponse, metricsResponse, notAllowed, parseJsonBody, wantsUsers } from './sim-response.js';
import type { SimResponse } from './sim-response.js';

const notFound = (): SimResponse => jsonResponse(404, { error: 'not found' });

/**
 * GET /sim/servers · POST /sim/servers {secret?} · GET /sim/servers/:i · DELETE /sim/servers/:i ·
 * POST /sim/servers/:i/fault {mode, latencyMs?} · GET /metrics
 */
export async function handleClusterControl(cluster: SimCluster, method: string, url: string, body: string): Promise<SimResponse> {
  const { path, rawQuery } = splitUrl(url);
  if (path === '/metrics') return metricsResponse(method, () => cluster.metrics());
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'sim' || parts[1] !== 'servers') return notFound();

  if (parts.length === 2) {
    if (method === 'GET') return jsonResponse(200, cluster.list());
    if (method !== 'POST') return notAllowed();
    const json = parseJsonBody(body) as { secret?: unknown } | undefined;
    if (json === undefined || typeof json !== 'object' || json === null) return jsonResponse(400, { error: 'body is not a JSON object' });
    if (json.secret !== undefined && (typeof json.secret !== 'string' || json.secret === '')) {
      return jsonResponse(400, { error: 'secret must be a non-empty string' });
    }
    const { index } = await cluster.addServer({ secret: json.secret });
    return jsonResponse(201, cluster.entry(index));
  }

  const index = Number(parts[2]);
  if (!Number.isInteger(index) || !cluster.server(index)) return notFound();
  const server = cluster.server(index)!;
  if (parts.length === 3) {
    if (method === 'GET') return jsonResponse(200, server.state(wantsUsers(rawQuery)));
    if (method === 'DELETE') {
      await cluster.removeServer(index);
      return jsonResponse(200, { removed: index });
    }
    return notAllowed();
  }
  if (parts.length === 4 && parts[3] === 'fault') {
    if (method !== 'POST') return notAllowed();
    const fault = parseFault(parseJsonBody(body));
    if (typeof fault === 'string') return jsonResponse(400, { error: fault });
    await server.setFault(fault.mode, fault.latencyMs);
    return jsonResponse(200, cluster.entry(index));
  }
  return notFound();
}
