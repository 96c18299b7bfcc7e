// A transparent HTTP proxy in front of one simulated BBB server that records every request the
// gateway (or a followed redirect) sends upstream: method, raw URL and body. Security tests
// read it to see which upstream meeting a call really addressed, for calls whose effect the
// simulator does not keep (insertDocument, sendChatMessage).
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ProxiedRequest {
  seq: number;
  method: string;
  /** The request target exactly as received. */
  url: string;
  body: string;
}

export interface RecordingProxy {
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  log: ProxiedRequest[];
  /** Requests recorded after `mark` (a value of `log.length`). */
  since(mark: number): ProxiedRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const log: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      log.push({ seq: log.length, method: req.method ?? 'GET', url: req.url ?? '', body: body.toString('utf8') });
      const headers = { ...req.headers, host: to.host };
      const upstream = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    log,
    since: (mark) => log.slice(mark),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
