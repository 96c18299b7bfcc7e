// The unmodified npm client bigbluebutton-js against the simulator and against the gateway.
import { Poller, pollerSettings } from '../../src/poller/poller.js';
import { SimServer } from '../../src/simulator/sim-server.js';
import { bbbJsContract } from '../helpers/bbb-js-contract.js';
import { GATEWAY_SECRET, startTestPool } from '../helpers/gateway.js';

bbbJsContract('the simulator', async () => {
  const sim = await SimServer.start({ sweepIntervalMs: 0 });
  return { host: `${sim.baseUrl}/bigbluebutton`, secret: sim.secret, sync: async () => {}, close: () => sim.close() };
});

bbbJsContract('the gateway over a simulated pool', async () => {
  const pool = await startTestPool({ servers: 3, label: 'bbb-js' });
  const gw = await pool.startGateway();
  const poller = new Poller({ ...pollerSettings(pool.settings), store: pool.pollerStore() });
  await poller.pollOnce();
  return {
    host: `${gw.url}/bigbluebutton`,
    secret: GATEWAY_SECRET,
    sync: async () => {
      await poller.pollOnce();
    },
    close: () => pool.close(),
  };
});
