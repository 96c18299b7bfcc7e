// The registry: adding a command is one import and one entry below.
import type { Command } from './command.js';
import { gatewayCommand } from './commands/gateway.js';
import { redisCommand } from './commands/redis.js';
import { simCommand } from './commands/sim.js';

export const commands: readonly Command[] = [gatewayCommand, redisCommand, simCommand];
