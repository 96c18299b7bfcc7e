// A local stand-in of the part of Scaleway's Instances API v1 the scaleway provider uses, on
// 127.0.0.1. It checks what the documentation fixes (paths, methods, X-Auth-Token, content
// types, the exact keys of each JSON body, the actions a server allows in its state) and keeps
// state: servers, their user data, their state transitions (`advance()` plays Scaleway's side:
// starting → running with a public IP, stopping → gone). Every request that does not match is
// answered as Scaleway would (400/404) and recorded in `violations`, so a test fails on any
// wrong request shape.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface StandInServer {
  id: string;
  name: string;
  project: string;
  commercial_type: string;
  image: string;
  state: 'running' | 'stopped' | 'stopped in place' | 'starting' | 'stopping' | 'locked';
  tags: string[];
  public_ips: { id: string; address: string }[];
  creation_date: string;
  userData: Map<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body: string;
}

const CREATE_KEYS = new Set([
  'name',
  'dynamic_ip_required',
  'routed_ip_enabled',
  'commercial_type',
  'image',
  'volumes',
  'enable_ipv6',
  'public_ip',
  'public_ips',
  'boot_type',
  'organization',
  'project',
  'tags',
  'security_group',
  'placement_group',
  'admin_password_encryption_ssh_key_id',
  'protected',
]);
const LIST_QUERY = new Set([
  'per_page',
  'page',
  'organization',
  'project',
  'name',
  'private_ip',
  'without_ip',
  'with_ip',
  'commercial_type',
  'state',
  'tags',
  'private_network',
  'order',
  'private_networks',
  'private_nic_mac_address',
  'servers',
]);
const ACTIONS = new Set(['poweron', 'backup', 'stop_in_place', 'poweroff', 'terminate', 'reboot', 'enable_routed_ip']);

function allowedActions(state: StandInServer['state']): string[] {
  switch (state) {
    case 'running':
      return ['poweroff', 'terminate', 'reboot', 'stop_in_place', 'backup'];
    case 'stopped':
      return ['poweron', 'backup'];
    case 'stopped in place':
      return ['poweron', 'poweroff', 'backup'];
    default:
      return [];
  }
}

export class ScalewayStandIn {
  readonly servers = new Map<string, StandInServer>();
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  private ipSeq = 0;
  private readonly http: Server;

  private constructor(
    readonly token: string,
    readonly zone: string,
    readonly commercialTypes: readonly string[],
  ) {
    this.http = createServer((req, res) => this.onRequest(req, res));
  }

  static async start(opts: { token: string; zone: string; commercialTypes: readonly string[] }): Promise<ScalewayStandIn> {
    const s = new ScalewayStandIn(opts.token, opts.zone, opts.commercialTypes);
    await new Promise<void>((resolve) => s.http.listen(0, '127.0.0.1', resolve));
    return s;
  }

