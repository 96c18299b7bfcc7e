// The `scaleway` provider: BBB servers as Scaleway Instances, made from a prepared image
// (BigBlueButton installed) in one zone.
//
// A create is three calls of the Instances API v1:
//   1. POST  /instance/v1/zones/{zone}/servers  {name, commercial_type, image, project, tags,
//      dynamic_ip_required}  → 201 {server}, state `stopped`;
//   2. PATCH /instance/v1/zones/{zone}/servers/{id}/user_data/cloud-init  (text/plain) → 204: the
//      cloud-init user data, which sets the new server's BBB secret (drawn here, 40 hex digits);
//   3. POST  /instance/v1/zones/{zone}/servers/{id}/action  {"action":"poweron"}.
// Its tags carry `amphi-managed`, `amphi-key=<idempotency key>` and `amphi-size=<class>`. A
// retried create first lists the servers tagged with its key
// (GET /instance/v1/zones/{zone}/servers?project=…&tags=amphi-key=…) and resumes where the
// first one stopped: a server found stopped gets its user data (kept if already set: its
// secret is read back from GET …/user_data/cloud-init, as raw text or as the OpenAPI's File
// object) and is powered on; one found starting
// or running is answered as is. So a scaler killed between two calls never boots twice.
//
// status: GET …/servers/{id}; `running` → running, `starting` → booting, 404 → gone, the rest
// (`stopped`, `stopped in place`, `stopping`, `locked`) → failed: a managed server is never
// stopped on purpose. delete: `{"action":"terminate"}` when the server allows it (running),
// DELETE …/servers/{id} when it is stopped (terminate is not offered then); a server still
// starting or stopping is refused with a retryable error. A server this provider terminated
// reads `gone` while Scaleway stops it.
//
// Known gaps: `terminate` deletes local (l_ssd, scratch) volumes but only detaches SBS ones,
// and DELETE of a stopped server leaves its volumes: with an image whose root volume is SBS,
// the volumes must be cleaned up apart (Block Storage API), which this provider does not do.
// The BBB secret sits in the user data, readable from the instance's metadata service and by
// anyone holding the API token.
//
// Auth: `X-Auth-Token: <secret key>` on every call. Written from Scaleway's public API
// documentation, as found with the `search` tool:
//   - the Instances API OpenAPI (servers, server actions, Server object and states, list query
//     parameters), copy at github.com/api-evangelist/scaleway openapi/scaleway-instances-api-openapi.yml,
//     and its User Data part (PATCH …/user_data/{key}, body */*, 204),
//     openapi/scaleway-user-data-api-openapi.yml; the reference is
//     https://www.scaleway.com/en/developers/api/instance/;
//   - the Instances API quickstart (X-Auth-Token, POST …/servers with name, type, image, tags,
//     project), as published in github.com/Kanta-Inc/scaleway-php-client README.md;
//   - Ansible's community.general.scaleway_user_data module (cloud-init user data per server):
//     https://docs.ansible.com/ansible/latest/modules/scaleway_user_data_module.html
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { httpCall, parseJson, statusError } from './http.js';
import type { HttpAnswer } from './http.js';
import { checkIdempotencyKey, KEY_TAG, MANAGED_TAG, ProviderError, scalerTags, SIZE_TAG, tagsFromList, tagsToList } from './provider.js';
import type { CloudProvider, CreateRequest, ProviderServerStatus, ProvisionedServer } from './provider.js';

export interface CloudInitContext {
  /** The new server's BBB secret. */
  secret: string;
  name: string;
  sizeClass: string;
}

