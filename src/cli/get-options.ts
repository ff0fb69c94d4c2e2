import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { HTTP_TOKEN } from '../runtime/http-token.ts'
import { MAX_TIMEOUT_MS } from '../runtime/limits.ts'
import { parseFailure } from './parse-failure.ts'

/** How `sluice get` reads the body and what it writes: `--as`. */
export type OutputMode = 'bytes' | 'text' | 'lines' | 'ndjson' | 'sse' | 'json'

const MODES: readonly OutputMode[] = ['bytes', 'text', 'lines', 'ndjson', 'sse', 'json']

/** Methods that fetch refuses to send (forbidden methods): they would fail every request. */
const FORBIDDEN_METHODS = ['CONNECT', 'TRACE', 'TRACK']

/** What `sluice get` was asked to do, checked and with its defaults filled in. */
export interface GetOptions {
  url: string
  method: string
  headers: Array<[name: string, value: string]>
  /** The JSON request body (`-d`), as text. */
  body: string | undefined
  as: OutputMode
  /** The output file; `undefined` for standard output. */
  output: string | undefined
  resume: boolean
  /** Where the checkpoint is kept; `undefined` when the output is standard output. */
  checkpoint: string | undefined
  timeout: number | undefined
  idleTimeout: number | undefined
  /** How many times ky's `retry` may send the request again before the body starts; `undefined`: ky's default. */
  retry: number | undefined
  quiet: boolean
}

/** A mistake on the command line: exit code 2 with the usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** The help text of `sluice get`. */
export const getUsage: string = `Usage: sluice get <url> [options]

Streams a response to standard output or a file as it arrives, with progress on standard error. Dropped
connections are resumed automatically (Range, Last-Event-ID); an interrupted download to a file (Ctrl-C)
continues where it stopped with --resume.

Options:
  -X, --method <method>     request method (default GET, or POST with --data)
  -H, --header <'Name: v'>  request header; repeatable
  -d, --data <json|@file>   JSON request body, inline or from a file (@- reads standard input);
                            sets content-type: application/json unless -H sets one
      --as <mode>           bytes (default) or text: the body as it is; lines: one line per line;
                            ndjson: one compact JSON record per line; sse: one JSON {id,event,data} per
                            event and line; json: the complete document once it is valid, nothing partial
  -o, --output <file>       write to <file> instead of standard output ("-" is standard output)
      --resume              continue an interrupted download into <file> from its checkpoint, or start
                            it over when sluice get left word that it cannot be continued
      --checkpoint <file>   where the checkpoint is kept (default <output>.sluice-checkpoint.json)
      --timeout <ms>        longest wait for the response headers (default 10000)
      --idle-timeout <ms>   longest silence between two chunks of the body before reconnecting
      --retry <n>           times to send a GET (not a POST) again after a failed connection or a 408,
                            429, 500, 502, 503 or 504 answer, before the body starts (default 2; 0: once)
  -q, --quiet               no progress on standard error
  -h, --help                show this help

Exit status, as $? shows it: 0 done (or the reader of standard output went away, as with | head), 1 the
request, the stream or the output failed, 2 bad usage, 130 stopped by Ctrl-C (143 by SIGTERM, 129 by SIGHUP):
it stops cleanly, then dies by that signal, so that a shell loop or script stops too.`

/**
 * Parses the arguments of `sluice get`; `{ help: true }` for `--help`. Throws a {@link UsageError} that says
 * what is wrong.
 *
 * @example
 * const options = parseGetArgs(['https://example.com/report', '--as', 'ndjson', '-o', 'report.ndjson'])
 */
