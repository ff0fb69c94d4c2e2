import { printable } from '../core/errors/printable.ts'
import type { Progress } from '../index.ts'
import { count } from './count.ts'

/** Where progress goes: standard error, or a stand-in in tests. */
export interface ProgressOutput {
  write(text: string): unknown
  isTTY?: boolean | undefined
  columns?: number | undefined
}

/** Options of {@link ProgressReporter}. */
export interface ProgressReporterOptions {
  /** Print nothing at all. Default `false`. */
  quiet?: boolean
  /** What an item is called, in the singular (`'record'`, `'event'`…); `undefined` to not count them. */
  items?: string | undefined
  /** How often a TTY bar is redrawn, in ms. Default 100. */
  redrawMs?: number
  /** How often a plain line is printed when the output is not a TTY, in ms, when it changed. Default 1000. */
  lineMs?: number
}

/** How often a plain line that did not change (a stream gone silent) is printed again, in ms: still alive. */
const SAME_LINE_MS = 30_000

/**
 * Reports a download's progress on standard error: a one-line bar redrawn in place when it is a TTY (bytes,
 * total, percent, rate, ETA, reconnects), plain lines every second otherwise (the same line again only every
 * 30 s, so that a stream gone silent does not fill a log), and in either case a summary line at the end.
 *
 * @example
 * const reporter = new ProgressReporter(process.stderr, { items: 'record' })
 * reporter.track(() => res.progress)
 */
export class ProgressReporter {
  readonly #out: ProgressOutput
  readonly #quiet: boolean
  readonly #tty: boolean
  readonly #items: string | undefined
  readonly #redrawMs: number
  readonly #lineMs: number
  readonly #started: number = Date.now()
  #current: (() => Progress) | undefined
  /** Where this run started: a resumed download's progress counts the runs before it too. */
  #startLoaded = 0
  #startItems = 0
  #startAttempt = 1
  #timer: ReturnType<typeof setInterval> | undefined
  #drawn = false
  /** The last plain line printed, and when. */
  #lastLine = ''
  #lastLineAt = 0

  constructor(out: ProgressOutput, options: ProgressReporterOptions = {}) {
    this.#out = out
    this.#quiet = options.quiet ?? false
    this.#tty = out.isTTY === true
    this.#items = options.items
    this.#redrawMs = options.redrawMs ?? 100
    this.#lineMs = options.lineMs ?? 1000
  }

