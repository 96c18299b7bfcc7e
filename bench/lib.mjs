// Shared plumbing for the benchmarks: child processes of the built CLI, a private Redis, and
// autocannon runs summarised the same way everywhere. Everything listens on 127.0.0.1.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

export const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname;

/** The numeric command-line options, each with its default: `{ servers: 200 }` reads `--servers N`. */
export function numberOptions(defaults) {
  const options = Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, { type: 'string', default: String(value) }]));
  const { values } = parseArgs({ options });
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, Number(value)]));
}

/** Starts `amphi <args>` and resolves once a stdout/stderr line matches `ready`. */
export async function startCli(args, env, ready) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const match = new Promise((resolve, reject) => {
    const onLine = (line) => {
      lines.push(line);
      const m = line.match(ready);
      if (m) resolve(m);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`amphi ${args[0]} exited with ${code}:\n${lines.join('\n')}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const m = await match;
  clearTimeout(timer);
  return { child, match: m, lines, stop: () => stopChild(child) };
}

export async function stopChild(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(t);
}

/** Runs autocannon and returns the figures the README table shows. */
export async function cannon(opts) {
  // Loaded here, not with the module: the benches that only need the helpers above (sim-memory
  // measures its own process) do not carry it.
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({ connections: 50, duration: 5, pipelining: 1, ...opts });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    total: result.requests.total,
  };
}

export function machine() {
  const os = globalThis.process;
  return `${os.platform} ${os.arch}, node ${os.version}`;
}
