// The registry: adding a command is one import and one entry below.
import type { Command } from './command.js';
import { allCommand } from './commands/all.js';
import { demoCommand } from './commands/demo.js';
import { gatewayCommand } from './commands/gateway.js';
import { ownersCommand } from './commands/owners.js';
import { policyCommand } from './commands/policy.js';
import { pollerCommand } from './commands/poller.js';
import { redisCommand } from './commands/redis.js';
import { scalerCommand } from './commands/scaler.js';
import { scenarioCommand } from './commands/scenario.js';
import { serversCommand } from './commands/servers.js';
import { simCommand } from './commands/sim.js';
import { tenantsCommand } from './commands/tenants.js';
import { tokenCommand } from './commands/token.js';

export const commands: readonly Command[] = [gatewayCommand, pollerCommand, scalerCommand, allCommand, demoCommand, scenarioCommand, policyCommand, redisCommand, simCommand, serversCommand, tenantsCommand, ownersCommand, tokenCommand];
