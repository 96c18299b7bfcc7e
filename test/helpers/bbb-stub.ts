// A minimal BBB API on 127.0.0.1 for the "check a server when it is added" tests: it verifies
// the checksum like bbb-web does and answers getMeetings with real captured XML.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALL_ALGORITHMS, verifyChecksum } from '../../src/bbb/checksum.js';
import type { ChecksumAlgorithm } from '../../src/bbb/checksum.js';
import { fixture } from './fixtures.js';

export interface BbbStub {
  /** The API base, `http://127.0.0.1:<port>/bigbluebutton/api`. */
  apiUrl: string;
  secret: string;
  /** Algorithms of the checksums received, in order. */
  algorithms: ChecksumAlgorithm[];
  /** 'bbb': behave like BBB; 'html': answer a non-BBB page (wrong URL). */
  mode: 'bbb' | 'html';
  close(): Promise<void>;
}

export async function startBbbStub(secret: string): Promise<BbbStub> {
  const state = { mode: 'bbb' as BbbStub['mode'], algorithms: [] as ChecksumAlgorithm[] };
  const server = createServer((req, res) => {
    const [path = '', rawQuery = ''] = (req.url ?? '').split('?', 2);
    if (state.mode === 'html' || path !== '/bigbluebutton/api/getMeetings') {
      res.writeHead(state.mode === 'html' ? 200 : 404, { 'content-type': 'text/html' }).end('<html><body>nginx</body></html>');
      return;
    }
    const checksum = new URLSearchParams(rawQuery).get('checksum') ?? undefined;
    const verdict = verifyChecksum({ callName: 'getMeetings', rawQuery, checksum, secrets: [secret], allowed: ALL_ALGORITHMS });
    if (verdict.ok) state.algorithms.push(verdict.algorithm);
    res
      .writeHead(200, { 'content-type': 'text/xml;charset=utf-8' })
      .end(fixture(verdict.ok ? 'get-meetings-success.xml' : 'failed-checksumError.xml'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/bigbluebutton/api`,
    secret,
    get algorithms() {
      return state.algorithms;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode) {
      state.mode = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
