import { describe, expect, it } from 'vitest';
import { DEFAULT_TENANT, fromUpstreamId, toUpstreamId } from '../../src/state/namespace.js';

describe('meeting ID namespaces', () => {
  const tenants = new Set(['acme', 'lms-1']);

  it('keeps default-tenant IDs unchanged and prefixes the others', () => {
    expect(toUpstreamId(DEFAULT_TENANT, 'room 1')).toBe('room 1');
    expect(toUpstreamId('acme', 'room 1')).toBe('acme~room 1');
  });

  it('round-trips, and treats unknown prefixes as part of a default-tenant ID', () => {
    expect(fromUpstreamId('acme~room 1', tenants)).toEqual({ tenant: 'acme', meetingID: 'room 1' });
    expect(fromUpstreamId('acme~a~b', tenants)).toEqual({ tenant: 'acme', meetingID: 'a~b' });
    expect(fromUpstreamId('other~x', tenants)).toEqual({ tenant: DEFAULT_TENANT, meetingID: 'other~x' });
    expect(fromUpstreamId('~x', tenants)).toEqual({ tenant: DEFAULT_TENANT, meetingID: '~x' });
    expect(fromUpstreamId('plain', tenants)).toEqual({ tenant: DEFAULT_TENANT, meetingID: 'plain' });
  });
});
