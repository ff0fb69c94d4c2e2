import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ProgressReporter } from '../../src/cli/progress-reporter.ts'
import type { Progress } from '../../src/index.ts'

const MiB = 1024 * 1024

/** A stand-in for standard error that keeps what was written. */
function screen(tty: boolean) {
  let text = ''
  return {
    out: { isTTY: tty, columns: 120, write: (chunk: string) => (text += chunk) },
    text: () => text,
    /** What a terminal shows last: the text after the last carriage return of the last line. */
    shown: () => text.split('\n').filter(Boolean).at(-1)?.split('\r').at(-1)?.replace('\x1b[2K', '') ?? '',
  }
}

function progress(fields: Partial<Progress>): Progress {
  return { loaded: 0, items: 0, bytesPerSecond: 0, attempt: 1, state: 'streaming', ...fields }
}

// The reporter reads the clock for the elapsed time and redraws on an interval: both are driven by hand here.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('sluice get progress after --resume', () => {
  it('counts only the reconnects of this run, not those of the run the checkpoint came from', () => {
    // The checkpoint of a run that reconnected once (attempt 2): the request that continues it is attempt 3.
    const now = progress({ loaded: 20 * MiB, total: 40 * MiB, percent: 50, attempt: 3 })
    const tty = screen(true)
    const reporter = new ProgressReporter(tty.out)
    reporter.track(() => now, 2)
    expect(tty.shown()).toContain('20.0 MiB of 40.0 MiB')
    expect(tty.shown()).toContain('1 reconnect')

    now.attempt = 4
    vi.advanceTimersByTime(100)
    expect(tty.shown()).toContain('2 reconnects')
    expect(tty.shown()).not.toContain('3 reconnects')
    reporter.stop(false)
  })

  it('counts the request that continued the download, and the times it was asked again, as this run’s', () => {
    // A checkpoint at attempt 2, continued after two busy answers: the third request from it streams.
    const now = progress({ loaded: 20 * MiB, total: 40 * MiB, percent: 50, attempt: 5 })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out)
    reporter.track(() => now, 2)
    vi.advanceTimersByTime(10_000)
    Object.assign(now, { loaded: 40 * MiB, percent: 100, state: 'done' })
    reporter.stop(true)
    expect(plain.shown()).toBe(
      'sluice: done: 40.0 MiB in all; this run: 20.0 MiB in 10s (2.0 MiB/s), 3 reconnects',
    )
  })

  it('counts no reconnect for a checkpoint from before the first byte, which is asked again as a first request', () => {
    const now = progress({ total: 40 * MiB, percent: 0 })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out)
    reporter.track(() => now, 3)
    vi.advanceTimersByTime(1000)
    expect(plain.text()).not.toContain('reconnect')
    // Its reconnects count from 1, as a first request's do.
    Object.assign(now, { loaded: MiB, percent: 2.5, attempt: 2 })
    vi.advanceTimersByTime(1000)
    expect(plain.shown()).toContain('1 reconnect')
    reporter.stop(false)
  })

  it('sums up the whole download, then what this run fetched, with the rate of this run alone', () => {
    const now = progress({ loaded: 23.4 * MiB, total: 47.7 * MiB, percent: 49, attempt: 6 })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out)
    reporter.track(() => now)
    vi.advanceTimersByTime(10_000)
    Object.assign(now, { loaded: 47.7 * MiB, percent: 100, state: 'done', attempt: 7 })
    reporter.stop(true)
    expect(plain.shown()).toBe(
      'sluice: done: 47.7 MiB in all; this run: 24.3 MiB in 10s (2.4 MiB/s), 1 reconnect',
    )
  })

  it('says which item count is the whole download’s and which is this run’s, as it does for bytes', () => {
    // The checkpoint's 3000 records count in the stream's progress: the resumed stream starts there.
    const now = progress({ loaded: 23.4 * MiB, total: 47.7 * MiB, percent: 49, items: 3000 })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out, { items: 'record' })
    reporter.track(() => now)
    vi.advanceTimersByTime(10_000)
    Object.assign(now, { loaded: 47.7 * MiB, percent: 100, state: 'done', items: 4000 })
    reporter.stop(true)
    expect(plain.shown()).toBe(
      'sluice: done: 47.7 MiB, 4000 records in all; this run: 24.3 MiB, 1000 records in 10s (2.4 MiB/s)',
    )
  })

  it('sums up a download that did not resume as before: its size, time and rate', () => {
    const now = progress({ total: 6 * MiB, percent: 0 })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out)
    reporter.track(() => now)
    vi.advanceTimersByTime(3000)
    Object.assign(now, { loaded: 6 * MiB, percent: 100, state: 'done' })
    reporter.stop(true)
    expect(plain.shown()).toBe('sluice: done: 6.0 MiB in 3.0s (2.0 MiB/s)')
  })
})

