// tsc compiles only TypeScript; the Lua scripts the store loads at run time are copied beside
// the compiled modules so dist/ works on its own.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../src/state/commands/', import.meta.url);
const to = new URL('../dist/src/state/commands/', import.meta.url);
for (const dir of ['', 'includes/']) {
  mkdirSync(new URL(dir, to), { recursive: true });
  for (const file of readdirSync(new URL(dir, from))) if (file.endsWith('.lua')) cpSync(new URL(dir + file, from), new URL(dir + file, to));
}
