// A gateway serving the /j/<token> pages on a simulated pool, and rooms and links made straight
// in its store, for the link page tests (integration and browser).
import type { AddressInfo } from 'node:net';
import { buildApp, type App } from '../../src/api/app.js';
import { registerJoinLinks } from '../../src/api/links/routes.js';
import { newLinkId, newRoomId } from '../../src/rooms/ids.js';
import { linkKey, linkUrl, signLinkToken } from '../../src/rooms/link-token.js';
import { RoomMeetings } from '../../src/rooms/room-meetings.js';
import { DEFAULT_LINK_TTL_MS, type LinkRole, type Room, type RoomLink } from '../../src/rooms/types.js';
import { Store } from '../../src/state/store.js';
import { startTestPool, type TestPool } from './gateway.js';

export const LINK_JWT_SECRET = 'join-link-tests-jwt-secret-0123456789';

export interface LinkGateway extends App {
  pool: TestPool;
  url: string;
  store: Store;
  key: Buffer;
  room(fields?: Partial<Room>): Promise<Room>;
  /** A link of the room stored with the given fields; its token and URL. */
  link(room: Room, fields?: Partial<RoomLink>): Promise<{ link: RoomLink; token: string; url: string }>;
  close(): Promise<void>;
}

export async function startLinkGateway(opts: { servers?: number; env?: Record<string, string>; label?: string } = {}): Promise<LinkGateway> {
  const pool = await startTestPool({
    servers: opts.servers ?? 2,
    label: opts.label ?? 'links',
    env: { AMPHI_JWT_SECRET: LINK_JWT_SECRET, ...opts.env },
  });
  try {
    const namespace = pool.redis.prefix.slice(0, -1);
    const store = new Store(pool.redis.redis, { namespace });
    const built = await buildApp({ store, redis: pool.redis.redis, settings: pool.settings, logger: false });
    const key = linkKey(LINK_JWT_SECRET);
    // Once app.ts serves /j itself (AMPHI_JWT_SECRET set), the app's own registration is the one tested.
    if (!built.app.hasRoute({ method: 'GET', url: '/j/*' })) {
      await registerJoinLinks(built.app, { gateway: built.gateway, rooms: new RoomMeetings(built.gateway), linkKey: key });
    }
    await built.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(built.app.server.address() as AddressInfo).port}`;
    return {
      ...built,
      pool,
      url,
      store,
      key,
      async room(fields = {}) {
        const now = Date.now();
        const room: Room = { id: newRoomId(), owner: 'teacher-1', tenant: 'default', title: 'Maths 4e B', record: false, createdAt: now, updatedAt: now, ...fields };
        const created = await store.rooms.create(room);
        if (!created.ok) throw new Error(`room not created: ${created.reason}`);
        return room;
      },
      async link(room, fields = {}) {
        const role: LinkRole = 'viewer';
        const link: RoomLink = {
          id: newLinkId(),
          room: room.id,
          role,
          createdAt: Date.now(),
          expiresAt: Date.now() + DEFAULT_LINK_TTL_MS,
          uses: 0,
          revoked: false,
          createdBy: room.owner,
          ...fields,
        };
        const added = await store.rooms.addLink(link);
        if (!added.ok) throw new Error(`link not added: ${added.reason}`);
        const token = signLinkToken(key, link.id, link.expiresAt);
        return { link, token, url: linkUrl(url, token) };
      },
      async close() {
        await built.app.close();
        await pool.close();
      },
    };
  } catch (err) {
    await pool.close();
    throw err;
  }
}
