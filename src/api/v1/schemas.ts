// The /v1 API's inputs and outputs as zod schemas: validated by fastify-type-provider-zod and
// published as OpenAPI 3 at /docs/json. Every string is bounded; none may carry control
// characters (they would reach logs, BBB and calendar files) or a lone UTF-16 surrogate (not
// text: Redis' Lua JSON cannot read it back, BBB and calendars mangle it).
import { z } from 'zod';
import { ANNOUNCE_MAX_SPAN_MS } from '../../policy/announcement.js';
import { DEFAULT_LINK_TTL_MS, MAX_LINK_TTL_MS } from '../../rooms/types.js';
import { MAX_SUB_LENGTH, WELL_FORMED, WELL_FORMED_MESSAGE } from '../../rooms/v1-token.js';

// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
// eslint-disable-next-line no-control-regex
const NO_CONTROL_BUT_NEWLINES = /^[^\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]*$/;

/** A string that is text: no lone surrogate. */
const text = () => z.string().regex(WELL_FORMED, WELL_FORMED_MESSAGE);

/**
 * The dates a room may have, in UTC after parsing: a 4-digit year both ways (the view answers
 * RFC 3339, iCalendar has no 5-digit years), and none before the epoch (whole ms only).
 */
export const EARLIEST_DATE = '2000-01-01T00:00:00Z';
export const LATEST_DATE = '9999-12-31T00:00:00Z';
const EARLIEST_MS = Date.parse(EARLIEST_DATE);
const LATEST_MS = Date.parse(LATEST_DATE);
const inWindow = (iso: string): boolean => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS;
};

const title = text().trim().min(1).max(200).regex(NO_CONTROL, 'must not contain control characters').describe('What the room is called (BBB meeting name)');
const profile = z.string().trim().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/i, 'must be a capacity profile name').describe("A capacity profile the tenant may use; the tenant's default when absent");
const expectedParticipants = z.number().int().min(1).max(10_000).describe('Expected audience: sizes the meeting and the forecast');
const expectedCameras = z.number().int().min(0).max(1000).describe('Expected cameras on');
const dateTime = z
  .string()
  .max(64)
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with an offset, e.g. 2026-12-02T08:00:00+01:00' })
  .refine(inWindow, `must be a real date between ${EARLIEST_DATE} and ${LATEST_DATE} (in UTC)`);
const welcome = text().max(2000).regex(NO_CONTROL_BUT_NEWLINES, 'must not contain control characters other than newlines').describe('Welcome message shown in the meeting chat');
const record = z.boolean().describe('Whether the meeting may be recorded');

/** The span rules shared by create and patch (patch applies them to the room after the change). */
export function spanProblem(start: number | undefined, end: number | undefined): { field: string; message: string } | undefined {
  if (end !== undefined && start === undefined) return { field: 'end', message: 'needs start' };
  if (start === undefined || end === undefined) return undefined;
  if (end <= start) return { field: 'end', message: 'must be after start' };
  if (end - start > ANNOUNCE_MAX_SPAN_MS) return { field: 'end', message: 'must be at most 24 hours after start' };
  return undefined;
}

export const createRoomBody = z
  .object({
    title,
    profile: profile.optional(),
    expectedParticipants: expectedParticipants.optional(),
    expectedCameras: expectedCameras.optional(),
    start: dateTime.describe('Announced start: feeds the scaler forecast, DTSTART of the invitation').optional(),
    end: dateTime.describe('Announced end: after start, at most 24 h later').optional(),
    welcome: welcome.optional(),
    record: record.optional(),
    owner: text().min(1).max(MAX_SUB_LENGTH).regex(NO_CONTROL, 'must not contain control characters').describe('The owner sub (service and admin tokens only; default: the caller)').optional(),
  })
  .strict();

export const patchRoomBody = z
  .object({
    title: title.optional(),
    profile: profile.nullable().optional(),
    expectedParticipants: expectedParticipants.nullable().optional(),
    expectedCameras: expectedCameras.nullable().optional(),
    start: dateTime.nullable().optional(),
    end: dateTime.nullable().optional(),
    welcome: welcome.nullable().optional(),
    record: record.optional(),
  })
  .strict()
  .describe('Any subset of the room fields; null clears an optional one');

export const createQuery = z
  .object({ quick: z.enum(['1', '0', 'true', 'false']).optional().describe('1: also make a moderator link and a viewer link (default expiry)') })
  .strict();

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20).describe('Rooms per page (1..100)'),
    cursor: z.string().max(100).optional().describe('nextCursor of the previous page'),
  })
  .strict();

export const roomParams = z.object({ id: z.string().max(100) });
export const linkParams = z.object({ id: z.string().max(100), link: z.string().max(100) });

export const createLinkBody = z
  .object({
    role: z.enum(['moderator', 'viewer']).describe('What the link makes of who follows it'),
    expiresIn: z
      .number()
      .int()
      .min(60)
      .max(MAX_LINK_TTL_MS / 1000)
      .default(DEFAULT_LINK_TTL_MS / 1000)
      .describe('Lifetime in seconds (60 s .. 366 days, default 30 days)'),
    maxUses: z.number().int().min(1).max(100_000).optional().describe('Joins it admits at most (default: unlimited)'),
  })
  .strict();

// Outputs ----------------------------------------------------------------------------------------

export const linkView = z.object({
  id: z.string(),
  role: z.enum(['moderator', 'viewer']),
  url: z.string().describe('The /j/<token> page to share'),
  expiresAt: z.string(),
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
  revoked: z.boolean(),
  createdAt: z.string(),
});

const liveView = z.object({ participants: z.number().int(), moderators: z.number().int(), cameras: z.number().int(), listeners: z.number().int() });

const limitsView = z.object({
  profile: z.string(),
  maxParticipants: z.number().int(),
  maxCameras: z.number().int(),
  curve: z.array(z.object({ cameras: z.number(), participants: z.number() })).describe('Most participants with so many cameras on'),
});

const roomFields = {
  id: z.string(),
  title: z.string(),
  owner: z.string(),
  tenant: z.string(),
  profile: z.string().nullable(),
  expectedParticipants: z.number().int().nullable(),
  expectedCameras: z.number().int().nullable(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  welcome: z.string().nullable(),
  record: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  state: z.enum(['idle', 'running']),
  live: liveView,
  limits: limitsView.nullable().describe("The limits the policy gives the room's meeting (null when the policy no longer allows its profile)"),
  inviteUrl: z.string().describe('Its iCalendar invitation'),
};

export const roomView = z.object({ ...roomFields, links: z.array(linkView) });
export const quickRoomView = z.object({ ...roomFields, links: z.object({ moderator: linkView, viewer: linkView }) }).describe('?quick=1: the room with its two links');
export const roomList = z.object({ items: z.array(roomView), nextCursor: z.string().optional() });

export const problemView = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .describe('RFC 9457 problem details (application/problem+json)');

export const noContent = z.null().describe('No content');

export type RoomView = z.infer<typeof roomView>;
export type LinkView = z.infer<typeof linkView>;
