// The /v1 access rules (rooms/access.ts).
import { describe, expect, it } from 'vitest';
import { listScope, mayAccessRoom, ownerOfNewRoom } from '../../src/rooms/access.js';
import type { Principal, Room } from '../../src/rooms/types.js';

const room: Room = { id: 'rAAAAAAAAAAAAAAAAAAAAAA', owner: 'alice', tenant: 'acme', title: 't', record: false, createdAt: 1, updatedAt: 1 };
const as = (role: Principal['role'], sub = 'alice', tenant = 'acme'): Principal => ({ role, sub, tenant });

describe('room access rules', () => {
  it('lets a teacher reach only their own rooms in their tenant', () => {
    expect(mayAccessRoom(as('teacher'), room)).toBe(true);
    expect(mayAccessRoom(as('teacher', 'bob'), room)).toBe(false);
    expect(mayAccessRoom(as('teacher', 'alice', 'globex'), room)).toBe(false);
  });

  it("lets a service or admin reach every room of its tenant, and none of another's", () => {
    for (const role of ['service', 'admin'] as const) {
      expect(mayAccessRoom(as(role, 'lms'), room)).toBe(true);
      expect(mayAccessRoom(as(role, 'lms', 'globex'), room)).toBe(false);
      expect(mayAccessRoom(as(role, 'alice', 'globex'), room)).toBe(false);
    }
  });

  it('lets only a service or admin create a room for someone else', () => {
    expect(ownerOfNewRoom(as('teacher'), undefined)).toEqual({ ok: true, owner: 'alice' });
    expect(ownerOfNewRoom(as('teacher'), 'alice')).toEqual({ ok: true, owner: 'alice' });
    expect(ownerOfNewRoom(as('teacher'), 'bob')).toMatchObject({ ok: false });
    expect(ownerOfNewRoom(as('service', 'lms'), 'bob')).toEqual({ ok: true, owner: 'bob' });
    expect(ownerOfNewRoom(as('admin', 'ops'), undefined)).toEqual({ ok: true, owner: 'ops' });
  });

  it("lists a teacher's own rooms and a service's or admin's whole tenant", () => {
    // The owner is (tenant, sub): the same sub's rooms in another tenant are someone else's.
    expect(listScope(as('teacher'))).toEqual({ by: 'owner', tenant: 'acme', sub: 'alice' });
    expect(listScope(as('teacher', 'alice', 'globex'))).toEqual({ by: 'owner', tenant: 'globex', sub: 'alice' });
    expect(listScope(as('service', 'lms'))).toEqual({ by: 'tenant', tenant: 'acme' });
    expect(listScope(as('admin', 'ops', 'globex'))).toEqual({ by: 'tenant', tenant: 'globex' });
  });
});
