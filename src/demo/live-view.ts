// Drives the view: takes a snapshot every tick and, on a terminal, redraws the frame in place
// (cursor home, each line cleared to its end, the rest of the screen cleared) so it does not
// flicker; elsewhere (a pipe, a CI log) prints one summary line every few seconds.
import type { DemoSnapshot } from './view.js';
import { renderFrame, renderSummaryLine } from './view.js';

export interface LiveViewOptions {
  collect: () => Promise<DemoSnapshot>;
  write: (text: string) => void;
  /** Redraw in place (a terminal), or print summary lines. */
  tty: boolean;
  color: boolean;
  /** Terminal size, read at every frame (the user may resize). */
  columns?: () => number | undefined;
  rows?: () => number | undefined;
  /** Time between snapshots. Default 500 ms. */
  tickMs?: number;
  /** Time between summary lines when not on a terminal. Default 5000 ms. */
  lineEveryMs?: number;
  /** Told when a snapshot failed (e.g. Redis went away); the view keeps going. */
  onError?: (err: unknown) => void;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_SCREEN = '\x1b[2J';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

export class LiveView {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private lastLineAt = -Infinity;
  private lastSnapshot: DemoSnapshot | undefined;

  constructor(private readonly opts: LiveViewOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.opts.tty) this.opts.write(`${HIDE_CURSOR}${CLEAR_SCREEN}`);
    this.schedule(0);
  }

  /** Stops ticking, draws the last state once more (so the final frame is accurate) and restores the cursor. */
  async stop(): Promise<DemoSnapshot | undefined> {
    if (!this.running) return this.lastSnapshot;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await this.tick(true);
    if (this.opts.tty) this.opts.write(`${SHOW_CURSOR}\n`);
    return this.lastSnapshot;
  }

  private schedule(ms: number): void {
    // A timer after each finished tick (not setInterval): a slow snapshot never piles up.
    this.timer = setTimeout(() => {
      this.ticking = this.tick(false).finally(() => {
        this.ticking = undefined;
        if (this.running) this.schedule(this.opts.tickMs ?? 500);
      });
    }, ms);
  }

  private async tick(final: boolean): Promise<void> {
    let snapshot: DemoSnapshot;
    try {
      snapshot = await this.opts.collect();
    } catch (err) {
      this.opts.onError?.(err);
      return;
    }
    this.lastSnapshot = snapshot;
    if (this.opts.tty) {
      // One column spare: a line that fills the last column makes some terminals wrap.
      const columns = this.opts.columns?.();
      const lines = renderFrame(snapshot, { color: this.opts.color, width: columns ? columns - 1 : 100, height: this.opts.rows?.() });
      this.opts.write(`${HOME}${lines.map((l) => `${l}${CLEAR_LINE_END}`).join('\n')}${CLEAR_BELOW}`);
      return;
    }
    const now = snapshot.elapsedMs;
    if (final || now - this.lastLineAt >= (this.opts.lineEveryMs ?? 5000)) {
      this.lastLineAt = now;
      this.opts.write(`${renderSummaryLine(snapshot)}\n`);
    }
  }
}