describe('sluice get progress at the end on a terminal', () => {
  it('ends with the summary line in place of the bar, not with a bar that says nothing of the outcome', () => {
    const now = progress({ total: 6 * MiB, percent: 0, bytesPerSecond: 2 * MiB })
    const tty = screen(true)
    const reporter = new ProgressReporter(tty.out, { items: 'record' })
    reporter.track(() => now)
    vi.advanceTimersByTime(3000)
    Object.assign(now, { loaded: 6 * MiB, percent: 100, state: 'done', items: 4000 })
    reporter.stop(true)
    // The bar erased, then the summary on a line of its own: what the terminal keeps is the outcome.
    expect(tty.text().endsWith('\r\x1b[2Ksluice: done: 6.0 MiB in 3.0s (2.0 MiB/s), 4000 records\n')).toBe(
      true,
    )
  })

  it('ends a resumed run with the whole download’s counts and this run’s, as a plain run does', () => {
    const now = progress({ loaded: 23.4 * MiB, total: 47.7 * MiB, percent: 49, items: 3000, attempt: 3 })
    const tty = screen(true)
    const reporter = new ProgressReporter(tty.out, { items: 'record' })
    reporter.track(() => now, 2)
    vi.advanceTimersByTime(10_000)
    Object.assign(now, { loaded: 47.7 * MiB, percent: 100, state: 'done', items: 4000, attempt: 4 })
    reporter.stop(true)
    const summary =
      'sluice: done: 47.7 MiB, 4000 records in all; this run: 24.3 MiB, 1000 records in 10s (2.4 MiB/s), 2 reconnects'
    expect(tty.text().endsWith(`\r\x1b[2K${summary}\n`)).toBe(true)
  })

  it('erases the bar and says no "done" when the run stops short, leaving the line to the reason', () => {
    const now = progress({ loaded: 2 * MiB, total: 6 * MiB, percent: 100 / 3 })
    const tty = screen(true)
    const reporter = new ProgressReporter(tty.out)
    reporter.track(() => now)
    vi.advanceTimersByTime(300)
    reporter.stop(false)
    reporter.say('sluice: interrupted after 2097152 bytes of output.', true)
    expect(tty.text()).not.toContain('done')
    expect(tty.text().endsWith('\r\x1b[2Ksluice: interrupted after 2097152 bytes of output.\n')).toBe(true)
  })
})