export interface ScalewayProviderOptions {
  /** An API secret key (IAM). Never logged, never in an error. */
  token: string;
  /** e.g. `fr-par-1`. */
  zone: string;
  /** The Project the servers are created in (and listed from). */
  project: string;
  /** Image ID or label of a prepared BBB image. */
  image: string;
  /** Scaler size class → Scaleway commercial type, e.g. `{ standard: 'POP2-HC-8C-16G', large: 'POP2-HC-16C-32G' }`. */
  commercialTypes: Readonly<Record<string, string>>;
  /** Extra tags on every server (flat Scaleway tags). */
  tags?: readonly string[];
  /**
   * The new server's BBB API base, from `{ip}` (its first public IP), `{id}`, `{name}`,
   * `{hostname}`. Default `https://{ip}/bigbluebutton/api` (BBB wants TLS: give a name under
   * your domain, with DNS set by the image or cloud-init). Unknown until its placeholders are.
   */
  apiUrlTemplate?: string;
  /** The cloud-init user data; default sets the secret with `bbb-conf --setsecret`. */
  cloudInit?: (ctx: CloudInitContext) => string;
  /** Default https://api.scaleway.com (tests: a local stand-in). */
  apiBase?: string;
  /** Per call. Default 30 s. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

const SECRET_MARKER = /^# amphi-bbb-secret: ([0-9a-f]{40})$/m;
const PER_PAGE = 100;

/** The part of the Server object the provider reads. */
const serverSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  state: z.string(),
  tags: z.array(z.string()).default([]),
  commercial_type: z.string().optional(),
  hostname: z.string().optional(),
  allowed_actions: z.array(z.string()).default([]),
  public_ip: z.object({ address: z.string() }).partial().nullable().optional(),
  public_ips: z.array(z.object({ address: z.string() }).partial()).nullable().optional(),
});
type ScwServer = z.infer<typeof serverSchema>;

export function defaultCloudInit(ctx: CloudInitContext): string {
  return [
    '#cloud-config',
    `# Amphi scaler: BigBlueButton server ${ctx.name} (${ctx.sizeClass}).`,
    'write_files:',
    '  - path: /etc/amphi/bbb-secret',
    "    permissions: '0600'",
    `    content: ${ctx.secret}`,
    'runcmd:',
    `  - [sh, -c, 'bbb-conf --setsecret "$(cat /etc/amphi/bbb-secret)"']`,
    '',
  ].join('\n');
}

export class ScalewayProvider implements CloudProvider {
  readonly name = 'scaleway';
  private readonly opts: ScalewayProviderOptions;
  private readonly base: URL;
  private readonly terminating = new Set<string>();

  constructor(opts: ScalewayProviderOptions) {
    for (const field of ['token', 'zone', 'project', 'image'] as const) {
      if (!opts[field]) throw new Error(`scaleway provider: ${field} is required`);
    }
    if (!/^[a-z]{2}-[a-z]{3}-\d$/.test(opts.zone)) throw new Error(`scaleway provider: zone "${opts.zone}" is not a zone such as fr-par-1`);
    this.opts = opts;
    this.base = new URL(opts.apiBase ?? 'https://api.scaleway.com');
  }

