// Simulated recordings of one server: a meeting created with record=true that had users leaves
// one published "presentation" recording when it is destroyed. Processing is instantaneous;
// the point is that getRecordings/publish/delete/update answer with real data. Pure, no I/O.
import { createHash } from 'node:crypto';
import type { Recording } from '../bbb/types.js';

export type RecordingState = 'processing' | 'processed' | 'published' | 'unpublished' | 'deleted';

export interface RecordingQuery {
  /** External meeting IDs; matched through their sha1, the recordID prefix (as bbb-web does). */
  meetingIDs?: readonly string[];
  /** Record IDs; each acts as a prefix wildcard. Takes priority over meetingIDs. */
  recordIDs?: readonly string[];
  /** Default published + unpublished; 'any' = every state. */
  states?: readonly string[];
  /** meta_* filters, names lower-cased without the prefix. */
  meta?: Readonly<Record<string, string>>;
  offset?: number;
  limit?: number;
}

const DEFAULT_STATES: readonly string[] = ['published', 'unpublished'];

export class RecordingStore {
  // Insertion order = age, so trimming the oldest is a walk from the front.
  private readonly byId = new Map<string, Recording>();

  constructor(private readonly max: number = 1000) {}

  get size(): number {
    return this.byId.size;
  }

  add(recording: Recording): void {
    this.byId.set(recording.recordID, recording);
    for (const id of this.byId.keys()) {
      if (this.byId.size <= this.max) break;
      this.byId.delete(id);
    }
  }

  find(query: RecordingQuery = {}): Recording[] {
    const states = query.states && query.states.length > 0 ? query.states : DEFAULT_STATES;
    const anyState = states.includes('any');
    const prefixes = query.recordIDs?.length
      ? query.recordIDs
      : query.meetingIDs?.length
        ? query.meetingIDs.map((id) => createHash('sha1').update(id).digest('hex'))
        : undefined;
    const out: Recording[] = [];
    for (const rec of this.byId.values()) {
      if (!anyState && !states.includes(rec.state)) continue;
      if (prefixes && !prefixes.some((p) => rec.recordID.startsWith(p))) continue;
      if (query.meta && Object.entries(query.meta).some(([k, v]) => rec.metadata[k] !== v)) continue;
      out.push(rec);
    }
    const offset = Math.max(0, query.offset ?? 0);
    return query.limit === undefined ? out.slice(offset) : out.slice(offset, offset + query.limit);
  }

  /** Exact ids; the ones that exist. */
  private pick(ids: readonly string[]): Recording[] {
    return ids.map((id) => this.byId.get(id)).filter((r): r is Recording => r !== undefined);
  }

  /** False when none of the ids exists (bbb-web's `notFound`). */
  publish(ids: readonly string[], publish: boolean): boolean {
    const found = this.pick(ids);
    for (const rec of found) {
      rec.published = publish;
      rec.state = publish ? 'published' : 'unpublished';
    }
    return found.length > 0;
  }

  delete(ids: readonly string[]): boolean {
    const found = this.pick(ids);
    for (const rec of found) {
      rec.published = false;
      rec.state = 'deleted';
    }
    return found.length > 0;
  }

  /** An empty value removes the key, as updateRecordings does. */
  update(ids: readonly string[], meta: Readonly<Record<string, string>>): boolean {
    const found = this.pick(ids);
    for (const rec of found) {
      for (const [key, value] of Object.entries(meta)) {
        if (value === '') delete rec.metadata[key];
        else rec.metadata[key] = value;
      }
    }
    return found.length > 0;
  }
}
