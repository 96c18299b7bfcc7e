import { request } from 'undici';

/**
 * Follows a join as a browser does: the gateway's 302, the server's API join, then its client
 * page, where the simulated user enters. Returns the first Location (the gateway's redirect).
 */
export async function enterMeeting(joinUrl: string): Promise<string> {
  let location = joinUrl;
  let first = '';
  for (let hop = 0; hop < 3; hop++) {
    const res = await request(location);
    await res.body.dump();
    if (res.statusCode !== 302) break;
    location = String(res.headers.location);
    if (hop === 0) first = location;
  }
  return first;
}