describe('sluice get progress near the end', () => {
  it('shows 99% and a bar short of full at 47.5 of 47.7 MiB, and 100% only once done', () => {
    const now = progress({ loaded: 47.5 * MiB, total: 47.7 * MiB, percent: (47.5 / 47.7) * 100 })
    const tty = screen(true)
    const reporter = new ProgressReporter(tty.out)
    reporter.track(() => now)
    expect(tty.shown()).toMatch(/^ 99% \[#+-\]/)

    Object.assign(now, { loaded: 47.7 * MiB, percent: 100, state: 'done' })
    vi.advanceTimersByTime(100)
    expect(tty.shown()).toMatch(/^100% \[#+\]/)
    reporter.stop(false)
  })

  it('never prints 100.0% on a plain line before the end', () => {
    const now = progress({ loaded: 9996, total: 10_000, percent: 99.96 })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out)
    reporter.track(() => now)
    vi.advanceTimersByTime(1000)
    expect(plain.shown()).toContain('(99.9%)')
    reporter.stop(false)
  })
})

describe('sluice get progress on a narrow terminal', () => {
  it('keeps the bar within the width of a terminal narrower than 40 columns, so a redraw does not wrap', () => {
    // A line that wraps takes two rows: the carriage return and erase of the next redraw reach only the second,
    // and each redraw leaves a row behind.
    let text = ''
    const out = { isTTY: true, columns: 30, write: (chunk: string) => (text += chunk) }
    const now = progress({ loaded: 47 * MiB, total: 48 * MiB, percent: 97.9, items: 1234, attempt: 2 })
    const reporter = new ProgressReporter(out, { items: 'record' })
    reporter.track(() => now)
    vi.advanceTimersByTime(300)
    reporter.stop(false)
    const drawn = text.split('\r\x1b[2K').filter(Boolean)
    expect(drawn.length).toBeGreaterThan(1)
    for (const line of drawn) expect(line.length).toBeLessThanOrEqual(29)
  })
})

describe('sluice get progress counts', () => {
  it('says 1 record and 1 reconnect, and 2 records and 2 reconnects, in progress lines and the summary', () => {
    const now = progress({})
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out, { items: 'record' })
    reporter.track(() => now)
    Object.assign(now, { loaded: 100, items: 1, attempt: 2 })
    vi.advanceTimersByTime(1000)
    expect(plain.shown()).toBe('sluice: 100 B, 0 B/s, 1 record, 1 reconnect')
    Object.assign(now, { items: 2, attempt: 3 })
    vi.advanceTimersByTime(1000)
    expect(plain.shown()).toBe('sluice: 100 B, 0 B/s, 2 records, 2 reconnects')
    Object.assign(now, { state: 'done' })
    reporter.stop(true)
    expect(plain.shown()).toBe('sluice: done: 100 B in 2.0s (50 B/s), 2 records, 2 reconnects')

    const fresh = screen(false)
    const one = new ProgressReporter(fresh.out, { items: 'line' })
    const line = progress({ loaded: 0, items: 0 })
    one.track(() => line)
    Object.assign(line, { loaded: 6, items: 1, state: 'done' })
    vi.advanceTimersByTime(1000)
    one.stop(true)
    expect(fresh.shown()).toBe('sluice: done: 6 B in 1.0s (6 B/s), 1 line')
  })
})

describe('sluice get progress on a stream gone silent', () => {
  it('prints a plain line only when it changed, and the same one again only every 30 s', () => {
    const now = progress({ loaded: 2 * MiB, total: 6 * MiB, percent: 100 / 3, bytesPerSecond: MiB })
    const plain = screen(false)
    const reporter = new ProgressReporter(plain.out)
    reporter.track(() => now)
    vi.advanceTimersByTime(1000)
    expect(plain.text()).toBe('sluice: 2.0 MiB of 6.0 MiB (33.3%), 1.0 MiB/s\n')
    // Silent from here: the line does not change, and a CI log does not fill with copies of it.
    now.bytesPerSecond = 0
    vi.advanceTimersByTime(1000)
    const silent = 'sluice: 2.0 MiB of 6.0 MiB (33.3%), 0 B/s\n'
    expect(plain.text()).toBe(`sluice: 2.0 MiB of 6.0 MiB (33.3%), 1.0 MiB/s\n${silent}`)
    vi.advanceTimersByTime(29_000)
    expect(plain.text().split(silent)).toHaveLength(2)
    // Still alive: the same line again 30 s after it was printed.
    vi.advanceTimersByTime(1000)
    expect(plain.text().split(silent)).toHaveLength(3)
    // A change is printed at the next second.
    now.loaded = 3 * MiB
    vi.advanceTimersByTime(1000)
    expect(plain.shown()).toBe('sluice: 3.0 MiB of 6.0 MiB (33.3%), 0 B/s')
    reporter.stop(false)
  })
})
