/**
 * How fast the smoothed rate follows a change: half the weight moves to what came since, every this many ms.
 * A new rate has taken 97 % of the estimate within a second, while one chunk late or early moves it a little.
 */
const HALF_LIFE_MS = 200
/** A sample spans at least this long: the rate over a shorter window is noise. */
const MIN_WINDOW_MS = 50

/**
 * A transfer rate, smoothed exponentially over time. The weight of the past decays with the time elapsed, not
 * with the number of samples, so the estimate does not depend on who asks or how often: a reader polling once
 * after a 2 s stall sees the same fall as a listener sampled every 100 ms, where a fixed weight per sample
 * showed the first a fall of 30 %.
 */
export class SmoothedRate {
  /** Bytes per second. */
  value = 0
  #at: number
  #loaded = 0

  constructor(now: number) {
    this.#at = now
  }

  /** Measures from here on, forgetting the window so far (the wait for headers, a checkpoint's restored bytes). */
  restart(now: number, loaded: number): void {
    this.#at = now
    this.#loaded = loaded
  }

  /** Takes in what was loaded since the last sample, if that was long enough ago to tell a rate. */
  sample(now: number, loaded: number): void {
    const elapsed = now - this.#at
    if (elapsed < MIN_WINDOW_MS) return
    const instant = ((loaded - this.#loaded) * 1000) / elapsed
    const kept = 0.5 ** (elapsed / HALF_LIFE_MS)
    // The first bytes set the rate; after them, a burst or a stall moves it without making it jump.
    this.value = this.value === 0 ? instant : this.value * kept + instant * (1 - kept)
    this.#at = now
    this.#loaded = loaded
  }
}