export function parseGetArgs(args: string[]): GetOptions | { help: true } {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (error) {
    throw new UsageError(parseFailure(error))
  }
  const { values, positionals } = parsed
  if (values.help) return { help: true }
  const [url, ...extra] = positionals
  if (url === undefined) throw new UsageError('pass the URL to get.')
  if (extra.length > 0) throw new UsageError(`pass exactly one URL; got also ${extra.join(' ')}.`)

  const as = values.as ?? 'bytes'
  if (!isMode(as)) throw new UsageError(`--as takes ${MODES.join(', ')}; got ${as}.`)
  const headers = (values.header ?? []).map(parseHeader)
  const body = values.data === undefined ? undefined : readData(values.data)
  const method = (values.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase()
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`-X takes a method name such as GET; got ${method}.`)
  if (FORBIDDEN_METHODS.includes(method))
    throw new UsageError(
      `-X ${method} cannot be sent: fetch refuses the methods CONNECT, TRACE and TRACK; use another, such as GET or POST.`,
    )
  if (body !== undefined && (method === 'GET' || method === 'HEAD'))
    throw new UsageError(`-d sends a body, which a ${method} request cannot carry; use -X POST, or drop -d.`)
  if (values.output === '')
    throw new UsageError('-o takes a file name, or - for standard output; got an empty one.')
  const output = values.output === '-' ? undefined : values.output
  if (output === undefined && values.resume)
    throw new UsageError('--resume continues a download into a file: pass -o <file> too.')
  if (output === undefined && values.checkpoint !== undefined)
    throw new UsageError('--checkpoint keeps the checkpoint of a download into a file: pass -o <file> too.')
  // The checkpoint is renamed over its path and deleted once the download completes: over the output, that would
  // delete the file just downloaded (and exit 0).
  if (
    output !== undefined &&
    values.checkpoint !== undefined &&
    resolve(values.checkpoint) === resolve(output)
  )
    throw new UsageError(
      '--checkpoint names the output file; pass another file, or leave --checkpoint out for <output>.sluice-checkpoint.json.',
    )
  if (as === 'json' && values.resume)
    throw new UsageError(
      '--as json writes nothing until the document is complete, so there is nothing to resume.',
    )
  return {
    url,
    method,
    headers,
    body,
    as,
    output,
    resume: values.resume ?? false,
    checkpoint: output === undefined ? undefined : (values.checkpoint ?? `${output}.sluice-checkpoint.json`),
    timeout: milliseconds('--timeout', values.timeout),
    idleTimeout: milliseconds('--idle-timeout', values['idle-timeout']),
    retry: retries(values.retry),
    quiet: values.quiet ?? false,
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      method: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      as: { type: 'string' },
      output: { type: 'string', short: 'o' },
      resume: { type: 'boolean' },
      checkpoint: { type: 'string' },
      timeout: { type: 'string' },
      'idle-timeout': { type: 'string' },
      retry: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

function isMode(value: string): value is OutputMode {
  return (MODES as readonly string[]).includes(value)
}

/** The characters a header value cannot contain, as messages name them. */
const CONTROL_CHARACTERS: Record<string, string> = {
  '\0': 'a NUL (\\0),',
  '\r': 'a carriage return (\\r),',
  '\n': 'a line feed (\\n),',
}

function parseHeader(header: string): [string, string] {
  const colon = header.indexOf(':')
  const name = colon === -1 ? '' : header.slice(0, colon).trim()
  if (!HTTP_TOKEN.test(name)) throw new UsageError(`-H takes 'Name: value'; got ${JSON.stringify(header)}.`)
  // Whitespace around the value is not part of it (fetch drops it too); a line break inside is a mistake.
  const value = header.slice(colon + 1).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')
  const bad = /[\0\r\n]|[^\0-\xff]/u.exec(value)?.[0]
  if (bad !== undefined) {
    // Shown escaped, as the message quotes the value escaped: a bare CR would be invisible.
    const control = CONTROL_CHARACTERS[bad]
    const code = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
    throw new UsageError(
      `the -H value of ${name}, ${JSON.stringify(value)}, contains ${control ?? `${JSON.stringify(bad)} (${code}), outside Latin-1,`} which a header value cannot carry; ${control === undefined ? 'send it encoded, such as percent-encoded or in base64' : 'remove it'}.`,
    )
  }
  return [name, value]
}

function readData(data: string): string {
  let text = data
  if (data.startsWith('@')) {
    const file = data.slice(1)
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8')
    } catch (error) {
      const reason =
        (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))
      throw new UsageError(`cannot read the --data file ${file} (${reason}).`)
    }
  }
  try {
    JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--data must be JSON (${error instanceof Error ? error.message : String(error)}).`)
  }
  return text
}

// Timers wait at most 2³¹ − 1 ms; the library refuses longer timeouts.
const milliseconds = (flag: string, value: string | undefined): number | undefined =>
  wholeNumber(flag, value, 1, MAX_TIMEOUT_MS, 'milliseconds', ' (about 24.8 days)')

/** The most retries `--retry` takes: more would keep a failing function running for a long while, in ky's backoff. */
const MAX_RETRIES = 100

const retries = (value: string | undefined): number | undefined =>
  wholeNumber('--retry', value, 0, MAX_RETRIES, 'retries')

/** The whole number `value` of `flag`, from `min` to `max` (in `unit`s), or a usage error that says so. */
function wholeNumber(
  flag: string,
  value: string | undefined,
  min: number,
  max: number,
  unit: string,
  note = '',
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(
      `${flag} takes a whole number of ${unit} from ${min} to ${max}${note}; got ${value.trim() === '' ? 'an empty one' : value}.`,
    )
  return n
}
