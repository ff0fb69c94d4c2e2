import { statSync, truncateSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import {
  type Checkpoint,
  isLimitError,
  isParseError,
  isResumeError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../index.ts'
import {
  loadCheckpointFile,
  outputTail,
  removeCheckpointFile,
  type SavedCheckpoint,
  type SavedDownload,
  saveCheckpointFile,
} from './checkpoint-file.ts'
import { count } from './count.ts'
import { dieBy } from './die-by-signal.ts'
import {
  describe,
  isDrop,
  noWayToContinue,
  otherMode,
  pastContinuing,
  refusesCheckpoints,
} from './get-errors.ts'
import { type GetOptions, getUsage, type OutputMode, parseGetArgs, UsageError } from './get-options.ts'
import { OutputSink } from './output-sink.ts'
import { ProgressReporter } from './progress-reporter.ts'

/** Least time between two saves of the checkpoint file while downloading, in ms. */
const SAVE_EVERY_MS = 250

/** What to do about an output file that cannot be continued; the file beside it makes --resume start over too. */
const START_OVER = 'run again without --resume to start over (with --resume, it starts over too).'

/** What the progress counts, by `--as` mode (singular): `undefined` to count nothing. */
const ITEMS: Record<OutputMode, string | undefined> = {
  bytes: undefined,
  text: undefined,
  lines: 'line',
  ndjson: 'record',
  sse: 'event',
  json: undefined,
}

/**
 * `sluice get <url>`: streams a response to standard output or a file as it arrives, with progress on standard
 * error and resume across runs; resolves with the exit code (0 done, 1 failed, 2 bad usage, 130 interrupted,
 * 143 terminated, 129 hung up: the bin then dies by that signal). A second signal while it stops ends the process
 * at once, by that signal.
 *
 * @example
 * process.exitCode = await run(['https://example.com/big.bin', '-o', 'big.bin', '--resume'])
 */
export async function run(args: string[]): Promise<number> {
  let options: ReturnType<typeof parseGetArgs>
  try {
    options = parseGetArgs(args)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`sluice: ${error.message}\n\n${getUsage}\n`)
    return 2
  }
  if ('help' in options) {
    process.stdout.write(`${getUsage}\n`)
    return 0
  }
  return download(options)
}

/** Why the download stopped early: a signal (exit 128 + its number). */
interface Interruption {
  signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'
  code: number
}

/** What a stop left beside the output file: a checkpoint to continue from, word to start over, or nothing. */
type Left = 'checkpoint' | 'restart' | 'none'

async function download(options: GetOptions): Promise<number> {
  // Progress and notes are advice: a reader of standard error that went away (`2>&1 | head -1`) must stop neither
  // the download nor its exit code, as the write error, unhandled, would (exit 1, the output incomplete).
  process.stderr.off('error', ignore).on('error', ignore)
  // The body on the terminal that shows progress too: the bar would be drawn into it, over a line in progress.
  const onScreen =
    options.output === undefined && process.stdout.isTTY === true && process.stderr.isTTY === true
  const reporter = new ProgressReporter(process.stderr, {
    quiet: options.quiet || onScreen,
    items: ITEMS[options.as],
  })
  const fail = (message: string, code: number): number => {
    reporter.stop(false)
    reporter.say(`sluice: ${oneLine(message)}`, true)
    return code
  }
  const misuse = (message: string): number => {
    reporter.stop(false)
    process.stderr.write(`sluice: ${message}\n\n${getUsage}\n`)
    return 2
  }

  if (!isHttpUrl(options.url))
    return fail(
      `${options.url} is not an http(s) URL; pass an absolute one such as https://example.com/report.`,
      1,
    )

  // The file is opened at the first write, so that a failed request leaves none: a directory that is not there
  // would fail only then, the request (a POST, say) sent for nothing.
  const folder = options.output === undefined ? undefined : dirname(resolve(options.output))
  const unwritable = folder === undefined ? undefined : folderProblem(folder)
  if (unwritable !== undefined) return fail(`cannot write ${options.output}: ${unwritable}`, 1)
  if (options.output !== undefined && isDirectory(options.output))
    return fail(
      `cannot write ${options.output}: it is a directory; pass the name of a file in it with -o.`,
      1,
    )

  // Resuming: the checkpoint, and the output file cut back to what it accounts for — or word to start over.
  let saved: SavedCheckpoint | undefined
  if (options.resume && options.output !== undefined && options.checkpoint !== undefined) {
    let found: SavedDownload | undefined
    try {
      found = prepareResume(options, options.output, options.checkpoint)
    } catch (error) {
      if (error instanceof UsageError) return misuse(error.message)
      return fail(error instanceof Error ? error.message : String(error), 1)
    }
    if (found !== undefined && 'restart' in found) {
      reporter.say(
        `sluice: ${options.output} is an unfinished download that cannot be continued${found.why ? ` (${found.why})` : ''}; starting over.`,
      )
    } else saved = found
  }

  let interrupted: Interruption | undefined
  let res: StreamResponse | undefined
  const abort = new AbortController()
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>()
  const onSignal = (signal: Interruption['signal'], code: number) => () => {
    if (interrupted !== undefined) {
      dieBy(signal) // a second Ctrl-C: end now, by it
      return
    }
    interrupted = { signal, code }
    stop()
    if (res !== undefined) res.detach()
    else abort.abort(new Error('Interrupted.'))
  }
  const onInt = onSignal('SIGINT', 130)
  const onTerm = onSignal('SIGTERM', 143)
  // The terminal closed (or an SSH session dropped): stopped as cleanly, its final checkpoint saved.
  const onHup = onSignal('SIGHUP', 129)
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  process.on('SIGHUP', onHup)

  // A device or a pipe (-o /dev/null) cannot be cut back to a checkpoint: only a regular file keeps one.
  let checkpointPath =
    options.output !== undefined && isDevice(options.output) ? undefined : options.checkpoint
  // A failed save turns checkpoints off, but what was saved before stays beside the output: the end removes it.
  const besidePath = checkpointPath
  // Checkpoints are kept only for a file, and only once the server offers a way to resume (for SSE, that may
  // be decided by the first event id).
  const resumable = checkpointPath !== undefined && options.as !== 'json'
  // What the file beside the output says now.
  let beside: Left = saved === undefined ? 'none' : 'checkpoint'
  const startBytes = saved?.outputBytes ?? 0
  const requested = new URL(options.url).href
  const sink =
    options.output === undefined
      ? OutputSink.stdout()
      : OutputSink.file(options.output, {
          append: saved !== undefined,
          onOpen: () => {
            if (saved !== undefined || checkpointPath === undefined) return
            // A fresh download replaces the file: until its first checkpoint, the file beside it says that it is
            // unfinished and starts over, so a crash at any point leaves nothing that looks complete.
            if (resumable) markRestart('it stopped before its first checkpoint')
            else removeCheckpointFile(checkpointPath)
          },
        })
  let lastSave = Date.now()
  const take = (): Checkpoint | undefined => {
    if (!resumable || res === undefined) return undefined
    try {
      return res.checkpoint()
    } catch (error) {
      if (!isResumeError(error)) throw error
      return undefined
    }
  }
  /** Writes the file beside the output; a failure turns checkpoints off for the rest of the run, saying so. */
  const store = (state: SavedDownload): boolean => {
    if (checkpointPath === undefined) return false
    const path = checkpointPath
    try {
      saveCheckpointFile(path, state)
      beside = 'restart' in state ? 'restart' : 'checkpoint'
      return true
    } catch (error) {
      // The download itself is fine: it goes on, without a way to resume it.
      checkpointPath = undefined
      reporter.say(
        `sluice: could not save the checkpoint at ${path} (${error instanceof Error ? error.message : String(error)}); the download goes on, but --resume will not be able to continue it.`,
        true,
      )
      return false
    }
  }
  const save = (checkpoint: Checkpoint | undefined): void => {
    if (checkpoint !== undefined) store(checkpointState(checkpoint, startBytes + sink.written))
    lastSave = Date.now()
  }
  const checkpointState = (checkpoint: Checkpoint, outputBytes: number): SavedCheckpoint => {
    const state: SavedCheckpoint = {
      version: 1,
      as: options.as,
      url: requested,
      method: options.method,
      outputBytes,
      checkpoint,
    }
    const tail = options.output === undefined ? undefined : outputTail(options.output, outputBytes)
    if (tail !== undefined) state.tail = tail
    return state
  }
  function markRestart(why: string): void {
    store({ version: 1, as: options.as, restart: true, why })
  }

  try {
    try {
      res = await sluice(options.url, requestOptions(options, saved?.checkpoint, abort.signal))
    } catch (error) {
      // A retry that ky gave up on (its timeout) may still be waiting for its headers: end it, and its connection.
      abort.abort(new Error('The request failed.'))
      if (interrupted !== undefined) {
        reporter.say('sluice: interrupted before the response arrived.', true)
        return interrupted.code
      }
      return failed(error)
    }
    const response = res
    if (interrupted !== undefined) response.detach()
    reporter.track(() => response.progress, saved?.checkpoint.attempt)
    if (saved !== undefined) reporter.say(`sluice: resuming ${resumePoint(saved.checkpoint, response)}.`)

    try {
      for await (const piece of pieces(response, options.as, stopped)) {
        if (resumable && Date.now() - lastSave >= SAVE_EVERY_MS) {
          // Save only what is in the file: wait until this write reached the operating system.
          await sink.writeFlushed(piece)
          save(take())
        } else {
          await sink.write(piece)
        }
      }
    } catch (error) {
      // After a Ctrl-C the reader may go away too (`| less`, quit): the run was interrupted all the same.
      if (isBrokenPipe(error) && interrupted === undefined) {
        // The reader went away (`| head`): stop quietly, as a pipeline expects.
        reporter.stop(false)
        await response.cancel()
        return 0
      }
      if (interrupted !== undefined) return await stopInterrupted(interrupted)
      await closeQuietly(sink)
      return failed(error)
    }
    if (interrupted !== undefined) return await stopInterrupted(interrupted)

    await sink.close(true)
    if (besidePath !== undefined) removeCheckpointFile(besidePath)
    reporter.stop(true)
    return 0
  } catch (error) {
    if (isBrokenPipe(error)) {
      // The last write's broken pipe, seen as the output is finished: as quiet as one seen at a write.
      reporter.stop(false)
      return 0
    }
    return fail(describe(error, options.url, false, options.output), 1)
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    process.off('SIGHUP', onHup)
  }

  /** Reports a failure in the CLI's words, leaving beside the output what a later run needs. */
  function failed(error: unknown): number {
    // A checkpoint of another request: a mistake on the command line, like another --as.
    if (
      saved !== undefined &&
      isResumeError(error) &&
      error.reason === 'invalid-checkpoint' &&
      error.response
    )
      return misuse(
        `the download in ${options.output} was started for ${saved.checkpoint.method} ${saved.checkpoint.url}, not ${options.method} ${error.response.url || options.url}; resume it with the same method and URL, or run without --resume to start over.`,
      )
    const over = pastContinuing(error)
    const refused = over === undefined && isDrop(error) && res !== undefined && refusesCheckpoints(res)
    const left = settle(over, refused)
    let message = describe(error, options.url, refused, options.output) + otherMode(error, options.as, res)
    if (refused && res !== undefined && left !== 'checkpoint')
      message += ` It cannot be continued: ${noWayToContinue(res)}.`
    // A line over a limit or a record that is not JSON is in the body: read again from the checkpoint (before it),
    // it stops the output again, every time.
    if (left === 'checkpoint' && (isLimitError(error) || isParseError(error)))
      message += ' --resume would stop at the same place: what stops it is in the body, not the connection.'
    else if (left === 'checkpoint')
      message += ` The checkpoint at ${checkpointPath} was kept: run the same command with --resume to continue.`
    else if (left === 'restart') message += ` ${incomplete()}: ${START_OVER}`
    else if (
      options.output === undefined &&
      options.as !== 'json' &&
      over === undefined &&
      !refused &&
      (isDrop(error) || (isResumeError(error) && error.reason === 'attempts-exhausted'))
    )
      // The server offers a way to continue, but nothing on standard output can be cut back to a checkpoint.
      message +=
        ' Standard output cannot be continued: to continue such a download in a later run, write it to a file with -o <file> and run again with --resume.'
    return fail(message, 1)
  }

  /**
   * After a stop: keeps a checkpoint when there is one, or else — when the output file holds part of a
   * download — word beside it that the file is incomplete and the next run starts over.
   */
  function settle(over: string | undefined, refused: boolean): Left {
    if (!resumable || checkpointPath === undefined || options.output === undefined) return 'none'
    // A fresh run that wrote nothing leaves the files as they were: a checkpoint of it, accounting for nothing,
    // would replace one that describes an earlier run's file.
    if (!sink.opened && saved === undefined) return 'none'
    // An earlier checkpoint still describes the start of the file, when the stop did not make it stale.
    if (over === undefined && (keepCheckpoint() || beside === 'checkpoint')) return 'checkpoint'
    markRestart(
      over ??
        (refused && res !== undefined ? noWayToContinue(res) : 'it stopped before its first checkpoint'),
    )
    return beside === 'restart' ? 'restart' : 'none'
  }

  /** `out is incomplete (N bytes)`. */
  function incomplete(bytes = true): string {
    const size = options.output === undefined || !bytes ? undefined : fileSize(options.output)
    return `${options.output} is incomplete${size === undefined ? '' : ` (${count(size, 'byte')})`}`
  }

  /** Writes the final checkpoint after a stop, with the output file cut to exactly what it accounts for. */
  function keepCheckpoint(): boolean {
    // After a failed write, what is in the file is not known: a checkpoint of it could count bytes that never
    // reached it (cutting the file to that length would pad it with zeros). A checkpoint saved earlier, of
    // bytes known to be written, still stands.
    if (checkpointPath === undefined || sink.failed) return false
    const checkpoint = take()
    if (checkpoint === undefined || options.output === undefined) return false
    let outputBytes = startBytes + sink.written
    // With --as bytes the file is the body itself: its length must be the checkpoint's offset.
    if (options.as === 'bytes' && checkpoint.offset !== outputBytes) {
      if (checkpoint.offset > outputBytes) return false
      outputBytes = checkpoint.offset
    }
    if (sink.opened || startBytes > 0) truncateSync(options.output, outputBytes)
    return store(checkpointState(checkpoint, outputBytes))
  }

  async function stopInterrupted(stop: Interruption): Promise<number> {
    reporter.stop(false)
    await closeQuietly(sink)
    const refused = res !== undefined && refusesCheckpoints(res)
    const left = settle(undefined, refused)
    const where = `interrupted after ${count(startBytes + sink.written, 'byte')} of output`
    const why = refused && res !== undefined ? `: ${noWayToContinue(res)}` : ''
    reporter.say(
      left === 'checkpoint'
        ? `sluice: ${where}; run the same command with --resume to continue.`
        : left === 'restart'
          ? `sluice: ${where}, which cannot be continued${why}. ${incomplete(false)}: ${START_OVER}`
          : `sluice: ${where}.`,
      true,
    )
    return stop.code
  }
}

/**
 * Where a resumed download continues, for people: after an SSE event id (the checkpoint's byte offset counts in
 * the last response only, after a reconnect by Last-Event-ID), or at a byte of the body.
 */
function resumePoint(checkpoint: Checkpoint, res: StreamResponse): string {
  if (checkpoint.strategy === 'last-event-id' && checkpoint.lastEventId !== undefined)
    return `after event id ${JSON.stringify(checkpoint.lastEventId)}`
  const total = res.progress.total
  return `at byte ${checkpoint.offset}${total === undefined ? '' : ` of ${total}`}`
}

/** The request options of a `sluice get` invocation. */
function requestOptions(
  options: GetOptions,
  resumeFrom: Checkpoint | undefined,
  signal: AbortSignal,
): SluiceOptions {
  const headers = new Headers()
  for (const [name, value] of options.headers) headers.append(name, value)
  if (options.body !== undefined && !headers.has('content-type'))
    headers.set('content-type', 'application/json')
  // The rate is measured only while someone listens; the reporter reads `res.progress` on its own clock.
  const request: SluiceOptions = {
    method: options.method,
    headers,
    signal,
    onProgress: () => {},
    progressInterval: 100,
  }
  if (options.body !== undefined) request.body = options.body
  if (options.timeout !== undefined) request.timeout = options.timeout
  if (options.idleTimeout !== undefined) request.idleTimeout = options.idleTimeout
  if (options.retry !== undefined) request.retry = options.retry
  if (resumeFrom !== undefined) request.resumeFrom = resumeFrom
  return request
}

/** What is written for each unit of the body, by `--as` mode. */
async function* pieces(
  res: StreamResponse,
  as: OutputMode,
  stopped: Promise<void>,
): AsyncGenerator<Uint8Array | string> {
  switch (as) {
    case 'bytes':
      yield* res.bytes()
      return
    case 'text':
      yield* res.text()
      return
    case 'lines':
      for await (const line of res.lines()) yield `${line}\n`
      return
    case 'ndjson':
      for await (const record of res.ndjson()) yield `${JSON.stringify(record)}\n`
      return
    case 'sse':
      for await (const { id, event, data } of res.events()) yield `${JSON.stringify({ id, event, data })}\n`
      return
    case 'json': {
      // Only the complete document is printed; a stop before it leaves nothing to print.
      const done = await Promise.race([res.json().final.then((value) => ({ value })), stopped])
      if (done !== undefined) yield `${JSON.stringify(done.value)}\n`
      return
    }
  }
}

/**
 * Loads what an unfinished download left beside its output: a checkpoint, with the output file cut back to what
 * it accounts for, or word that it starts over. Refuses a file that no unfinished download of sluice get left.
 */
function prepareResume(
  options: GetOptions,
  output: string,
  checkpointPath: string,
): SavedDownload | undefined {
  const saved = loadCheckpointFile(checkpointPath)
  const size = fileSize(output)
  if (saved === undefined) {
    // Nothing started yet (a retry loop's first run): a fresh download.
    if (size === undefined || size === 0) return undefined
    throw new Error(
      `Nothing to resume: ${output} exists but has no checkpoint at ${checkpointPath}, so it is not a download that sluice get left unfinished (it completed, or another program wrote it); run without --resume to download it again, replacing it.`,
    )
  }
  // The file is incomplete and cannot be continued: the run starts over, which replaces it.
  if ('restart' in saved) return saved
  if (saved.as !== options.as)
    throw new UsageError(
      `the download in ${output} was started with --as ${saved.as}; resume it with the same, or run without --resume to start over.`,
    )
  const method = saved.method ?? saved.checkpoint.method
  const url = saved.url ?? new URL(options.url).href
  if (method.toUpperCase() !== options.method || url !== new URL(options.url).href)
    throw new UsageError(
      `the download in ${output} was started for ${method} ${url}, not ${options.method} ${options.url}; resume it with the same method and URL, or run without --resume to start over.`,
    )
  // A checkpoint that accounts for no output (a stop before the first unit was written) continues from nothing:
  // that is a fresh download, which any version of the resource serves. Resumed from, the library would refuse
  // one that changed since, for bytes that were never delivered.
  if (saved.outputBytes === 0) return undefined
  // The checkpoint accounts for bytes written: no file is one moved or deleted since, not an empty one.
  if (size === undefined) {
    throw new Error(
      `Cannot resume: ${output} is not there (moved or deleted since its checkpoint was saved), but its checkpoint accounts for ${count(saved.outputBytes, 'byte')} of it; run without --resume to download it again.`,
    )
  }
  if (size < saved.outputBytes) {
    throw new Error(
      `Cannot resume: ${output} has ${count(size, 'byte')} but its checkpoint accounts for ${saved.outputBytes}; run without --resume to download it again.`,
    )
  }
  // Another file under the same name (another program wrote it since) would be cut and continued with the rest
  // of this download: a file that is neither.
  if (saved.tail !== undefined && outputTail(output, saved.outputBytes) !== saved.tail)
    throw new Error(
      `Cannot resume: ${output} was changed since its checkpoint was saved (its bytes before byte ${saved.outputBytes} are not those it accounts for); run without --resume to download it again.`,
    )
  // Bytes written after the last save are fetched again.
  if (size > saved.outputBytes) truncateSync(output, saved.outputBytes)
  return saved
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url)
    return protocol === 'http:' || protocol === 'https:'
  } catch {
    return false
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * Why `folder` cannot hold the output file, or `undefined` when it can: it is not there (create it), it or a
 * folder above it is a file (another -o), or it cannot be looked at (the system's reason).
 */
function folderProblem(folder: string): string | undefined {
  for (let path = folder; ; path = dirname(path)) {
    try {
      if (!statSync(path).isDirectory()) return `${path} is not a directory; pass another -o.`
      return path === folder
        ? undefined
        : `the directory ${folder} does not exist; create it, or pass another -o.`
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      // Missing (ENOENT), or under a file (ENOTDIR): the nearest path that is there says which.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(path) === path)
        return `${folder} cannot be used (${error instanceof Error ? error.message : String(error)}); pass another -o.`
    }
  }
}

/** Whether `path` exists and is not a regular file (a device such as /dev/null, a pipe). */
function isDevice(path: string): boolean {
  try {
    return !statSync(path).isFile()
  } catch {
    return false
  }
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
}

async function closeQuietly(sink: OutputSink): Promise<void> {
  try {
    await sink.close(false)
  } catch {
    // The reason the download stopped is the one worth reporting.
  }
}

function ignore(): void {}

function isBrokenPipe(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EPIPE'
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim()
}
