// Redis key layout. Every key of a pool carries the pool's hash tag, so the Lua scripts that
// touch several of them also run on Redis Cluster.

export interface Keys {
  prefix: string;
  /** Present while Redis still holds our data; its absence reveals a flush or a lost primary. */
  epoch: string;
  servers: string;
  server(id: string): string;
  reservations(serverId: string): string;
  serverMeetings(serverId: string): string;
  meetings: string;
  meetingPrefix: string;
  meeting(ref: string): string;
  /** External userIDs the last poll saw in the meeting (rejoins always pass admission). */
  inside(ref: string): string;
  /** Joins admitted since the last poll, by userID, scored by time. */
  pending(ref: string): string;
  tenants: string;
  lock(name: string): string;
  counter(name: string): string;
}

export function keysFor(pool: string, namespace = 'amphi'): Keys {
  const prefix = `${namespace}:{${pool}}:`;
  return {
    prefix,
    epoch: `${prefix}epoch`,
    servers: `${prefix}servers`,
    server: (id) => `${prefix}server:${id}`,
    reservations: (id) => `${prefix}resv:${id}`,
    serverMeetings: (id) => `${prefix}server-meetings:${id}`,
    meetings: `${prefix}meetings`,
    meetingPrefix: `${prefix}meeting:`,
    meeting: (ref) => `${prefix}meeting:${ref}`,
    inside: (ref) => `${prefix}inside:${ref}`,
    pending: (ref) => `${prefix}pending:${ref}`,
    tenants: `${prefix}tenants`,
    lock: (name) => `${prefix}lock:${name}`,
    counter: (name) => `${prefix}counter:${name}`,
  };
}

/** A meeting's reference inside a pool: tenant and tenant-local meeting ID. */
export function meetingRef(tenant: string, meetingID: string): string {
  return `${tenant}:${meetingID}`;
}
