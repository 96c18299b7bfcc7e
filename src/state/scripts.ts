import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

// The Lua scripts live as files beside this module (commands/*.lua, sharing functions through
// `--@include NAME` lines, commands/includes/NAME.lua), read once. Each call is
// one EVALSHA; a Redis that does not know the script yet (new, restarted, flushed) answers
// NOSCRIPT and gets it once with EVAL. Called directly rather than through ioredis'
// defineCommand, whose extra promise chain cost a tenth of a join's CPU.

export type ScriptName =
  | 'place-meeting'
  | 'apply-poll'
  | 'poll-failed'
  | 'forget-meeting'
  | 'end-meeting'
  | 'hold-lock'
  | 'release-lock'
  | 'count-join'
  | 'rate-limit'
  | 'refresh-meeting'
  | 'record-demand'
  | 'announce'
  | 'read-announced'
  | 'learn-load'
  | 'room-create'
  | 'room-update'
  | 'room-delete'
  | 'link-add'
  | 'link-use'
  | 'link-give-back'
  | 'link-revoke'
  | 'owner-move';

export interface Script {
  lua: string;
  sha: string;
}

const loaded = new Map<ScriptName, Script>();

/** A script's text with each `--@include NAME` line replaced by commands/includes/NAME.lua. */
function withIncludes(lua: string): string {
  return lua.replace(/^--@include ([a-z-]+)$/gm, (_line, include: string) =>
    readFileSync(new URL(`./commands/includes/${include}.lua`, import.meta.url), 'utf8').trimEnd(),
  );
}

/** A script as sent to Redis (includes expanded) and its SHA-1; read once. */
export function loadScript(name: ScriptName): Script {
  let s = loaded.get(name);
  if (s === undefined) {
    const lua = withIncludes(readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), 'utf8'));
    s = { lua, sha: createHash('sha1').update(lua).digest('hex') };
    loaded.set(name, s);
  }
  return s;
}

export async function runScript(redis: Redis, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
  const { lua, sha } = loadScript(name);
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return redis.eval(lua, keys.length, ...keys, ...args);
  }
}