  /**
   * Starts reporting from `current`, a function that returns the progress now; `resumed`, for a resumed download,
   * is its checkpoint's `attempt`.
   *
   * @example
   * reporter.track(() => res.progress)
   */
  track(current: () => Progress, resumed?: number): void {
    this.#current = current
    const start = current()
    this.#startLoaded = start.loaded
    this.#startItems = start.items
    // The request that continued a resumed download is a reconnect of this run, as are its retries (counted already
    // when the response arrives). A checkpoint from before the first byte is asked again as a first request, from
    // attempt 1: then none is.
    this.#startAttempt = Math.min(start.attempt, resumed ?? start.attempt)
    if (this.#quiet) return
    this.#timer = setInterval(() => this.#tick(), this.#tty ? this.#redrawMs : this.#lineMs)
    // Progress never keeps the process alive.
    this.#timer.unref()
    if (this.#tty) this.#tick()
  }

  /**
   * Prints one line of its own (a note or the reason of a failure) without garbling the bar. Printed even when
   * quiet only if `always` is set. Control characters are shown escaped (`\u001b`): a reason can quote a server's
   * error page, whose escape sequences would otherwise drive the terminal (retitle it, clear it) and whose CR or
   * line breaks could forge a line of sluice's own.
   *
   * @example
   * reporter.say('sluice: resuming at byte 1048576 of 4194304.')
   */
  say(line: string, always = false): void {
    if (this.#quiet && !always) return
    this.#clear()
    this.#out.write(`${printable(line)}\n`)
  }

  /**
   * Stops reporting; `summary: true` prints the summary line, in place of the bar on a TTY.
   *
   * @example
   * reporter.stop(true)
   */
  stop(summary: boolean): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#quiet) return
    // The bar goes in every case: a full one would say no more than the summary, and the last line a terminal
    // shows is the outcome — done, or the failure or interruption said after this.
    this.#clear()
    if (!summary || this.#current === undefined) return
    this.#out.write(`${this.#summary(this.#current())}\n`)
  }

  #tick(): void {
    const p = this.#current?.()
    if (p === undefined) return
    if (this.#tty) {
      this.#draw(p)
      return
    }
    const line = `sluice: ${this.#plain(p)}\n`
    const now = Date.now()
    if (line === this.#lastLine && now - this.#lastLineAt < SAME_LINE_MS) return
    this.#lastLine = line
    this.#lastLineAt = now
    this.#out.write(line)
  }

  #clear(): void {
    if (!this.#drawn) return
    this.#out.write('\r\x1b[2K')
    this.#drawn = false
  }

  #draw(p: Progress): void {
    // One column short of the terminal: a line that reaches its edge wraps, and a redraw erases only its last row.
    const width = Math.max(1, (this.#out.columns || 80) - 1)
    const facts = this.#facts(p, '  ')
    let line: string
    if (p.percent !== undefined) {
      const percent = shown(p, 0)
      const head = `${percent.toFixed(0).padStart(3)}% `
      // A steady bar: its width depends on the terminal, not on the length of the facts beside it.
      const room = Math.min(30, width - head.length - 64)
      line = room >= 10 ? `${head}[${bar(percent, room)}]  ${facts}` : `${head} ${facts}`
    } else {
      line = facts
    }
    this.#out.write(`\r\x1b[2K${line.slice(0, width)}`)
    this.#drawn = true
  }

  /** One plain line: `1.5 MiB of 4.0 MiB (37.5%), 2.0 MiB/s, ETA 1s`. */
  #plain(p: Progress): string {
    return this.#facts(p, ', ')
  }

  #facts(p: Progress, sep: string): string {
    const parts: string[] = []
    const amount =
      p.total === undefined
        ? formatBytes(p.loaded)
        : `${formatBytes(p.loaded)} of ${formatBytes(p.total)}${sep === ', ' && p.percent !== undefined ? ` (${shown(p, 1).toFixed(1)}%)` : ''}`
    parts.push(amount)
    if (p.state === 'reconnecting') parts.push('reconnecting…')
    else parts.push(`${formatBytes(p.bytesPerSecond)}/s`)
    if (p.etaMs !== undefined && p.state === 'streaming')
      parts.push(`ETA ${p.etaMs < 1000 ? '<1s' : formatDuration(p.etaMs)}`)
    if (this.#items !== undefined) parts.push(count(p.items, this.#items))
    const reconnects = this.#reconnects(p)
    if (reconnects !== undefined) parts.push(reconnects)
    return parts.join(sep)
  }

  /** The reconnects of this run: the attempts of a resumed download's earlier runs are theirs. */
  #reconnects(p: Progress): string | undefined {
    const n = p.attempt - this.#startAttempt
    return n > 0 ? count(n, 'reconnect') : undefined
  }

  /**
   * `done: 6.0 MiB in 3.0s (2.0 MiB/s), 4000 records`. After a resume, the counts of the whole download and those
   * of this run, each said as such, and this run's time and rate:
   * `done: 47.7 MiB, 4000 records in all; this run: 24.3 MiB, 1000 records in 11s (2.2 MiB/s), 1 reconnect`.
   */
  #summary(p: Progress): string {
    const elapsed = Math.max(1, Date.now() - this.#started)
    const fetched = p.loaded - this.#startLoaded
    const rate = (fetched * 1000) / elapsed
    const counts = (bytes: number, items: number): string =>
      this.#items === undefined ? formatBytes(bytes) : `${formatBytes(bytes)}, ${count(items, this.#items)}`
    const timed = `in ${formatDuration(elapsed)} (${formatBytes(rate)}/s)`
    const reconnects = this.#reconnects(p)
    const line =
      this.#startLoaded > 0 || this.#startItems > 0
        ? `sluice: done: ${counts(p.loaded, p.items)} in all; this run: ${counts(fetched, p.items - this.#startItems)} ${timed}`
        : `sluice: done: ${formatBytes(p.loaded)} ${timed}${this.#items === undefined ? '' : `, ${count(p.items, this.#items)}`}`
    return reconnects === undefined ? line : `${line}, ${reconnects}`
  }
}

/**
 * The percent to show, cut (not rounded) to `digits` decimals: 99.96% of a download is not 100%, which only
 * the end shows.
 */
function shown(p: Progress, digits: number): number {
  const percent = p.percent ?? 0
  if (p.state === 'done') return percent
  const scale = 10 ** digits
  return Math.min(100 - 1 / scale, Math.floor(percent * scale) / scale)
}

function bar(percent: number, width: number): string {
  const filled = Math.min(width, Math.floor((percent / 100) * width))
  return `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`
}

/**
 * Formats a byte count with binary units: `512 B`, `1.5 KiB`, `4.0 MiB`.
 *
 * @example
 * formatBytes(1536) // '1.5 KiB'
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = Math.max(0, n)
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`
}

/**
 * Formats a duration for people: `850ms`, `2.5s`, `12s`, `3m05s`, `1h02m`.
 *
 * @example
 * formatDuration(185_000) // '3m05s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}
