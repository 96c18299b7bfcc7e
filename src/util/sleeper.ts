/**
 * Sleeps that can be cut short, for loops that wait between steps and must stop at once:
 * `wake()` ends the sleep in progress (and does nothing between sleeps). One sleep at a time.
 */
export class Sleeper {
  private wakeCurrent: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeCurrent = done;
    }).finally(() => {
      this.wakeCurrent = undefined;
    });
  }

  wake(): void {
    this.wakeCurrent?.();
  }
}
