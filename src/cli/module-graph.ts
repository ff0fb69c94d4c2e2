import * as nodeModule from 'node:module'
import { fileURLToPath } from 'node:url'

/** The variable by which `sluice dev --watch` tells the `sluice dev` it starts that it watches it. */
export const WATCHED_ENV = 'SLUICE_DEV_WATCHED'

/**
 * What a watched `sluice dev` tells its watcher: the files of the module graph it loaded and how loading went
 * (`served`; `not-loaded`, a module that a fixed save may make load; `not-listening`, an address that no edit
 * changes), or, in `imported`, modules that the handler imported later, while it served.
 */
export interface GraphReport {
  sluiceDevGraph: 'served' | 'not-loaded' | 'not-listening' | 'imported'
  files: string[]
}

/**
 * What a watcher sends a `sluice dev` it watches: `sluiceDevWatching`, the files of its report are watched now;
 * `sluiceDevStop`, stop as this signal would stop you.
 */
export type WatcherMessage = { sluiceDevWatching: true } | { sluiceDevStop: NodeJS.Signals }

/** A watched `sluice dev`'s side of the watch. */
export interface WatchedGraph {
  /**
   * Sends the files loaded since the last report, and how loading went; resolves once the watcher watches them,
   * so that a save made once the URL is out is seen.
   */
  report(outcome: GraphReport['sluiceDevGraph']): Promise<void>
  /** Calls `stop` when the watcher asks this process to stop, or is gone. */
  onStop(stop: (signal: NodeJS.Signals) => void): void
}

/** The field `key` of `message`, when it is an object. */
const field = (message: unknown, key: string): unknown =>
  typeof message === 'object' && message !== null ? (message as Record<string, unknown>)[key] : undefined

/** Whether `message`, from a watched `sluice dev`, is a {@link GraphReport}. */
export function isGraphReport(message: unknown): message is GraphReport {
  return typeof field(message, 'sluiceDevGraph') === 'string' && Array.isArray(field(message, 'files'))
}

/**
 * In a `sluice dev` that `sluice dev --watch` started (with an IPC channel and {@link WATCHED_ENV}), records every
 * file the module graph loads from here on, the handler module and all it imports (`file:` URLs outside
 * node_modules), and returns how to report them to the watcher; elsewhere, `undefined`. Call it before the
 * handler module loads. Where `module.registerHooks` is missing (Node before 22.15), the report has no files,
 * and the watcher watches the handler module alone.
 *
 * @example
 * const graph = watchedGraph()
 * await graph?.report('served')
 */
export function watchedGraph(): WatchedGraph | undefined {
  const watched = process.env[WATCHED_ENV] === '1'
  // Not left to the handler's own child processes: a `sluice dev` it starts is not watched.
  delete process.env[WATCHED_ENV]
  const send = process.send?.bind(process)
  if (!watched || send === undefined) return undefined
  // The channel must not keep the process alive: a `sluice dev` that fails to load exits as it would unwatched.
  process.channel?.unref()
  const files = new Set<string>()
  let fresh: string[] = []
  let reported = false
  let flushing = false
  const sendFresh = (outcome: GraphReport['sluiceDevGraph']): void => {
    // A watcher gone (killed) leaves nobody to tell.
    if (process.connected) send({ sluiceDevGraph: outcome, files: fresh } satisfies GraphReport)
    fresh = []
  }
  const record = (url: string): void => {
    if (!url.startsWith('file:') || url.includes('/node_modules/')) return
    const file = fileURLToPath(url)
    if (files.has(file)) return
    files.add(file)
    fresh.push(file)
    // A module imported while the server runs (a lazy `import()`) is watched from then on too.
    if (reported && !flushing) {
      flushing = true
      setImmediate(() => {
        flushing = false
        sendFresh('imported')
      })
    }
  }
  // Optional: registerHooks came with Node 22.15 and 23.5, and sluice runs on 22.3.
  const registerHooks = (nodeModule as Partial<typeof nodeModule>).registerHooks
  registerHooks?.({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context)
      record(resolved.url)
      return resolved
    },
  })
  return {
    report(outcome) {
      reported = true
      const { promise, resolve } = Promise.withResolvers<void>()
      const answered = (message?: unknown): void => {
        if (message !== undefined && field(message, 'sluiceDevWatching') !== true) return
        process.off('message', answered)
        process.off('disconnect', answered)
        process.channel?.unref()
        resolve()
      }
      // Kept alive until the answer comes, though nothing else may be left to run (a module that did not load).
      process.channel?.ref()
      process.on('message', answered)
      process.on('disconnect', answered)
      sendFresh(outcome)
      if (!process.connected) answered()
      return promise
    },
    onStop(stop) {
      process.on('message', (message: unknown) => {
        const signal = field(message, 'sluiceDevStop')
        if (typeof signal === 'string') stop(signal as NodeJS.Signals)
      })
      // A watcher that was killed leaves no server behind it.
      process.on('disconnect', () => stop('SIGTERM'))
      if (!process.connected) stop('SIGTERM')
    },
  }
}
