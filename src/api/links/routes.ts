// The join link pages: `GET /j/<token>` asks for a name, `POST /j/<token>` (form field `name`)
// takes one use of the link and sends the browser into the room's meeting (303 to the BBB
// client). Everything else a browser can meet here is a page in the person's language, never a
// stack, JSON or a 500.
//
// Registration (the app decides whether to, i.e. only when AMPHI_JWT_SECRET is set):
//   await registerJoinLinks(app, { gateway, rooms: new RoomMeetings(gateway), linkKey: linkKey(secret) })
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { verifyLinkToken } from '../../rooms/link-token.js';
import type { RoomMeetings } from '../../rooms/room-meetings.js';
import type { JoinRefusal, LinkRefusal, Room, RoomLink } from '../../rooms/types.js';
import type { Gateway } from '../bbb/context.js';
import { publicBase } from '../bbb/routes.js';
import { clientAddress } from '../http/client-address.js';
import { readJoinForm } from './form.js';
import { securityHeaders, serverSchemes } from './headers.js';
import { chooseLang } from './language.js';
import type { FormProblem, Lang, Refusal } from './messages.js';
import { renderForm, renderRefusal } from './page.js';

export const JOIN_LINK_PREFIX = '/j';
/** A name and its encoding fit many times over; anything bigger is no browser's form. */
export const LINK_FORM_BODY_LIMIT = 4096;

export interface JoinLinkOptions {
  gateway: Gateway;
  rooms: Pick<RoomMeetings, 'join'>;
  /** The link-signing key (rooms/link-token.ts linkKey). */
  linkKey: Buffer;
}

const STATUS: Readonly<Record<Refusal, number>> = {
  invalid: 404,
  roomGone: 404,
  expired: 410,
  revoked: 410,
  usedUp: 410,
  ended: 410,
  full: 409,
  rateLimited: 429,
  unavailable: 503,
  methodNotAllowed: 405,
};

const PROBLEM_STATUS: Readonly<Record<FormProblem, number>> = {
  nameMissing: 400,
  nameTooLong: 400,
  formUnreadable: 400,
  formTooLarge: 413,
  formType: 415,
};

const HTML = 'text/html; charset=utf-8';

/** Where a valid token leads, as far as can be told without using it. */
type LinkState = { ok: true; link: RoomLink; room: Room } | { ok: false; reason: LinkRefusal };

