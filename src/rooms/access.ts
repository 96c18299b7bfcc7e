// Who may do what with rooms through the /v1 API. Pure: the routes read the room, these say yes
// or no.
//
// - An owner is a (tenant, sub) pair: the same sub in two tenants is two people, each with their
//   own rooms, so no tenant can claim (or probe) a sub another tenant uses.
// - A teacher reaches only their own rooms: owner === sub in the token's tenant.
// - A service or admin reaches every room of its tenant, and may create one for another owner
//   of its tenant.
// - A room of another tenant (or, for a teacher, another owner) is not found rather than
//   forbidden: a stranger learns nothing about which IDs exist.
import type { Principal, Room } from './types.js';

/** Whether the caller may read and change this room (else: 404). */
export function mayAccessRoom(p: Principal, room: Room): boolean {
  if (room.tenant !== p.tenant) return false;
  return p.role === 'teacher' ? room.owner === p.sub : true;
}

/** The owner a new room gets: the caller, or for a service or admin the owner it names. */
export function ownerOfNewRoom(p: Principal, asked: string | undefined): { ok: true; owner: string } | { ok: false; detail: string } {
  if (asked === undefined || asked === p.sub) return { ok: true, owner: p.sub };
  if (p.role === 'teacher') return { ok: false, detail: 'a teacher creates rooms for themselves only: leave out owner' };
  return { ok: true, owner: asked };
}

/** Which rooms a listing shows: a teacher's own (in the token's tenant), or the tenant's. */
export function listScope(p: Principal): { by: 'owner'; tenant: string; sub: string } | { by: 'tenant'; tenant: string } {
  return p.role === 'teacher' ? { by: 'owner', tenant: p.tenant, sub: p.sub } : { by: 'tenant', tenant: p.tenant };
}
