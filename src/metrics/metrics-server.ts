// /metrics and /health on a listener of their own, for a role without the gateway's HTTP server
// (amphi poller). Nothing else is served.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { redactText } from '../log/redact-text.js';

/** Where the listener's failures go: the role's pino logger, or one line on stderr. */
export interface MetricsServerLog {
  error(fields: object, msg: string): void;
}

const stderrLog: MetricsServerLog = {
  error: (fields, msg) => {
    const err = (fields as { err?: unknown }).err;
    const detail = err instanceof Error ? err.message : String(err);
    process.stderr.write(`amphi: ${msg}: ${redactText(detail)}\n`);
  },
};

export interface MetricsServer {
  /** http://host:port */
  address: string;
  /** The listener itself (tests). */
  server: Server;
  close(): Promise<void>;
}

/**
 * A failed collection answers 500 with a generic body (the error, which may name internal
 * addresses, goes to the log); a server error after start-up (EMFILE) is logged, never thrown.
 */
export async function serveMetrics(registry: Registry, listen: { host: string; port: number }, log: MetricsServerLog = stderrLog): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => {
          log.error({ err }, 'metrics: collecting failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      // From now on an error (EMFILE on accept, …) is logged: without a listener it would end the process.
      server.on('error', (err) => log.error({ err }, 'metrics listener error'));
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its connection open between scrapes.
        server.closeAllConnections();
      }),
  };
}
