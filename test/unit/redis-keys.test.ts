// Redis Cluster readiness of the key layout: a script may only touch keys passed in KEYS
// (Cluster routes a script by them), and the keys one script touches must hash to one slot.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { keysFor } from '../../src/state/keys.js';

const COMMANDS = fileURLToPath(new URL('../../src/state/commands/', import.meta.url));
const luaFiles = [...readdirSync(COMMANDS).filter((f) => f.endsWith('.lua')), ...readdirSync(`${COMMANDS}includes`).map((f) => `includes/${f}`)];

describe('the Lua scripts', () => {
  it('name every key through KEYS: no key name is written or built inside a script', () => {
    for (const file of luaFiles) {
      const lua = readFileSync(`${COMMANDS}${file}`, 'utf8');
      for (const [, command, key] of lua.matchAll(/redis\.call\(\s*'([A-Za-z]+)',\s*([^,)]+)/g)) {
        // The key argument is KEYS[…] or a local bound to one, never a literal or a concatenation.
        expect({ file, command, key }).toEqual({ file, command, key: expect.stringMatching(/^(KEYS\[[^\]]+\]|[A-Za-z_][\w.]*)$/) });
      }
      expect(lua, file).not.toMatch(/redis\.call\(\s*[^'\s]/); // the command itself is never computed
    }
  });
});

describe('the key layout', () => {
  it("puts every key of a pool under the pool's hash tag, so one script's keys share a Cluster slot", () => {
    const keys = keysFor('lyon');
    const all = Object.entries(keys).flatMap(([name, k]) => (typeof k === 'function' ? [[name, (k as (x: never) => string)('x' as never)]] : [[name, k]]));
    expect(all.length).toBeGreaterThan(30);
    for (const [name, key] of all) expect({ name, key }).toEqual({ name, key: expect.stringMatching(/^amphi:\{lyon\}:/) });
    // The first {…} is the hash tag: no id put in a key can move it.
    expect(keys.meeting('acme:{other}')).toMatch(/^amphi:\{lyon\}:/);
  });
});
