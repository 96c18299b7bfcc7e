// Room and link IDs: 128 random bits each, so knowing one tells nothing about another.
import { randomBytes } from 'node:crypto';
import { LINK_ID } from './link-token.js';

export { LINK_ID };
/** `r` + 22 base64url characters (Room.id). */
export const ROOM_ID = /^r[A-Za-z0-9_-]{22}$/;

export const newRoomId = (): string => `r${randomBytes(16).toString('base64url')}`;
export const newLinkId = (): string => randomBytes(16).toString('base64url');
