import { statSync, truncateSync } from 'node:fs'
import {
  type Checkpoint,
  isResumeError,
  isSluiceError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../index.ts'
import {
  loadCheckpointFile,
  removeCheckpointFile,
  type SavedCheckpoint,
  saveCheckpointFile,
} from './checkpoint-file.ts'
import { type GetOptions, getUsage, type OutputMode, parseGetArgs, UsageError } from './get-options.ts'
import { OutputSink } from './output-sink.ts'
import { ProgressReporter } from './progress-reporter.ts'

/** Least time between two saves of the checkpoint file while downloading, in ms. */
const SAVE_EVERY_MS = 250

const ITEMS: Record<OutputMode, string | undefined> = {
  bytes: undefined,
  text: undefined,
  lines: 'lines',
  ndjson: 'records',
  sse: 'events',
  json: undefined,
}

/**
 * `sluice get <url>`: streams a response to standard output or a file as it arrives, with progress on standard
 * error and resume across runs; resolves with the exit code (0 done, 1 failed, 2 bad usage, 130 interrupted).
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
  signal: 'SIGINT' | 'SIGTERM'
  code: number
}

async function download(options: GetOptions): Promise<number> {
  const reporter = new ProgressReporter(process.stderr, { quiet: options.quiet, items: ITEMS[options.as] })
  const fail = (message: string, code: number): number => {
    reporter.stop(false)
    reporter.say(`sluice: ${oneLine(message)}`, true)
    return code
  }

  if (!isHttpUrl(options.url))
    return fail(
      `${options.url} is not an http(s) URL; pass an absolute one such as https://example.com/report.`,
      1,
    )

  // Resuming: the checkpoint, and the output file cut back to what it accounts for.
  let saved: SavedCheckpoint | undefined
  if (options.resume && options.output !== undefined && options.checkpoint !== undefined) {
    try {
      saved = prepareResume(options.output, options.checkpoint, options.as)
    } catch (error) {
      if (error instanceof UsageError) {
        process.stderr.write(`sluice: ${error.message}\n\n${getUsage}\n`)
        return 2
      }
      return fail(error instanceof Error ? error.message : String(error), 1)
    }
  }

  let interrupted: Interruption | undefined
  let res: StreamResponse | undefined
  const abort = new AbortController()
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>()
  const onSignal = (signal: Interruption['signal'], code: number) => () => {
    if (interrupted !== undefined) process.exit(interrupted.code) // a second Ctrl-C: stop now
    interrupted = { signal, code }
    stop()
    if (res !== undefined) res.detach()
    else abort.abort(new Error('Interrupted.'))
  }
  const onInt = onSignal('SIGINT', 130)
  const onTerm = onSignal('SIGTERM', 143)
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)

  // A device or a pipe (-o /dev/null) cannot be cut back to a checkpoint: only a regular file keeps one.
  let checkpointPath =
    options.output !== undefined && isDevice(options.output) ? undefined : options.checkpoint
  const startBytes = saved?.outputBytes ?? 0
  const sink =
    options.output === undefined
      ? OutputSink.stdout()
      : OutputSink.file(options.output, {
          append: saved !== undefined,
          // A fresh download replaces the file: a checkpoint of an earlier one no longer describes it.
          onOpen: () => {
            if (saved === undefined && checkpointPath !== undefined) removeCheckpointFile(checkpointPath)
          },
        })
  // Checkpoints are kept only for a file, and only once the server offers a way to resume (for SSE, that may
  // be decided by the first event id).
  const resumable = checkpointPath !== undefined && options.as !== 'json'
  let unresumable: string | undefined
  let lastSave = Date.now()
  const take = (): Checkpoint | undefined => {
    if (!resumable || res === undefined) return undefined
    try {
      const checkpoint = res.checkpoint()
      unresumable = undefined
      return checkpoint
    } catch (error) {
      if (!isResumeError(error)) throw error
      unresumable = error.message
      return undefined
    }
  }
  const save = (checkpoint: Checkpoint | undefined): void => {
    if (checkpoint === undefined || checkpointPath === undefined) return
    const path = checkpointPath
    try {
      saveCheckpointFile(path, {
        version: 1,
        as: options.as,
        outputBytes: startBytes + sink.written,
        checkpoint,
      })
    } catch (error) {
      // The download itself is fine: it goes on, without a way to resume it.
      checkpointPath = undefined
      reporter.say(
        `sluice: could not save the checkpoint at ${path} (${error instanceof Error ? error.message : String(error)}); the download goes on, but --resume will not be able to continue it.`,
        true,
      )
    }
    lastSave = Date.now()
  }

  try {
    try {
      res = await sluice(options.url, requestOptions(options, saved?.checkpoint, abort.signal))
    } catch (error) {
      if (interrupted !== undefined) {
        reporter.say('sluice: interrupted before the response arrived.', true)
        return interrupted.code
      }
      return fail(describe(error), 1)
    }
    const response = res
    if (interrupted !== undefined) response.detach()
    reporter.track(() => response.progress)
    if (saved !== undefined) {
      const total = response.progress.total
      reporter.say(
        `sluice: resuming at byte ${saved.checkpoint.offset}${total === undefined ? '' : ` of ${total}`}.`,
      )
    }

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
      if (isBrokenPipe(error)) {
        // The reader went away (`| head`): stop quietly, as a pipeline expects.
        reporter.stop(false)
        await response.cancel()
        return 0
      }
      if (interrupted !== undefined) return await stopInterrupted(interrupted)
      // Units delivered before the failure are in the file: keep a checkpoint so that --resume continues.
      await closeQuietly(sink)
      keepCheckpoint()
      return fail(describe(error), 1)
    }
    if (interrupted !== undefined) return await stopInterrupted(interrupted)

    await sink.close(true)
    if (checkpointPath !== undefined) removeCheckpointFile(checkpointPath)
    reporter.stop(true)
    return 0
  } catch (error) {
    if (isBrokenPipe(error)) return 0
    return fail(describe(error), 1)
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
  }

  /** Writes the final checkpoint after a stop, with the output file cut to exactly what it accounts for. */
  function keepCheckpoint(): boolean {
    if (checkpointPath === undefined) return false
    const checkpoint = take()
    if (checkpoint === undefined || options.output === undefined) return false
    let outputBytes = startBytes + sink.written
    // With --as bytes the file is the body itself: its length must be the checkpoint's offset.
    if (options.as === 'bytes' && checkpoint.offset !== outputBytes) {
      if (checkpoint.offset > outputBytes) return false
      outputBytes = checkpoint.offset
    }
    if (sink.opened || startBytes > 0) truncateSync(options.output, outputBytes)
    saveCheckpointFile(checkpointPath, { version: 1, as: options.as, outputBytes, checkpoint })
    return true
  }

  async function stopInterrupted(stop: Interruption): Promise<number> {
    reporter.stop(false)
    await closeQuietly(sink)
    const kept = options.output !== undefined && keepCheckpoint()
    const where = `after ${startBytes + sink.written} bytes of output`
    const why =
      unresumable === undefined ? '' : ` ${unresumable.replace(/\.$/, '')}, so a new run starts over.`
    reporter.say(
      kept
        ? `sluice: interrupted ${where}; run the same command with --resume to continue.`
        : `sluice: interrupted ${where}.${why}`,
      true,
    )
    return stop.code
  }
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

/** Loads the checkpoint of an interrupted download and cuts the output file back to what it accounts for. */
function prepareResume(output: string, checkpointPath: string, as: OutputMode): SavedCheckpoint | undefined {
  const saved = loadCheckpointFile(checkpointPath)
  const size = fileSize(output)
  if (saved === undefined) {
    // Nothing started yet (a retry loop's first run): a fresh download.
    if (size === undefined || size === 0) return undefined
    throw new Error(
      `Nothing to resume: ${output} exists but has no checkpoint at ${checkpointPath} (the download finished, or was not started by sluice get); run without --resume to download it again.`,
    )
  }
  if (saved.as !== as)
    throw new UsageError(
      `the download in ${output} was started with --as ${saved.as}; resume it with the same.`,
    )
  // A stop before the first byte was written left no file: that is 0 bytes.
  if ((size ?? 0) < saved.outputBytes) {
    throw new Error(
      `Cannot resume: ${output} has ${size ?? 0} bytes but its checkpoint accounts for ${saved.outputBytes}; run without --resume to download it again.`,
    )
  }
  // Bytes written after the last save are fetched again.
  if (size !== undefined && size > saved.outputBytes) truncateSync(output, saved.outputBytes)
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

function isBrokenPipe(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'EPIPE'
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    // File system errors name the path; say which operation failed.
    if (!isSluiceError(error) && typeof code === 'string' && 'syscall' in error)
      return `${error.message} (could not write the output).`
    return error.message
  }
  return String(error)
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim()
}
