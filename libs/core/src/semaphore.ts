import { afterSettled } from "./after-settled.js";

/** At most `limit` calls of `run` in progress at once; the others wait their turn, first come first served. */
export class Semaphore {
  private active = 0;
  /** A queue with a moving head: thousands of waiters (a large `.map()`) cost O(1) each. */
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(readonly limit: number) {}

  /** Slots nobody holds. */
  get free(): number {
    return this.limit - this.active;
  }

  /** Callers waiting for a slot. */
  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) {
      this.active++;
      return this.holding(work);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.holding(work));
  }

  /** Runs `work` in a slot it holds, released when the work settles (a task run's path: few promises, see afterSettled). */
  private holding<T>(work: () => Promise<T>): Promise<T> {
    let working: Promise<T>;
    try {
      working = Promise.resolve(work());
    } catch (error) {
      this.release();
      return Promise.reject(error);
    }
    return afterSettled(working, () => this.release());
  }

  private release(): void {
    const next = this.waiting[this.head];
    if (!next) {
      this.active--;
      return;
    }
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    next(); // the slot passes straight to the next waiter
  }
}