  get url(): string {
    const a = this.http.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  /** A server as if made earlier (by another scaler, or by hand). */
  seed(server: Partial<StandInServer> & Pick<StandInServer, 'name' | 'tags' | 'state'>): StandInServer {
    const s: StandInServer = {
      id: randomUUID(),
      project: 'p',
      commercial_type: this.commercialTypes[0] ?? 'DEV1-S',
      image: 'img',
      public_ips: [],
      creation_date: new Date().toISOString(),
      userData: new Map(),
      ...server,
    };
    if (s.state === 'running' && s.public_ips.length === 0) s.public_ips.push(this.ip());
    this.servers.set(s.id, s);
    return s;
  }

  /** Scaleway's side of time: starting servers run (with a public IP), stopping ones go. */
  advance(): void {
    for (const s of [...this.servers.values()]) {
      if (s.state === 'starting') {
        s.state = 'running';
        if (s.public_ips.length === 0) s.public_ips.push(this.ip());
      } else if (s.state === 'stopping') {
        this.servers.delete(s.id);
      }
    }
  }

  /** `METHOD /path` of every request, in order, without the zone prefix. */
  calls(): string[] {
    const prefix = `/instance/v1/zones/${this.zone}`;
    return this.requests.map((r) => `${r.method} ${r.path.startsWith(prefix) ? r.path.slice(prefix.length) : r.path}`);
  }

  private ip(): { id: string; address: string } {
    this.ipSeq++;
    return { id: randomUUID(), address: `51.15.0.${this.ipSeq}` };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: Buffer.concat(chunks).toString('utf8'),
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      };
      this.requests.push(rec);
      const answer = this.handle(rec, url.searchParams, req.headers['x-auth-token']);
      const headers: Record<string, string> = { ...answer.headers };
      if (answer.json !== undefined) headers['content-type'] = 'application/json';
      const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? '');
      if (answer.text !== undefined) headers['content-type'] = 'text/plain';
      res.writeHead(answer.status, headers);
      res.end(body);
    });
  }

  private handle(
    r: RecordedRequest,
    query: URLSearchParams,
    token: string | string[] | undefined,
  ): { status: number; json?: unknown; text?: string; headers?: Record<string, string> } {
    if (token !== this.token) {
      return { status: 401, json: { message: 'authentication is denied', method: 'api_key', reason: 'invalid_argument', type: 'denied_authentication' } };
    }
    const bad = (why: string) => {
      this.violations.push(`${r.method} ${r.path}: ${why}`);
      return { status: 400, json: { message: why, type: 'invalid_request_error' } };
    };
    const notFound = (resource: string, id: string) => ({
      status: 404,
      json: { message: 'resource is not found', resource, resource_id: id, type: 'not_found' },
    });
    const m = /^\/instance\/v1\/zones\/([^/]+)\/servers(?:\/([^/]+)(?:\/(action|user_data)(?:\/([^/]+))?)?)?$/.exec(r.path);
    if (!m || m[1] !== this.zone) {
      this.violations.push(`${r.method} ${r.path}: no such route`);
      return { status: 404, json: { message: 'not found', type: 'not_found' } };
    }
    const [, , id, sub, key] = m;
    const json = (): Record<string, unknown> | undefined => {
      if (r.contentType !== 'application/json') return undefined;
      try {
        const v = JSON.parse(r.body) as unknown;
        return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    };

    if (id === undefined) {
      if (r.method === 'GET') {
        for (const k of query.keys()) if (!LIST_QUERY.has(k)) return bad(`unknown query parameter ${k}`);
        const perPage = Number(query.get('per_page') ?? 50);
        const page = Number(query.get('page') ?? 1);
        if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) return bad('per_page must be 1 to 100');
        if (!Number.isInteger(page) || page < 1) return bad('page must be a positive integer');
        const wanted = (query.get('tags') ?? '').split(',').filter(Boolean);
        const project = query.get('project');
        const all = [...this.servers.values()]
          .filter((s) => (project ? s.project === project : true) && wanted.every((t) => s.tags.includes(t)))
          .sort((a, b) => a.creation_date.localeCompare(b.creation_date));
        const slice = all.slice((page - 1) * perPage, page * perPage);
        return { status: 200, json: { servers: slice.map((s) => this.view(s)) }, headers: { 'x-total-count': String(all.length) } };
      }
      if (r.method === 'POST') {
        const body = json();
        if (!body) return bad('body must be a JSON object with Content-Type application/json');
        for (const k of Object.keys(body)) if (!CREATE_KEYS.has(k)) return bad(`unknown field ${k}`);
        if (typeof body.name !== 'string' || body.name === '') return bad('name is required');
        if (typeof body.commercial_type !== 'string' || !this.commercialTypes.includes(body.commercial_type)) return bad('unknown commercial_type');
        if (typeof body.image !== 'string' || body.image === '') return bad('image must be a string');
        if (typeof body.project !== 'string') return bad('project must be a string');
        if (!Array.isArray(body.tags) || !body.tags.every((t) => typeof t === 'string')) return bad('tags must be an array of strings');
        if (body.dynamic_ip_required !== undefined && typeof body.dynamic_ip_required !== 'boolean') return bad('dynamic_ip_required must be a boolean');
        const s: StandInServer = {
          id: randomUUID(),
          name: body.name,
          project: body.project,
          commercial_type: body.commercial_type,
          image: body.image,
          state: 'stopped',
          tags: body.tags as string[],
          public_ips: [],
          creation_date: new Date(Date.now() + this.servers.size).toISOString(),
          userData: new Map(),
        };
        this.servers.set(s.id, s);
        return { status: 201, json: { server: this.view(s) } };
      }
      return bad('method not allowed');
    }

    const s = this.servers.get(id);
    if (sub === undefined) {
      if (r.method === 'GET') return s ? { status: 200, json: { server: this.view(s) } } : notFound('instance_server', id);
      if (r.method === 'DELETE') {
        if (!s) return notFound('instance_server', id);
        if (s.state !== 'stopped' && s.state !== 'stopped in place') return bad(`instance must be stopped to be deleted (is ${s.state})`);
        this.servers.delete(id);
        return { status: 204 };
      }
      return bad('method not allowed');
    }
    if (!s) return notFound('instance_server', id);
    if (sub === 'action') {
      if (r.method !== 'POST') return bad('method not allowed');
      const body = json();
      if (!body) return bad('body must be a JSON object with Content-Type application/json');
      if (Object.keys(body).join() !== 'action') return bad('a power action takes only "action"');
      const action = body.action;
      if (typeof action !== 'string' || !ACTIONS.has(action)) return bad('unknown action');
      if (!allowedActions(s.state).includes(action)) return bad(`action ${action} is not allowed in state ${s.state}`);
      if (action === 'poweron') s.state = 'starting';
      else if (action === 'terminate') s.state = 'stopping';
      else return bad(`the stand-in does not play ${action}`);
      return {
        status: 202,
        json: { task: { id: randomUUID(), description: `server_${action}`, status: 'pending', href_from: `/servers/${id}/action`, progress: 0 } },
      };
    }
    // user_data
    if (key === undefined) {
      if (r.method === 'GET') return { status: 200, json: { user_data: [...s.userData.keys()] } };
      return bad('method not allowed');
    }
    if (r.method === 'PATCH') {
      if (r.contentType !== 'text/plain') return bad('user data is sent as text/plain');
      if (r.body === '') return bad('empty user data');
      s.userData.set(key, r.body);
      return { status: 204 };
    }
    if (r.method === 'GET') {
      const v = s.userData.get(key);
      return v === undefined ? notFound('instance_user_data', key) : { status: 200, text: v };
    }
    if (r.method === 'DELETE') {
      s.userData.delete(key);
      return { status: 204 };
    }
    return bad('method not allowed');
  }

  private view(s: StandInServer): Record<string, unknown> {
    return {
      id: s.id,
      name: s.name,
      organization: 'o',
      project: s.project,
      allowed_actions: allowedActions(s.state),
      tags: s.tags,
      commercial_type: s.commercial_type,
      creation_date: s.creation_date,
      dynamic_ip_required: true,
      hostname: s.name,
      image: { id: s.image, name: 'bbb' },
      protected: false,
      private_ip: null,
      public_ip: s.public_ips[0] ? { ...s.public_ips[0], dynamic: true, family: 'inet' } : null,
      public_ips: s.public_ips.map((p) => ({ ...p, dynamic: true, family: 'inet' })),
      state: s.state,
      state_detail: s.state === 'running' ? 'booted' : '',
      zone: this.zone,
    };
  }
}
