// /v1/rooms: create (optionally with its two links at once, ?quick=1), list, read, change,
// delete, end. Links and invitations: links.ts.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listScope, mayAccessRoom, ownerOfNewRoom } from '../../rooms/access.js';
import { newRoomId } from '../../rooms/ids.js';
import { RoomMeetingError } from '../../rooms/room-meetings.js';
import type { Room } from '../../rooms/types.js';
import { problem, ProblemError } from '../http/problem.js';
import { principal } from './auth.js';
import { announceRoom, callerRoom, checkPolicy, fullView, makeLink, notFound, unannounceRoom, type V1Context } from './context.js';
import { createQuery, createRoomBody, listQuery, noContent, patchRoomBody, problemView, quickRoomView, roomList, roomParams, roomView, spanProblem } from './schemas.js';
import { baseOf } from './context.js';
import { linkView, roomPath } from './views.js';

const TAGS = ['rooms'];
const SECURITY = [{ bearer: [] }];
const problems = { 400: problemView, 401: problemView, 403: problemView, 404: problemView, 409: problemView, 422: problemView };

const ms = (iso: string | null | undefined): number | undefined => (iso === null || iso === undefined ? undefined : Date.parse(iso));

function checkSpan(start: number | undefined, end: number | undefined): void {
  const wrong = spanProblem(start, end);
  if (wrong) throw new ProblemError(problem(400, 'invalid-input', `${wrong.field}: ${wrong.message}`, [wrong]));
}

/** The 409 of a room over one of the store's caps (state/rooms.ts): problem slug and detail. */
const TOO_MANY: Record<'tooMany' | 'tenantRooms' | 'tenantOwners', [string, string]> = {
  tooMany: ['too-many-rooms', 'the owner has as many rooms as they may keep; delete some first'],
  tenantRooms: ['tenant-too-many-rooms', 'the tenant has as many rooms as it may keep; delete some first'],
  tenantOwners: ['tenant-too-many-owners', 'the tenant has as many room owners as it may keep; delete the rooms of owners who left first'],
};

/** The opaque cursor of the page starting at `offset`. */
const cursorOf = (offset: number): string => Buffer.from(`o${offset}`).toString('base64url');

function offsetOf(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const m = /^o(\d{1,7})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m || Buffer.from(`o${m[1]}`).toString('base64url') !== cursor) {
    throw new ProblemError(problem(400, 'invalid-input', 'cursor: not a cursor this API gave', [{ field: 'cursor', message: 'not a cursor this API gave' }]));
  }
  return Number(m[1]);
}

