// The floor of the join benchmark: the cheapest 302 Node's http module can give, in a process
// of its own (as the gateway is), measured by the same load generator with the same
// connections and the same answer checks. Its Location is a join on a fake pool server
// carrying the request's query, so the answer is as long as a gateway's and names the same user.
// Prints `floor listening on <port> <pool server url>`.
import { createServer } from 'node:http';

const POOL_SERVER = 'http://127.0.0.1:1/bigbluebutton/api';

const server = createServer((req, res) => {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  res.writeHead(302, { location: `${POOL_SERVER}/join?${q === -1 ? '' : url.slice(q + 1)}`, 'content-length': 0 });
  res.end();
});
server.listen(0, '127.0.0.1', () => console.log(`floor listening on ${server.address().port} ${POOL_SERVER}`));
process.on('SIGTERM', () => process.exit(0));
