import type { MeetingInfo } from '../bbb/types.js';
import type { ServerHealth, ServerState } from '../placement/choose.js';

export type { ServerHealth, ServerState };

export interface ServerRecord extends Required<PolledTotals> {
  id: string;
  /** The server's API base, `…/bigbluebutton/api`. */
  url: string;
  secret: string;
  /**
   * Where its node_exporter serves `node_cpu_seconds_total` (e.g. `http://bbb1:9100/metrics`);
   * absent: the server's CPU is unknown and the load model alone measures it.
   */
  metricsUrl?: string;
  /** Capacity in load units. */
  capacity: number;
  /**
   * The policy's size class the server was added as (small, standard, large…), or 'custom'
   * when it was given a capacity of no class.
   */
  sizeClass: string;
  /** Who created it: '' for a server added by hand, else the scaler's provider (e.g. 'scaleway'). */
  managedBy: string;
  tags: string[];
  state: ServerState;
  /** When `state` last changed, ms (its `addedAt` if it never changed since). */
  stateSince: number;
  health: ServerHealth;
  addedAt: number;
  /** When the poller last measured the totals (0 before the first poll; totals are 0 then). */
  polledAt: number;
  failures: number;
  successes: number;
  lastError: string;
  /**
   * CPU utilization (0..1) from the server's node_exporter, as of `cpuAt`; absent when it
   * reports none, or when the last polls could not read it (the poller clears a stale one).
   */
  cpu?: number;
  cpuAt?: number;
  /** The previous node_exporter sample (poller/node-cpu.ts encodeCpuSample), for the next rate. */
  cpuSample?: string;
  /**
   * The load model's figure of what was polled; `measuredLoad` is this or, when the CPU says
   * more, cpu × capacity (placement/cpu-load.ts). Absent on records polled before it existed.
   */
  modelLoad?: number;
}

export interface NewServer {
  url: string;
  secret: string;
  capacity: number;
  /** Default: the size class of that capacity (DEFAULT_SIZE_CLASSES), else 'custom'. */
  sizeClass?: string;
  /** Default '' (added by hand); the provider's name for a server the scaler created. */
  managedBy?: string;
  tags?: string[];
  state?: ServerState;
  health?: ServerHealth;
  /** Chosen by the registry when absent. */
  id?: string;
  /** Its node_exporter's metrics URL, when it has one (http or https). */
  metricsUrl?: string;
}

export type MeetingStatus = 'creating' | 'running';

export interface MeetingRecord {
  ref: string;
  tenant: string;
  meetingID: string;
  /** The meeting ID on the BBB server (tenant namespace applied). */
  upstreamID: string;
  server: string;
  createdAt: number;
  /** Load units reserved at placement (fades, see placement/load-model). */
  reserved: number;
  measuredLoad: number;
  status: MeetingStatus;
  /** Placed on a server without room because no server had any (the pool was full). */
  overcommitted: boolean;
  /** The meeting as its server last described it (poll or create), tenant-local meetingID. */
  info?: MeetingInfo;
  /** Free-form placement facts (profile, hints), JSON in Redis. */
  extra: Record<string, unknown>;
}

export interface TenantRecord {
  name: string;
  secrets: string[];
  hostnames: string[];
  /** Quotas and policy defaults; interpreted by the policy layer. */
  settings: Record<string, unknown>;
}

/** Limits a meeting was created with, enforced at every join. */
export interface MeetingLimits {
  profile: string;
  /** 0 = only the curve limits the meeting. */
  maxParticipants: number;
  moderatorMargin: number;
}

/** How the profile of a meeting was chosen (policy/profiles.ts MeetingPolicy.source). */
export type ProfileSource = 'param' | 'hint' | 'tenant';

/** One ended meeting of a tenant sized by its default profile: what it reached (tenant-sizes list). */
export interface TenantSizeSample {
  /** The most participants, and cameras, any poll saw in it. */
  participants: number;
  cameras: number;
  /** The profile it ran under. */
  profile: string;
  /** When the poller forgot it (ms). */
  endedAt: number;
}

/** What the poller measured of one meeting. */
export interface PolledMeeting {
  tenant: string;
  meetingID: string;
  upstreamID: string;
  createTime: number;
  measuredLoad: number;
  /** As the server described it, with the tenant-local meetingID. */
  info: MeetingInfo;
  /**
   * The limits the gateway created it with, as the server echoes them (metadata, maxUsers):
   * restored when the meeting is re-pinned after Redis lost them.
   */
  limits?: MeetingLimits;
}

/** Server-wide totals written with a successful poll, and read back on the server record. */
export interface PolledTotals {
  meetings: number;
  participants: number;
  voice: number;
  videos: number;
  streamsDelivered: number;
  measuredLoad: number;
  /** Meetings whose live counts are above the camera curve. */
  overCurve?: number;
}

/**
 * What a poll learned of the server's CPU, written beside the totals. `cpu: ''` clears a
 * reading that is no longer fresh; absent fields are left as they are.
 */
export interface PolledCpu {
  /** The load model's figure (measuredLoad may be more: placement/cpu-load.ts). */
  modelLoad?: number;
  cpu?: number | '';
  cpuAt?: number;
  cpuSample?: string;
}
