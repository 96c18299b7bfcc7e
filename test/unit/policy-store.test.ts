import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_DIR, PolicyLoadError } from '../../src/policy/loader.js';
import { PolicyStore } from '../../src/policy/policy-store.js';
import type { Policy } from '../../src/policy/schema.js';

/** Resolves with the first event of that name, or fails after `ms`. */
function next<K extends 'change' | 'error'>(store: PolicyStore, event: K, ms = 5000): Promise<K extends 'change' ? Policy : PolicyLoadError> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    store.once(event, ((value: never) => {
      clearTimeout(timer);
      resolve(value);
    }) as never);
  });
}

let dir: string;
let file: string;
let original: string;
let store: PolicyStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amphi-policy-store-'));
  file = join(dir, 'default.yaml');
  await copyFile(join(DEFAULT_POLICY_DIR, 'default.yaml'), file);
  original = await readFile(file, 'utf8');
  store = new PolicyStore();
});

afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

/** The shipped file with the webinar's maxParticipants replaced. */
const withWebinarMax = (value: string) => original.replace(/(webinar:[\s\S]*?maxParticipants: )350/, `$1${value}`);
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('PolicyStore', () => {
  it('loads at start, and refuses to start on an invalid policy with every error', async () => {
    const policy = await store.load(dir);
    expect(store.current()).toBe(policy);
    expect(policy.profiles.webinar!.bbb.maxParticipants).toBe(350);

    await writeFile(file, withWebinarMax('lots').replace('cameras: 5, maxParticipants: 250', 'cameras: 5, maxParticipants: 400'));
    const fresh = new PolicyStore();
    const err = await fresh.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect((err as PolicyLoadError).errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['profiles.webinar.bbb.maxParticipants', 'curve.points[1].maxParticipants']),
    );
    expect(() => fresh.current()).toThrow(/load\(\)/);
  });

  it('applies a valid edit without restart and emits change', async () => {
    await store.load(dir);
    store.watch(50);
    const changed = next(store, 'change');
    await writeFile(file, withWebinarMax('300'));
    const policy = await changed;
    expect(policy.profiles.webinar!.bbb.maxParticipants).toBe(300);
    expect(store.current().profiles.webinar!.bbb.maxParticipants).toBe(300);
  });

  it('rejects an invalid edit naming file:line and field, and keeps the previous policy', async () => {
    await store.load(dir);
    store.watch(50);
    const before = store.current();
    const failed = next(store, 'error');
    const bad = withWebinarMax('lots');
    await writeFile(file, bad);
    const err = await failed;
    const line = lineOf(bad, 'maxParticipants: lots');
    expect(err.message).toContain(`${file}:${line}: profiles.webinar.bbb.maxParticipants:`);
    expect(store.current()).toBe(before);

    // Fixing the file applies it.
    const changed = next(store, 'change');
    await writeFile(file, withWebinarMax('200'));
    expect((await changed).profiles.webinar!.bbb.maxParticipants).toBe(200);
  });

  it('sees an editor-style save (write a temporary file, rename it over)', async () => {
    await store.load(dir);
    store.watch(50);
    const changed = next(store, 'change');
    const tmp = join(dir, '.default.yaml.tmp');
    await writeFile(tmp, withWebinarMax('250'));
    await rename(tmp, file);
    expect((await changed).profiles.webinar!.bbb.maxParticipants).toBe(250);
  });

  it('picks up a new file in the directory', async () => {
    await store.load(dir);
    store.watch(50);
    const changed = next(store, 'change');
    await writeFile(join(dir, 'tenant-lycees.yaml'), 'tenants:\n  lycees:\n    profile: classroom\n');
    expect((await changed).tenants.lycees!.profile).toBe('classroom');
  });

  it('never throws over a bad edit when nobody listens for errors', async () => {
    await store.load(dir);
    const before = store.current();
    await writeFile(file, withWebinarMax('lots'));
    await store.reload(); // would throw ERR_UNHANDLED_ERROR if it emitted without a listener
    expect(store.current()).toBe(before);
  });

  it('stops watching on close', async () => {
    await store.load(dir);
    store.watch(20);
    store.close();
    let changes = 0;
    store.on('change', () => changes++);
    await writeFile(file, withWebinarMax('300'));
    await new Promise((r) => setTimeout(r, 300));
    expect(changes).toBe(0);
    expect(store.current().profiles.webinar!.bbb.maxParticipants).toBe(350);
  });
});
