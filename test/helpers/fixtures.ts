import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/bbb-xml/', import.meta.url));

/** A BBB wire capture copied from the reference into this repository. */
export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}
