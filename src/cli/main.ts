#!/usr/bin/env node
// The `amphi` executable. The logic lives in dispatch.ts; this file only wires it to the process.
import { processIO } from './command.js';
import { main } from './dispatch.js';

const code = await main(process.argv.slice(2), processIO);
// Exit explicitly: a command has finished (or stopped on a signal), and a stray handle
// (a timer, a half-closed socket) must not keep the process alive after that.
process.exit(code);