export async function roomRoutes(app: FastifyInstance, ctx: V1Context): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { store } = ctx.gw;

  r.post(
    '/rooms',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Create a room (with ?quick=1, also a moderator and a viewer link)',
        querystring: createQuery,
        body: createRoomBody,
        response: { 201: roomView.or(quickRoomView), ...problems },
      },
    },
    async (request, reply) => {
      const p = principal(request);
      const body = request.body;
      const owner = ownerOfNewRoom(p, body.owner);
      if (!owner.ok) throw new ProblemError(problem(403, 'forbidden', owner.detail));
      const start = ms(body.start);
      const end = ms(body.end);
      checkSpan(start, end);
      const now = store.ctx.now();
      const room: Room = {
        id: newRoomId(),
        owner: owner.owner,
        tenant: p.tenant,
        title: body.title,
        ...(body.profile !== undefined && { profile: body.profile.toLowerCase() }),
        ...(body.expectedParticipants !== undefined && { expectedParticipants: body.expectedParticipants }),
        ...(body.expectedCameras !== undefined && { expectedCameras: body.expectedCameras }),
        ...(start !== undefined && { start }),
        ...(end !== undefined && { end }),
        ...(body.welcome !== undefined && { welcome: body.welcome }),
        record: body.record ?? false,
        createdAt: now,
        updatedAt: now,
      };
      checkPolicy(ctx, room);
      const created = await store.rooms.create(room);
      if (!created.ok) throw new ProblemError(problem(409, ...TOO_MANY[created.reason]));
      await announceRoom(ctx, room);
      reply.code(201).header('location', roomPath(room.id));
      const quick = request.query.quick === '1' || request.query.quick === 'true';
      if (!quick) return fullView(ctx, request, room);
      const moderator = await makeLink(ctx, room, p, { role: 'moderator' });
      const viewer = await makeLink(ctx, room, p, { role: 'viewer' });
      const view = await fullView(ctx, request, room);
      const base = baseOf(ctx, request);
      return { ...view, links: { moderator: linkView(moderator, ctx.key, base), viewer: linkView(viewer, ctx.key, base) } };
    },
  );

  r.get(
    '/rooms',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "The caller's rooms (a teacher's own, a service's or admin's whole tenant), oldest first",
        querystring: listQuery,
        response: { 200: roomList, ...problems },
      },
    },
    async (request) => {
      const p = principal(request);
      const offset = offsetOf(request.query.cursor);
      const { limit } = request.query;
      const scope = listScope(p);
      const page = scope.by === 'owner' ? await store.rooms.listByOwner(scope.tenant, scope.sub, offset, limit) : await store.rooms.listByTenant(scope.tenant, offset, limit);
      // A room being moved between the two reads is left out rather than shown in the wrong
      // tenant; and the same rule as for one room (owner too, for a teacher) guards the index.
      const mine = page.rooms.filter((room) => mayAccessRoom(p, room));
      const items = await Promise.all(mine.map((room) => fullView(ctx, request, room)));
      const next = offset + limit;
      return { items, ...(next < page.total && { nextCursor: cursorOf(next) }) };
    },
  );

  r.get(
    '/rooms/:id',
    { schema: { tags: TAGS, security: SECURITY, summary: 'A room: state, live counts, limits, links', params: roomParams, response: { 200: roomView, ...problems } } },
    async (request) => {
      const { room } = await callerRoom(ctx, request, request.params.id);
      return fullView(ctx, request, room);
    },
  );

  r.patch(
    '/rooms/:id',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Change a room (null clears an optional field)',
        params: roomParams,
        body: patchRoomBody,
        response: { 200: roomView, ...problems },
      },
    },
    async (request) => {
      const { room } = await callerRoom(ctx, request, request.params.id);
      const b = request.body;
      const next: Room = { ...room, updatedAt: store.ctx.now() };
      if (b.title !== undefined) next.title = b.title;
      if (b.record !== undefined) next.record = b.record;
      // undefined: unchanged; null: cleared.
      const set = <K extends 'profile' | 'expectedParticipants' | 'expectedCameras' | 'welcome'>(k: K, v: Room[K] | null | undefined): void => {
        if (v === null) delete next[k];
        else if (v !== undefined) next[k] = v;
      };
      set('profile', b.profile === undefined || b.profile === null ? b.profile : b.profile.toLowerCase());
      set('expectedParticipants', b.expectedParticipants);
      set('expectedCameras', b.expectedCameras);
      set('welcome', b.welcome);
      if (b.start !== undefined) {
        if (b.start === null) delete next.start;
        else next.start = ms(b.start);
      }
      if (b.end !== undefined) {
        if (b.end === null) delete next.end;
        else next.end = ms(b.end);
      }
      checkSpan(next.start, next.end);
      checkPolicy(ctx, next);
      if (!(await store.rooms.update(room.id, next))) throw notFound();
      await announceRoom(ctx, next);
      return fullView(ctx, request, next);
    },
  );

  r.delete(
    '/rooms/:id',
    { schema: { tags: TAGS, security: SECURITY, summary: 'Delete a room and its links, ending its meeting if running', params: roomParams, response: { 204: noContent, ...problems } } },
    async (request, reply) => {
      const { room } = await callerRoom(ctx, request, request.params.id);
      try {
        await ctx.meetings.end(room);
      } catch (err) {
        // The room goes either way: with its links gone nobody joins the meeting any more.
        request.log.warn({ room: room.id, err: (err as Error).message }, 'v1: the meeting of a deleted room could not be ended');
      }
      if (!(await store.rooms.delete(room.id, room.tenant))) throw notFound();
      await unannounceRoom(ctx, room);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/rooms/:id/end',
    {
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "End the room's running meeting (the room stays)",
        params: roomParams,
        response: { 204: noContent, ...problems, 503: problemView },
      },
    },
    async (request, reply) => {
      const { room } = await callerRoom(ctx, request, request.params.id);
      let ended: boolean;
      try {
        ended = await ctx.meetings.end(room);
      } catch (err) {
        if (err instanceof RoomMeetingError) throw new ProblemError(problem(503, 'unavailable', err.message));
        throw err;
      }
      if (!ended) throw new ProblemError(problem(409, 'not-running', 'the room has no running meeting'));
      return reply.code(204).send(null);
    },
  );
}
