import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

// The Lua scripts live as files beside this module (commands/*.lua) and are registered once
// per connection with defineCommand, which sends EVALSHA and falls back to EVAL by itself.

const SCRIPTS = ['place-meeting', 'apply-poll', 'poll-failed', 'forget-meeting', 'hold-lock', 'count-join'] as const;
export type ScriptName = (typeof SCRIPTS)[number];

const sources = new Map<ScriptName, string>();

function source(name: ScriptName): string {
  let lua = sources.get(name);
  if (lua === undefined) {
    lua = readFileSync(new URL(`./commands/${name}.lua`, import.meta.url), 'utf8');
    sources.set(name, lua);
  }
  return lua;
}

const COMMAND_NAMES = new Map(SCRIPTS.map((name) => [name, `amphi_${name.replace(/-/g, '_')}`]));
const commandName = (name: ScriptName): string => COMMAND_NAMES.get(name)!;

type ScriptRunner = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

const registered = new WeakSet<Redis>();

export function runScript(redis: Redis, name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
  if (!registered.has(redis)) {
    for (const script of SCRIPTS) redis.defineCommand(commandName(script), { lua: source(script) });
    registered.add(redis);
  }
  const run = (redis as unknown as Record<string, ScriptRunner>)[commandName(name)]!;
  return run.call(redis, keys.length, ...keys, ...args);
}
