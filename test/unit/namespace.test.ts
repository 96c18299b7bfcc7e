import { describe, expect, it } from 'vitest';
import { DEFAULT_TENANT, fitsUpstream, fromUpstreamId, toUpstreamId } from '../../src/state/namespace.js';

describe('meeting ID namespaces', () => {
  const tenants = new Set(['acme', 'lms-1', 'room']);

  it('keeps plain default-tenant IDs unchanged and prefixes the others', () => {
    expect(toUpstreamId(DEFAULT_TENANT, 'room 1')).toBe('room 1');
    expect(toUpstreamId('acme', 'room 1')).toBe('acme~room 1');
  });

  it('escapes the separator and the escape character, so no tenant spells another tenant ID', () => {
    expect(toUpstreamId(DEFAULT_TENANT, 'acme~room')).toBe('acme%7Eroom');
    expect(toUpstreamId(DEFAULT_TENANT, 'acme%7Eroom')).toBe('acme%257Eroom');
    expect(toUpstreamId('acme', 'a~b%')).toBe('acme~a%7Eb%25');
    // The default tenant's `acme~room` and acme's `room` are different meetings upstream.
    expect(toUpstreamId(DEFAULT_TENANT, 'acme~room')).not.toBe(toUpstreamId('acme', 'room'));
  });

  it('is injective over tenants and IDs built from the troublesome characters', () => {
    const alphabet = ['a', '~', '%', '7', 'E', '2', '5'];
    const ids: string[] = [''];
    for (let len = 1; len <= 4; len++) for (const id of [...ids]) if (id.length === len - 1) for (const c of alphabet) ids.push(id + c);
    const seen = new Map<string, string>();
    for (const tenant of [DEFAULT_TENANT, 'a', 'acme', 'room']) {
      for (const id of ids) {
        const up = toUpstreamId(tenant, id);
        expect(seen.get(up), `${tenant}/${id} vs ${seen.get(up)}`).toBeUndefined();
        seen.set(up, `${tenant}/${id}`);
        if (tenant === DEFAULT_TENANT || tenants.has(tenant)) expect(fromUpstreamId(up, tenants)).toEqual({ tenant, meetingID: id });
      }
    }
  });

  it('round-trips, and attributes IDs no tenant could have made to nobody', () => {
    expect(fromUpstreamId('acme~room 1', tenants)).toEqual({ tenant: 'acme', meetingID: 'room 1' });
    expect(fromUpstreamId('acme~a%7Eb', tenants)).toEqual({ tenant: 'acme', meetingID: 'a~b' });
    expect(fromUpstreamId('plain', tenants)).toEqual({ tenant: DEFAULT_TENANT, meetingID: 'plain' });
    // An unknown prefix is no longer the default tenant's: it would let a new tenant claim it.
    expect(fromUpstreamId('other~x', tenants)).toBeUndefined();
    expect(fromUpstreamId('default~x', tenants)).toBeUndefined();
    expect(fromUpstreamId('~x', tenants)).toBeUndefined();
    expect(fromUpstreamId('acme~a~b', tenants)).toBeUndefined();
    expect(fromUpstreamId('a%20b', tenants)).toBeUndefined();
    expect(fromUpstreamId('a%', tenants)).toBeUndefined();
  });

  it('says whether an ID still fits BBB limits once namespaced', () => {
    expect(fitsUpstream(DEFAULT_TENANT, 'x'.repeat(256))).toBe(true);
    expect(fitsUpstream('acme', 'x'.repeat(251))).toBe(true);
    expect(fitsUpstream('acme', 'x'.repeat(252))).toBe(false);
    expect(fitsUpstream(DEFAULT_TENANT, '~'.repeat(86))).toBe(false);
  });
});