export const joinLinkPlugin: FastifyPluginAsync<JoinLinkOptions> = async (app, opts) => {
  const gw = opts.gateway;
  const ancestors = gw.settings.AMPHI_FRAME_ANCESTORS;
  const windowSeconds = Math.ceil(gw.settings.AMPHI_RATE_LIMIT_WINDOW_MS / 1000);

  const langOf = (req: FastifyRequest): Lang => chooseLang((req.query as Record<string, unknown> | undefined)?.lang, req.headers['accept-language']);
  const tokenOf = (req: FastifyRequest): string => (req.params as { '*'?: string })['*'] ?? '';

  function refuse(req: FastifyRequest, reply: FastifyReply, refusal: Refusal, extra: { title?: string; retryAfterSeconds?: number } = {}): FastifyReply {
    if (extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(extra.retryAfterSeconds));
    return reply.code(STATUS[refusal]).type(HTML).send(renderRefusal({ lang: langOf(req), refusal, ...extra }));
  }

  /** The link and room a verified token names, read without taking a use. */
  async function lookUp(linkId: string, expiresAt: number, now: number): Promise<LinkState> {
    const link = await gw.store.rooms.getLink(linkId);
    // A signed token whose link is gone: its room was deleted (links go with it).
    if (!link) return { ok: false, reason: 'roomGone' };
    if (link.expiresAt !== expiresAt) return { ok: false, reason: 'invalid' };
    if (link.revoked) return { ok: false, reason: 'revoked' };
    if (link.expiresAt <= now) return { ok: false, reason: 'expired' };
    if (link.maxUses !== undefined && link.uses >= link.maxUses) return { ok: false, reason: 'usedUp' };
    const room = await gw.store.rooms.get(link.room);
    return room ? { ok: true, link, room } : { ok: false, reason: 'roomGone' };
  }

  /** The form page for the link, with a problem when a submitted form was refused; or why the link leads nowhere. */
  async function showForm(req: FastifyRequest, reply: FastifyReply, problem?: FormProblem, name?: string): Promise<FastifyReply> {
    const now = gw.store.ctx.now();
    const token = verifyLinkToken(opts.linkKey, tokenOf(req), now);
    if (!token.ok) return refuse(req, reply, token.reason);
    const state = await lookUp(token.linkId, token.expiresAt, now);
    if (!state.ok) return refuse(req, reply, state.reason);
    // Asking for a name to enter a session that is over would waste the person's time (the join
    // itself is refused by RoomMeetings for the same reason).
    if (state.room.end !== undefined && state.room.end <= now) return refuse(req, reply, 'ended', { title: state.room.title });
    const servers = await gw.pool.onlineServers();
    reply.headers(securityHeaders(ancestors, serverSchemes(servers.map((s) => s.url))));
    return reply
      .code(problem ? PROBLEM_STATUS[problem] : 200)
      .type(HTML)
      .send(renderForm({ lang: langOf(req), title: state.room.title, role: state.link.role, problem, name }));
  }

  async function join(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const now = gw.store.ctx.now();
    // A forged token costs no Redis work, not even the rate counter.
    const token = verifyLinkToken(opts.linkKey, tokenOf(req), now);
    if (!token.ok) return refuse(req, reply, token.reason);
    const from = clientAddress(req.raw, gw.trustProxy);
    const limited = await gw.limiter.address(from.ip);
    if (limited) return refuse(req, reply, 'rateLimited', { retryAfterSeconds: limited.retryAfterSeconds });
    const form = readJoinForm(typeof req.body === 'string' ? req.body : '');
    if (!form.ok) return showForm(req, reply, form.problem, form.name);

    const used = await gw.store.rooms.useLink(token.linkId, now);
    // The store's 'invalid' is a link it does not hold; the token was ours, so its room went.
    if (!used.ok) return refuse(req, reply, used.reason === 'invalid' ? 'roomGone' : used.reason);
    const incoming = { method: req.method, url: req.url, host: req.headers.host, ...from };
    let joined: Awaited<ReturnType<JoinLinkOptions['rooms']['join']>>;
    try {
      joined = await opts.rooms.join(used.room, { name: form.name, role: used.link.role }, { clientIp: from.ip, publicBase: publicBase(gw, incoming) });
    } catch (err) {
      await giveBack(req, token.linkId);
      throw err;
    }
    if (joined.ok) return reply.code(303).header('location', joined.redirect).send();
    // A join that did not enter gives its use back.
    await giveBack(req, token.linkId);
    return refuseJoin(req, reply, joined.reason, used.room.title);
  }

  function refuseJoin(req: FastifyRequest, reply: FastifyReply, reason: JoinRefusal, title: string): FastifyReply {
    return refuse(req, reply, reason, { title, ...(reason === 'rateLimited' ? { retryAfterSeconds: windowSeconds } : {}) });
  }

  async function giveBack(req: FastifyRequest, linkId: string): Promise<void> {
    try {
      await gw.store.rooms.giveBackUse(linkId);
    } catch (err) {
      req.log.warn({ err, linkId }, 'join link: a refused join could not give its use back');
    }
  }

  // The form's only type, and a small body: a name is at most a few hundred bytes encoded.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: LINK_FORM_BODY_LIMIT }, (_req, body, done) =>
    done(null, body),
  );

  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(securityHeaders(ancestors));
  });

  // Fastify's own refusals of a form (body too large, another content type, a broken body) show
  // the form again with what went wrong; anything else that throws (Redis down, a bug) is logged
  // and shown as unavailable.
  app.setErrorHandler(async (err: { statusCode?: number }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status < 500 && req.method === 'POST') {
      const problem: FormProblem = status === 413 ? 'formTooLarge' : status === 415 ? 'formType' : 'formUnreadable';
      try {
        return await showForm(req, reply, problem);
      } catch (again) {
        return unavailable(req, reply, again);
      }
    }
    if (status < 500) return refuse(req, reply, 'invalid');
    return unavailable(req, reply, err);
  });

  function unavailable(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
    req.log.error({ err }, 'join link page failed');
    // The form page's headers may have been set already: a refusal page allows no form target.
    reply.headers(securityHeaders(ancestors));
    return refuse(req, reply, 'unavailable');
  }

  const answerGet = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => showForm(req, reply);
  for (const url of [JOIN_LINK_PREFIX, `${JOIN_LINK_PREFIX}/`, `${JOIN_LINK_PREFIX}/*`]) {
    app.route({ method: 'GET', url, handler: answerGet });
    app.route({ method: 'POST', url, bodyLimit: LINK_FORM_BODY_LIMIT, handler: join });
    app.route({
      method: ['PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url,
      handler: async (req, reply) => refuse(req, reply.header('allow', 'GET, HEAD, POST'), 'methodNotAllowed'),
    });
  }
};

/**
 * The page for a /j URL fastify cannot decode (`/j/%ff`), which never reaches the plugin: the
 * app's frameworkErrors answers it with this rather than its JSON. Undefined for other URLs.
 */
export function badLinkUrlPage(url: string, acceptLanguage: string | undefined, frameAncestors: string): { status: number; headers: Record<string, string>; body: string } | undefined {
  if (url !== JOIN_LINK_PREFIX && !url.startsWith(`${JOIN_LINK_PREFIX}/`) && !url.startsWith(`${JOIN_LINK_PREFIX}?`)) return undefined;
  const q = url.indexOf('?');
  const lang = chooseLang(q === -1 ? undefined : new URLSearchParams(url.slice(q + 1)).get('lang'), acceptLanguage);
  return {
    status: STATUS.invalid,
    headers: { ...securityHeaders(frameAncestors), 'content-type': HTML },
    body: renderRefusal({ lang, refusal: 'invalid' }),
  };
}

/** Registers the /j pages on the gateway's app. */
export async function registerJoinLinks(app: FastifyInstance, opts: JoinLinkOptions): Promise<void> {
  await app.register(joinLinkPlugin, opts);
}
