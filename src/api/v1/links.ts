// /v1/rooms/:id/links (make, revoke) and /v1/rooms/:id/invite.ics (an iCalendar invitation
// carrying a viewer link).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildInvite } from '../../rooms/ics.js';
import { DEFAULT_LINK_TTL_MS, MAX_LINK_TTL_MS, type RoomLink } from '../../rooms/types.js';
import { ANNOUNCED_ASSUMED_SPAN_MS } from '../../state/announcements.js';
import { problem, ProblemError } from '../http/problem.js';
import { baseOf, callerRoom, makeLink, notFound, type V1Context } from './context.js';
import { createLinkBody, linkParams, linkView as linkSchema, noContent, problemView, roomParams } from './schemas.js';
import { linkView } from './views.js';

const TAGS = ['links'];
const SECURITY = [{ bearer: [] }];
const problems = { 400: problemView, 401: problemView, 403: problemView, 404: problemView, 409: problemView };
const DAY_MS = 86_400_000;

/**
 * The viewer link an invitation carries, or undefined when one must be made. Made only when no
 * usable viewer link covers the event (until a day after its end) and a new one could: so a
 * made link covers it and the next downloads reuse it. An event further ahead than any link
 * lives (MAX_LINK_TTL_MS) gets the longest-lived usable viewer link, made once if there is
 * none: never a new link per download.
 */
export function invitationLink(links: readonly RoomLink[], eventEnd: number, now: number): RoomLink | undefined {
  const usable = links.filter((l) => l.role === 'viewer' && !l.revoked && l.expiresAt > now && (l.maxUses === undefined || l.uses < l.maxUses));
  const longest = usable.reduce<RoomLink | undefined>((best, l) => (best === undefined || l.expiresAt > best.expiresAt ? l : best), undefined);
  if (longest === undefined) return undefined;
  const until = Math.max(eventEnd, now) + DAY_MS;
  if (longest.expiresAt >= until) return longest;
  // None covers: make a covering one if a link can live that long, else reuse the longest.
  return now + MAX_LINK_TTL_MS >= until ? undefined : longest;
}

/** The lifetime of a link made for an invitation: the event and a day after, at least the default, at most the longest. */
export const invitationLinkLifetime = (eventEnd: number, now: number): number => Math.min(MAX_LINK_TTL_MS, Math.max(DEFAULT_LINK_TTL_MS, eventEnd + DAY_MS - now));

export async function linkRoutes(app: FastifyInstance, ctx: V1Context): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { store } = ctx.gw;

  r.post(
    '/rooms/:id/links',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Make a join link (/j/<token>) to the room',
        params: roomParams,
        body: createLinkBody,
        response: { 201: linkSchema, ...problems },
      },
    },
    async (request, reply) => {
      const { p, room } = await callerRoom(ctx, request, request.params.id);
      const { role, expiresIn, maxUses } = request.body;
      const link = await makeLink(ctx, room, p, { role, expiresInMs: expiresIn * 1000, ...(maxUses !== undefined && { maxUses }) });
      return reply.code(201).send(linkView(link, ctx.key, baseOf(ctx, request)));
    },
  );

  r.delete(
    '/rooms/:id/links/:link',
    { schema: { tags: TAGS, security: SECURITY, summary: 'Revoke a link (it stays listed, revoked)', params: linkParams, response: { 204: noContent, ...problems } } },
    async (request, reply) => {
      const { room } = await callerRoom(ctx, request, request.params.id);
      if (!(await store.rooms.revokeLink(room.id, request.params.link))) throw notFound('link');
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/rooms/:id/invite.ics',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'An iCalendar invitation (VEVENT) with a viewer link; the room needs a start',
        description:
          "Carries the room's usable viewer link that lives until a day after the event (the longest-lived one). " +
          'A new viewer link is made only when none does and one can: links live at most 366 days, so for an event further ahead ' +
          'the longest-lived usable viewer link is reused (made once when there is none), and downloading the invitation again ' +
          'once the event is within reach gives one that covers it. Downloads never add a link each.',
        params: roomParams,
        produces: ['text/calendar'],
        response: { 200: z.string().describe('text/calendar'), ...problems },
      },
    },
    async (request, reply) => {
      const { p, room } = await callerRoom(ctx, request, request.params.id);
      if (room.start === undefined) throw new ProblemError(problem(409, 'no-start', 'room has no start: set one (PATCH start) to get an invitation'));
      const now = store.ctx.now();
      const end = room.end ?? room.start + ANNOUNCED_ASSUMED_SPAN_MS;
      const link = invitationLink(await store.rooms.links(room.id), end, now) ?? (await makeLink(ctx, room, p, { role: 'viewer', expiresInMs: invitationLinkLifetime(end, now) }));
      const url = linkView(link, ctx.key, baseOf(ctx, request)).url;
      const ics = buildInvite({ uid: `${room.id}@amphi`, start: room.start, end, stamp: now, modified: room.updatedAt, summary: room.title, description: url, url });
      return reply
        .type('text/calendar; charset=utf-8')
        .header('content-disposition', `attachment; filename="${room.id}.ics"`)
        .header('cache-control', 'no-store')
        .send(ics);
    },
  );
}