  async create(req: CreateRequest): Promise<ProvisionedServer> {
    checkIdempotencyKey(this.name, req.idempotencyKey);
    const commercialType = this.opts.commercialTypes[req.sizeClass];
    if (!commercialType) throw new ProviderError(this.name, `no commercial type for size class "${req.sizeClass}"`, { retryable: false });

    const [found] = await this.listServers(`${KEY_TAG}=${req.idempotencyKey}`);
    if (found) return this.resume(found, req.sizeClass);

    const name = req.name ?? `amphi-${req.sizeClass}-${req.idempotencyKey}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 63);
    const body = {
      name,
      commercial_type: commercialType,
      image: this.opts.image,
      project: this.opts.project,
      tags: [...(this.opts.tags ?? []), ...tagsToList(scalerTags(req))],
      dynamic_ip_required: true,
    };
    const url = this.path('servers');
    const created = await this.json('POST', url, [201], JSON.stringify(body));
    return this.resume(this.parseServer(created.json, 'POST', url), req.sizeClass, true);
  }

  async delete(id: string): Promise<void> {
    const server = await this.getServer(id);
    if (!server) return;
    if (server.allowed_actions.includes('terminate')) {
      await this.action(id, 'terminate', [404]);
    } else if (server.state === 'stopped' || server.state === 'stopped in place') {
      const url = this.path('servers', id);
      const answer = await this.send('DELETE', url);
      if (answer.status !== 204 && answer.status !== 404) throw statusError(this.name, 'DELETE', url, answer.status);
    } else {
      throw new ProviderError(this.name, `server ${id} is ${server.state}: delete it once it is running or stopped`, { retryable: true });
    }
    this.terminating.add(id);
  }

  async list(): Promise<ProvisionedServer[]> {
    return (await this.listServers(MANAGED_TAG)).map((s) => this.view(s));
  }

  async get(id: string): Promise<ProvisionedServer | undefined> {
    const server = await this.getServer(id);
    if (!server) return undefined;
    const view = this.view(server);
    if (!(MANAGED_TAG in view.tags)) return view;
    const secret = await this.readSecret(id);
    return secret ? { ...view, secret } : view;
  }

  async status(id: string): Promise<ProviderServerStatus> {
    const server = await this.getServer(id);
    return server ? this.view(server).status : 'gone';
  }

  /** From wherever a create stopped: user data set, powered on. `fresh`: just created, no user data. */
  private async resume(server: ScwServer, sizeClass: string, fresh = false): Promise<ProvisionedServer> {
    if (server.state !== 'stopped') {
      const secret = await this.readSecret(server.id);
      return { ...this.view(server), ...(secret ? { secret } : {}) };
    }
    let secret = fresh ? undefined : await this.readSecret(server.id);
    if (!secret) {
      secret = randomBytes(20).toString('hex');
      const userData = `${(this.opts.cloudInit ?? defaultCloudInit)({ secret, name: server.name, sizeClass }).replace(/\n*$/, '\n')}# amphi-bbb-secret: ${secret}\n`;
      const url = this.path('servers', server.id, 'user_data', 'cloud-init');
      const answer = await this.send('PATCH', url, userData, 'text/plain');
      if (answer.status !== 204) throw statusError(this.name, 'PATCH', url, answer.status);
    }
    await this.action(server.id, 'poweron', []);
    return { ...this.view({ ...server, state: 'starting' }), secret };
  }

  private async readSecret(id: string): Promise<string | undefined> {
    const url = this.path('servers', id, 'user_data', 'cloud-init');
    const answer = await this.send('GET', url);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw statusError(this.name, 'GET', url, answer.status);
    return SECRET_MARKER.exec(answer.text)?.[1] ?? SECRET_MARKER.exec(fileContent(answer.text))?.[1];
  }

  private async action(id: string, action: 'poweron' | 'terminate', tolerated: number[]): Promise<void> {
    const url = this.path('servers', id, 'action');
    const answer = await this.send('POST', url, JSON.stringify({ action }), 'application/json');
    if (answer.status === 200 || answer.status === 202 || tolerated.includes(answer.status)) return;
    throw statusError(this.name, 'POST', url, answer.status);
  }

  private async getServer(id: string): Promise<ScwServer | undefined> {
    const url = this.path('servers', id);
    const answer = await this.send('GET', url);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw statusError(this.name, 'GET', url, answer.status);
    return this.parseServer(parseJson(this.name, 'GET', url, answer), 'GET', url);
  }

  /** Every server of the project carrying `tag`, all pages. */
  private async listServers(tag: string): Promise<ScwServer[]> {
    const servers: ScwServer[] = [];
    for (let page = 1; ; page++) {
      const url = this.path('servers');
      url.search = new URLSearchParams({ project: this.opts.project, tags: tag, per_page: String(PER_PAGE), page: String(page) }).toString();
      const { json, total } = await this.json('GET', url, [200]);
      const parsed = z.object({ servers: z.array(z.unknown()) }).safeParse(json);
      if (!parsed.success) throw this.shapeError('GET', url, parsed.error);
      const batch = parsed.data.servers.map((s) => this.parseServer({ server: s }, 'GET', url));
      // The filter is Scaleway's; checked again here, as a key tag must match exactly.
      servers.push(...batch.filter((s) => s.tags.includes(tag)));
      if (batch.length < PER_PAGE || (total !== undefined && page * PER_PAGE >= total)) return servers;
    }
  }

  private view(s: ScwServer): ProvisionedServer {
    const tags = tagsFromList(s.tags);
    const ip = s.public_ips?.find((p) => p.address)?.address ?? s.public_ip?.address ?? undefined;
    const apiUrl = this.apiUrl(s, ip);
    return {
      id: s.id,
      sizeClass: tags[SIZE_TAG] ?? '',
      status: this.terminating.has(s.id) ? 'gone' : statusOfState(s.state),
      ...(tags[KEY_TAG] !== undefined ? { idempotencyKey: tags[KEY_TAG] } : {}),
      ...(apiUrl ? { apiUrl } : {}),
      tags,
    };
  }

  private apiUrl(s: ScwServer, ip: string | undefined): string | undefined {
    const values: Record<string, string | undefined> = { ip, id: s.id, name: s.name, hostname: s.hostname || undefined };
    let missing = false;
    const url = (this.opts.apiUrlTemplate ?? 'https://{ip}/bigbluebutton/api').replace(/\{(ip|id|name|hostname)\}/g, (_, k: string) => {
      const v = values[k];
      if (v === undefined) missing = true;
      return v ?? '';
    });
    return missing ? undefined : url;
  }

  private path(...segments: string[]): URL {
    const url = new URL(this.base.href);
    url.pathname = `/instance/v1/zones/${encodeURIComponent(this.opts.zone)}/${segments.map(encodeURIComponent).join('/')}`;
    return url;
  }

  /** A JSON call, with the list total (X-Total-Count) when the answer gives one. */
  private async json(method: 'GET' | 'POST', url: URL, expected: number[], body?: string): Promise<{ json: unknown; total?: number }> {
    const answer = await this.send(method, url, body, body === undefined ? undefined : 'application/json');
    if (!expected.includes(answer.status)) throw statusError(this.name, method, url, answer.status);
    const json = parseJson(this.name, method, url, answer);
    const total = Number(answer.headers['x-total-count']);
    return Number.isInteger(total) && total >= 0 ? { json, total } : { json };
  }

  private send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: URL, body?: string, contentType?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = { 'x-auth-token': this.opts.token, accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    return httpCall(this.name, {
      method,
      url,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: this.opts.timeoutMs ?? 30_000,
      ...(this.opts.dispatcher ? { dispatcher: this.opts.dispatcher } : {}),
    });
  }

  /** `{"server": {…}}`, the shape of the create and get answers. */
  private parseServer(json: unknown, method: string, url: URL): ScwServer {
    const parsed = z.object({ server: serverSchema }).safeParse(json);
    if (!parsed.success) throw this.shapeError(method, url, parsed.error);
    return parsed.data.server;
  }

  /** Names the fields at fault, never their values. */
  private shapeError(method: string, url: URL, error: z.ZodError): ProviderError {
    const fields = [...new Set(error.issues.map((i) => i.path.join('.') || '(top level)'))].join(', ');
    return new ProviderError(this.name, `${method} ${url.pathname}: unexpected answer (${fields})`, { retryable: false });
  }
}

/**
 * The user data as the OpenAPI describes the GET answer (scaleway.std.File: {name,
 * content_type, content}), in case the API answers that rather than the raw bytes it was given.
 */
function fileContent(text: string): string {
  try {
    const file = JSON.parse(text) as { content?: unknown };
    if (typeof file?.content !== 'string') return '';
    return SECRET_MARKER.test(file.content) ? file.content : Buffer.from(file.content, 'base64').toString('utf8');
  } catch {
    return '';
  }
}

function statusOfState(state: string): ProviderServerStatus {
  if (state === 'running') return 'running';
  if (state === 'starting') return 'booting';
  return 'failed';
}
