import type { Registry } from 'prom-client';
import type { Store } from '../state/store.js';
import { scrapeGauges } from './scrape-gauges.js';

// Pool gauges are read from Redis when Prometheus scrapes, so every replica reports the same
// pool state and nothing is kept in step between scrapes. Per-server gauges reuse the names
// ops know from bigbluebutton-exporter (bbb_*), with a `server` label.

export function registerPoolCollector(registry: Registry, store: Store, fadeMs: number): void {
  const gauge = scrapeGauges(registry, collect);

  const serverLoad = gauge('amphi_server_load', 'Measured load plus fading reservations, in load units', ['server']);
  const serverCapacity = gauge('amphi_server_capacity', 'Capacity of the server, in load units', ['server']);
  const serverOnline = gauge('amphi_server_online', '1 when the poller reaches the server', ['server']);
  const serverState = gauge('amphi_server_state', '1 for the state the server is in', ['server', 'state']);
  // Joined on `server` to group any per-server gauge by size class.
  const serverInfo = gauge('amphi_server_info', 'Always 1: the size class of the server', ['server', 'size_class']);
  const meetings = gauge('bbb_meetings', 'Meetings on the server', ['server']);
  const participants = gauge('bbb_meetings_participants', 'Participants on the server', ['server']);
  const voice = gauge('bbb_meetings_voice_participants', 'Voice participants on the server', ['server']);
  const video = gauge('bbb_meetings_video_participants', 'Camera streams on the server', ['server']);
  const overCurve = gauge('amphi_meetings_over_curve', 'Meetings above the camera curve (cameras turned on after joins)', ['server']);
  // Servers' own CPU (node_exporter, read by the poller), while fresh: absent for a server
  // without a metrics URL or whose last polls could not read it.
  const serverCpu = gauge('amphi_server_cpu_utilization', 'CPU utilization its node_exporter reports, 0 to 1', ['server']);
  const capacity = gauge('amphi_pool_capacity', 'Capacity of enabled online servers, in load units');
  const used = gauge('amphi_pool_used', 'Measured load of enabled online servers');
  const reserved = gauge('amphi_pool_reserved', 'Load reserved by young meetings not yet measured');
  const headroom = gauge('amphi_pool_headroom', 'Capacity left for new meetings on enabled online servers');
  const servers = gauge('amphi_pool_servers', 'Servers by health and state', ['health', 'state']);

  const all = [serverLoad, serverCapacity, serverOnline, serverState, serverInfo, meetings, participants, voice, video, overCurve, servers];
  async function collect(): Promise<void> {
    const { servers: records, views } = await store.snapshot(fadeMs);
    for (const g of all) g.reset();
    serverCpu.reset();
    let cap = 0;
    let usedLoad = 0;
    let total = 0;
    const counts = new Map<string, number>();
    records.forEach((s, i) => {
      const view = views[i]!;
      serverLoad.set({ server: s.id }, view.load);
      serverCapacity.set({ server: s.id }, s.capacity);
      serverOnline.set({ server: s.id }, s.health === 'online' ? 1 : 0);
      for (const state of ['enabled', 'cordoned', 'disabled']) serverState.set({ server: s.id, state }, s.state === state ? 1 : 0);
      serverInfo.set({ server: s.id, size_class: s.sizeClass }, 1);
      meetings.set({ server: s.id }, s.meetings);
      participants.set({ server: s.id }, s.participants);
      voice.set({ server: s.id }, s.voice);
      video.set({ server: s.id }, s.videos);
      overCurve.set({ server: s.id }, s.overCurve);
      if (s.cpu !== undefined && s.health === 'online') serverCpu.set({ server: s.id }, s.cpu);
      const key = `${s.health}|${s.state}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (s.state === 'enabled' && s.health === 'online') {
        cap += s.capacity;
        usedLoad += s.measuredLoad;
        total += view.load;
      }
    });
    for (const [key, n] of counts) {
      const [health, state] = key.split('|');
      servers.set({ health: health!, state: state! }, n);
    }
    capacity.set(cap);
    used.set(usedLoad);
    reserved.set(total - usedLoad);
    headroom.set(cap - total);
  }
}
