/**
 * The emulator (`serve()` in `sluice/dev`, real HTTP) and its in-process twin (`functionUrl()` in `sluice/mock`,
 * msw/node) run the same generated handler *script* for the same generated request. Checked, for every script:
 *
 * 1. parity — the client gets the same status, the same headers (but for the framing headers each transport adds:
 *    date, connection, keep-alive, transfer-encoding), the same body bytes and the same ending from both;
 * 2. the model — both agree with what README and DESIGN say a function URL does for that script (below, in
 *    `expectedStream` and `expectedBuffered`), and the handler sees the event v2 the request makes;
 * 3. the invocation — its outcome and its log lines are the same in both, and of the kind the model says.
 *
 * Where the contract is silent, the model follows the real service as far as it is known; each such assumption
 * is named where it is made.
 */
import { isUtf8 } from 'node:buffer'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_LIMITS,
  type FunctionUrlEvent,
  type Limits,
  type ResolvedLimits,
} from '../../src/runtime/index.ts'
import { concatBytes, encode } from '../support/chunking.ts'
import { functionUrlTwins, type Seen } from '../support/function-url-twins.ts'
import {
  type BufferedScript,
  FAILURE,
  handlerOf,
  limitSpec,
  manualPieces,
  type Piece,
  PRELUDE_TYPE,
  type RequestSpec,
  request,
  type StreamScript,
  script,
  twinRequest,
} from '../support/handler-scripts.ts'

// ---------------------------------------------------------------------------------------------------------
// The model

/** What the client and the function's side must see. */
interface Expected {
  status: number
  /** Response headers before the client's `Headers` normalises them (lower-case names), set-cookie apart. */
  headers: Array<[string, string]>
  setCookies: string[]
  body: Uint8Array
  /**
   * `'prefix'`: a cut after some prefix of `body`, of at most `prefixMax` bytes; `'either'`: that, or the whole
   * body and a clean end.
   */
  ending: 'end' | 'cut' | 'prefix' | 'either'
  prefixMax?: number
  errorType?: string
  outcome: Outcome
  /** Whether the handler must be invoked at all (no, for a 413). */
  invoked: boolean
  /**
   * Whether the invocation logs, besides any failure, that the function ended its stream after
   * `HttpResponseStream.from` without a write, so that its status and headers were lost.
   */
  lostPrelude?: true
}

/** How the invocation must end: one of `states`, with an error whose message matches `message` unless it succeeded. */
interface Outcome {
  states: Array<'succeeded' | 'failed' | 'timed-out'>
  message?: RegExp
  /**
   * Set where two failures race (the service refuses what the function wrote, and the function fails too): the
   * outcome may carry either, so the service's answer need not repeat it.
   */
  either?: true
}

const SUCCEEDED: Outcome = { states: ['succeeded'] }
const SCRIPT_FAILED = new RegExp(`^${FAILURE}$`)
const TIMED_OUT: Outcome = {
  states: ['timed-out'],
  message: /^Task timed out after 0\.30 seconds \(limits\.timeoutMs is 300\)\. /,
}
const OVER_CAP = /^The response exceeded limits\.maxResponseBytes \(\d+ bytes\), so the connection was cut\.$/
const INVALID_PRELUDE: Outcome = {
  states: ['failed'],
  message:
    /^The function's response prelude is invalid: .*\. Write it with awslambda\.HttpResponseStream\.from\(responseStream, \{ statusCode, headers, cookies \}\) before the body\.$/s,
}
/** The same, for a body sent by `end(chunk)` alone after `HttpResponseStream.from`: no prelude went out at all. */
const NO_PRELUDE: Outcome = {
  states: ['failed'],
  message:
    /^The function's response prelude is invalid: .*\. The prelude is sent by the first write\(\); end\(chunk\) after HttpResponseStream\.from\(\) without a write sends no prelude — call write\(chunk\) then end\(\)\.$/s,
}
/** What the log says of a response that lost its prelude to `end()` without a write (after `<id> `). */
const LOST_PRELUDE =
  /^<id> the function ended its response stream after awslambda\.HttpResponseStream\.from\(\) without a write, so its status, headers and cookies were not sent: /

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// What an HTTP field value can carry: visible ASCII, space, tab and obs-text; no CR, LF, NUL or other control.
const FIELD = /^[\t\x20-\x7e\x80-\xff]*$/
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer', 'te'])

function serviceErrorExpected(status: number, type: string, outcome: Outcome): Expected {
  return {
    status,
    headers: [['content-type', 'application/json']],
    setCookies: [],
    body: new Uint8Array(0),
    ending: 'end',
    errorType: type,
    outcome,
    invoked: true,
  }
}

/** The status, headers and cookies of a prelude, or `undefined` when the service must refuse it. */
function decodeMetadata(
  value: unknown,
): { status: number; headers: Array<[string, string]>; cookies: string[] } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const { statusCode = 200, headers = {}, cookies = [] } = value as Record<string, unknown>
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 200 || statusCode > 599)
    return undefined
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined
  const pairs: Array<[string, string]> = []
  for (const [name, v] of Object.entries(headers)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined
    if (!TOKEN.test(name) || !FIELD.test(String(v))) return undefined
    pairs.push([name.toLowerCase(), String(v)])
  }
  if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== 'string' || !FIELD.test(c)))
    return undefined
  return { status: statusCode, headers: pairs, cookies: cookies as string[] }
}

/**
 * The service's rewrites of the function's headers (README: "Content-Length → x-amzn-remapped-content-length"); the
 * content type defaults to `application/octet-stream` for a stream, `application/json` for a buffered result.
 */
function rewritten(
  headers: Array<[string, string]>,
  cookies: string[],
  defaultContentType = 'application/octet-stream',
): { headers: Array<[string, string]>; setCookies: string[] } {
  const out: Array<[string, string]> = []
  const setCookies: string[] = []
  for (const [name, value] of headers) {
    // Assumed: the service's request id replaces a function's own (the contract is silent).
    if (HOP_BY_HOP.has(name) || name === 'content-encoding' || name === 'x-amzn-requestid') continue
    if (name === 'set-cookie') setCookies.push(value)
    else out.push([name === 'content-length' ? 'x-amzn-remapped-content-length' : name, value])
  }
  if (!out.some(([name]) => name === 'content-type')) out.push(['content-type', defaultContentType])
  return { headers: out, setCookies: [...setCookies, ...cookies] }
}

/**
 * What the function URL does with a streaming script. The handler's writes reach the service in order, one
 * chunk each. The prelude of `HttpResponseStream.from` goes out right before the first `write()` — an empty one
 * too — and never from `end()` (the runtime's `end` is `origEnd(cb)`; aws-lambda-nodejs-runtime-interface-client
 * issue #97): `end()` without a write sends none (a 200 with default headers), and `end(chunk)` without a write
 * sends the chunk alone, which the service reads as the prelude (a 502, mostly).
 * The first chunk that carries a byte — or the end — fixes the status: before it, a failure is a 502.
 * After it, a failure or a timeout cuts the body (README: "after it → the bytes already written reach the client,
 * then the connection is cut"): every byte, when the handler throws, as the runtime then ends its request to the
 * service; only those the service had, when the handler destroys its stream or runs out of time, since writes
 * past the first 16 KiB may still wait in the stream's own buffer then.
 */
function expectedStream(script: StreamScript, limits: ResolvedLimits): Expected {
  const { head, steps, ending, last } = script
  const chunks: Uint8Array[] = []
  let contentType = 'application/octet-stream'
  let prelude: Uint8Array[] | undefined
  let started = false
  // Whether the stream ended under HttpResponseStream.from before any write, so that no prelude went out.
  let skipped = false
  const write = (p: Piece) => {
    if (!started && prelude) chunks.push(...prelude)
    started = true
    chunks.push(typeof p === 'string' ? encode(p) : p)
  }
  if (head.kind === 'content-type') {
    // The runtime sets it as a header of its own request, which throws for a value HTTP cannot carry.
    if (!FIELD.test(head.value))
      return serviceErrorExpected(502, 'Unhandled', {
        states: ['failed'],
        message: /^setContentType: the content type /,
      })
    contentType = head.value
  }
  if (head.kind === 'from') {
    contentType = PRELUDE_TYPE
    prelude = [encode(JSON.stringify(head.metadata)), new Uint8Array(8)]
  }
  if (head.kind === 'manual') {
    contentType = PRELUDE_TYPE
    for (const part of manualPieces(head)) write(part)
  }
  // How the writing side ends: 'end', 'error', or nothing (the timeout ends it).
  let tail: 'end' | 'error' | undefined
  // How the handler's promise settles: it returns, rejects, or never settles.
  let settles: 'returns' | 'rejects' | 'never' = 'returns'
  for (const s of steps) if (s.do === 'write') write(s.piece)
  // end(chunk) hands a truthy chunk to Node's end(), which writes it as it is; end() never writes the prelude.
  const end = (chunk?: Piece) => {
    if (!started && prelude) skipped = true
    if (chunk) chunks.push(typeof chunk === 'string' ? encode(chunk) : chunk)
    tail ??= 'end'
  }
  switch (ending) {
    case 'end':
    case 'end-write':
      // The write after end() fails, and the prelude's writes with it.
      end()
      break
    case 'end-chunk':
      end(last)
      break
    case 'return':
      break
    case 'hang':
      settles = 'never'
      break
    case 'end-hang':
      end()
      settles = 'never'
      break
    case 'throw':
      tail = 'error'
      settles = 'rejects'
      break
    case 'destroy':
    case 'destroy-error':
      tail = 'error'
      break
    case 'end-throw':
      end()
      settles = 'rejects'
      break
    case 'late-from':
      // setContentType after the first write throws (README: call from() before writing).
      if (started) {
        tail = 'error'
        settles = 'rejects'
      } else {
        prelude = [encode(JSON.stringify({ statusCode: 201 })), new Uint8Array(8)]
        contentType = PRELUDE_TYPE
        end()
      }
      break
  }
  const timedOut = tail === undefined || settles === 'never'
  // Whether writes may wait in the stream's own buffer (past the 16 KiB queue behind it).
  const held = chunks.reduce((sum, chunk) => sum + chunk.length, 0) > 16 * 1024
  // A write after end() fails the stream if the end was still waiting for earlier writes; the runtime's request
  // fails then too (its error listener destroys it).
  const late = held && ending === 'end-write'
  // Whether the function may fail on its side too.
  const fails = tail === 'error' || settles === 'rejects' || late
  // What the handler fails with, when it fails.
  const failed: Outcome = {
    states: ['failed'],
    message:
      ending === 'destroy'
        ? /^The function destroyed its response stream before ending it\.$/
        : ending === 'late-from'
          ? /^setContentType was called after the first write/
          : ending === 'end-write'
            ? /^write after end$/
            : SCRIPT_FAILED,
  }

  // A prelude refused once the function has failed too: the service answers for the prelude, the invocation
  // fails with whichever was seen first.
  const refused = skipped ? NO_PRELUDE : INVALID_PRELUDE
  const invalidPrelude: Outcome = fails
    ? {
        states: ['failed'],
        message: new RegExp(`${refused.message!.source}|${failed.message!.source}`, 's'),
        either: true,
      }
    : refused

  // The head: where the body starts among the chunks, and the status and headers.
  let bodyChunks: Uint8Array[]
  let status = 200
  let headers: Array<[string, string]>
  let cookies: string[] = []
  let lostPrelude = false
  if (contentType === PRELUDE_TYPE && tail === 'end' && chunks.every((chunk) => chunk.length === 0)) {
    // A body that ends without a byte has no prelude to read: the service answers 200 with default headers (what
    // the runtime sends for HttpResponseStream.from() then end() with no write).
    headers = []
    bodyChunks = []
    lostPrelude = skipped
  } else if (contentType === PRELUDE_TYPE) {
    const all = concatBytes(chunks)
    const at = delimiterAt(all)
    if (at === -1) {
      if (tail === 'end') return serviceErrorExpected(502, 'InvalidPrelude', invalidPrelude)
      return tail === 'error'
        ? serviceErrorExpected(502, 'Unhandled', failed)
        : serviceErrorExpected(502, 'Sandbox.Timedout', TIMED_OUT)
    }
    let value: unknown
    try {
      value = JSON.parse(new TextDecoder().decode(all.subarray(0, at)))
    } catch {
      return serviceErrorExpected(502, 'InvalidPrelude', invalidPrelude)
    }
    const decoded = decodeMetadata(value)
    if (!decoded) return serviceErrorExpected(502, 'InvalidPrelude', invalidPrelude)
    status = decoded.status
    headers = decoded.headers
    cookies = decoded.cookies
    bodyChunks = chunksFrom(chunks, at + 8)
  } else {
    // Assumed from the real runtime: an empty write puts no byte on the wire, so it does not start the response.
    const committed = chunks.some((chunk) => chunk.length > 0) || tail === 'end'
    if (!committed) {
      return tail === 'error'
        ? serviceErrorExpected(502, 'Unhandled', failed)
        : serviceErrorExpected(502, 'Sandbox.Timedout', TIMED_OUT)
    }
    headers = [['content-type', contentType]]
    bodyChunks = chunks
  }
  const shown = rewritten(headers, cookies)
  const body = concatBytes(bodyChunks.filter((c) => c.length > 0))
  const over = body.length > limits.maxResponseBytes
  // A stream destroyed, or cut by the timeout, loses what it still held.
  const lossy = held && (ending === 'destroy' || ending === 'destroy-error' || tail === undefined)
  let outcome: Outcome
  // The cap fails the invocation at the write that crosses it; a handler failing right after it, in the same
  // turn, may be seen first.
  if (over && fails)
    outcome = {
      states: ['failed'],
      message: new RegExp(`${OVER_CAP.source}|${failed.message!.source}`),
      either: true,
    }
  else if (over) outcome = { states: ['failed'], message: OVER_CAP }
  else if (tail === 'error' || settles === 'rejects') outcome = failed
  else if (timedOut) outcome = TIMED_OUT
  else if (late) outcome = { states: ['succeeded', 'failed'], message: failed.message! }
  else outcome = SUCCEEDED
  const expected: Expected = {
    status,
    headers: shown.headers,
    setCookies: shown.setCookies,
    body,
    ending: over || lossy ? 'prefix' : late ? 'either' : tail === 'end' ? 'end' : 'cut',
    outcome,
    invoked: true,
  }
  if (lostPrelude) expected.lostPrelude = true
  if (over || lossy || late) expected.prefixMax = Math.min(limits.maxResponseBytes, body.length)
  return expected
}

function delimiterAt(bytes: Uint8Array): number {
  let run = 0
  for (let i = 0; i < bytes.length; i++) {
    run = bytes[i] === 0 ? run + 1 : 0
    if (run === 8) return i - 7
  }
  return -1
}

/** The chunks after byte `offset` of their concatenation, the first one cut. */
function chunksFrom(chunks: Uint8Array[], offset: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let at = 0
  for (const chunk of chunks) {
    const end = at + chunk.length
    if (end > offset) out.push(chunk.subarray(Math.max(0, offset - at)))
    at = end
  }
  return out
}

/** What the function URL does with a buffered handler's result (payload format 2.0, README "served buffered"). */
function expectedBuffered(script: BufferedScript, limits: ResolvedLimits): Expected {
  const { result } = script
  if (result.kind === 'throw')
    return serviceErrorExpected(502, 'Unhandled', { states: ['failed'], message: SCRIPT_FAILED })
  if (result.kind === 'bigint' || result.kind === 'cycle') {
    return serviceErrorExpected(502, 'Unhandled', {
      states: ['failed'],
      message: /^Unable to stringify response body /,
    })
  }
  const sent = result.kind === 'value' ? result.value : result.result
  const size = encode(JSON.stringify(sent === undefined ? null : sent)).length
  if (size > limits.maxBufferedResponseBytes)
    return serviceErrorExpected(502, 'Function.ResponseSizeTooLarge', {
      states: ['failed'],
      message: new RegExp(`^Response payload size \\(${size} bytes\\) exceeded maximum allowed payload size`),
    })
  if (result.kind === 'value') {
    const value = result.value
    // The runtime sends undefined as null, which the function URL cannot tell from a null.
    const text =
      typeof value === 'string' ? value : (JSON.stringify(value === undefined ? null : value) ?? '')
    return {
      status: 200,
      headers: withLength(200, [['content-type', 'application/json']], encode(text)),
      setCookies: [],
      body: encode(text),
      ending: 'end',
      outcome: SUCCEEDED,
      invoked: true,
    }
  }
  const described = result.result
  const decoded = decodeMetadata({
    statusCode: described.statusCode,
    headers: Object.fromEntries(Object.entries(described.headers ?? {}).map(([n, v]) => [n, String(v)])),
    cookies: (described.cookies ?? []).map(String),
  })
  if (!decoded) {
    return serviceErrorExpected(502, 'InvalidResponse', {
      states: ['failed'],
      message: /^The function returned an invalid response: /,
    })
  }
  const shown = rewritten(decoded.headers, decoded.cookies, 'application/json')
  const text = typeof described.body === 'string' ? described.body : ''
  const body =
    described.isBase64Encoded === true ? Uint8Array.from(atob(text), (c) => c.charCodeAt(0)) : encode(text)
  return {
    status: decoded.status,
    headers: withLength(decoded.status, shown.headers, body),
    setCookies: shown.setCookies,
    body,
    ending: 'end',
    outcome: SUCCEEDED,
    invoked: true,
  }
}

/**
 * A buffered result's headers with the `Content-Length` the service frames its body with (LocalStack's recorded
 * `test_lambda_url_invocation` snapshots): the decoded body's bytes, also for HEAD (the length GET would have);
 * none for a 204 or 304, which have no body.
 */
function withLength(
  status: number,
  headers: Array<[string, string]>,
  body: Uint8Array,
): Array<[string, string]> {
  return NULL_BODY.has(status) ? headers : [...headers, ['content-length', String(body.length)]]
}

// ---------------------------------------------------------------------------------------------------------
// The property

/** Each run is two exchanges, some waiting for a 300 ms timeout: 10 to 20 s in all on two busy cores. */
const RUNS = {
  numRuns: 300,
  // A transport that hangs costs the client's 6 s guard per try: report what shrinking found by then.
  interruptAfterTimeLimit: 120_000,
} as const

const twins = functionUrlTwins()
beforeAll(() => twins.listen())
afterAll(() => twins.close())

/** Headers each transport adds for its own framing (README: transport-specific), left out of the comparison. */
const FRAMING = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding'])

function comparable(seen: Seen, keepDate: boolean): Array<[string, string]> {
  return seen.headers.filter(([name]) => !FRAMING.has(name) || (keepDate && name === 'date'))
}

/**
 * The same answer from both. `racy`: the script writes after `end()` while earlier writes still wait for the
 * client; whether the end came first depends on the client's pace, so each transport is held to the model alone
 * for the ending, the body and the outcome.
 */
function checkParity(dev: Seen, mock: Seen, keepDate: boolean, racy: boolean): void {
  expect(mock.status).toBe(dev.status)
  expect(withoutRequestId(comparable(mock, keepDate))).toEqual(withoutRequestId(comparable(dev, keepDate)))
  expect(mock.setCookies).toEqual(dev.setCookies)
  if (racy) return
  expect(mock.ending).toBe(dev.ending)
  // A client that cancels once it has enough bytes gets them in chunks of each transport's making: compare what
  // both got.
  const length = dev.ending === 'cancelled' ? Math.min(dev.body.length, mock.body.length) : undefined
  expect(Buffer.from(mock.body.subarray(0, length)).toString('hex')).toBe(
    Buffer.from(dev.body.subarray(0, length)).toString('hex'),
  )
  expect(mock.invocations.map((i) => i.outcome.state)).toEqual(dev.invocations.map((i) => i.outcome.state))
  expect(mock.log).toEqual(dev.log)
}

function withoutRequestId(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.map(([name, value]) => [name, name === 'x-amzn-requestid' ? '<id>' : value])
}

describe('the emulator and the mock run any handler script alike, as a function URL would', () => {
  it('gives the same status, headers, body, ending and outcome, as the model says', async () => {
    await fc.assert(
      fc.asyncProperty(script, request, limitSpec, async (s, spec, limitPick) => {
        const neverSettles = s.type === 'stream' && ['return', 'hang', 'end-hang'].includes(s.ending)
        const limits: Limits = {
          // Long enough for any other script on a loaded machine, short of the client's guard (6 s).
          timeoutMs: neverSettles ? 300 : 4_000,
          ...(limitPick.maxResponseBytes !== undefined && { maxResponseBytes: limitPick.maxResponseBytes }),
          ...(limitPick.maxRequestBytes !== undefined && { maxRequestBytes: limitPick.maxRequestBytes }),
          ...(limitPick.maxBufferedResponseBytes !== undefined && {
            maxBufferedResponseBytes: limitPick.maxBufferedResponseBytes,
          }),
        }
        const resolved = { ...DEFAULT_LIMITS, ...limits } as ResolvedLimits
        const devEvents: FunctionUrlEvent[] = []
        const mockEvents: FunctionUrlEvent[] = []
        const { dev, mock } = await twins.run(
          (transport) => handlerOf(s, transport === 'dev' ? devEvents : mockEvents),
          twinRequest(spec),
          {
            limits,
            shaping:
              limitPick.shapingBurst === undefined
                ? false
                : { burstBytes: limitPick.shapingBurst, bytesPerSecond: 2 * 1024 * 1024 },
          },
        )

        // The cap holds the event as JSON, never under 120 bytes whatever the body (its request context alone is
        // more): a cap of the script's picking (at most 120) refuses every request, a body over it unread and one
        // within it read whole; the default refuses none of these.
        const tooLarge = limitPick.maxRequestBytes !== undefined
        const expected = tooLarge
          ? {
              ...serviceErrorExpected(413, 'RequestEntityTooLargeException', { states: [] }),
              invoked: false,
            }
          : s.type === 'stream'
            ? expectedStream(s, resolved)
            : expectedBuffered(s, resolved)

        // 1. parity (a date the function sets is its own, compared like any other header)
        checkParity(
          dev,
          mock,
          expected.headers.some(([name]) => name === 'date'),
          expected.ending === 'either',
        )

        // 2. the model
        for (const seen of [dev, mock]) checkModel(seen, expected, spec, s.type === 'buffered')
        if (expected.invoked) {
          expect(devEvents).toHaveLength(1)
          expect(mockEvents).toHaveLength(1)
          checkEvent(devEvents[0]!, spec, dev)
          checkEvent(mockEvents[0]!, spec, mock)
          expect(normalEvent(mockEvents[0]!)).toEqual(normalEvent(devEvents[0]!))
        } else {
          expect([devEvents.length, mockEvents.length]).toEqual([0, 0])
        }
      }),
      RUNS,
    )
  }, 150_000)
})

const NULL_BODY = new Set([204, 304])

/**
 * A header as HTTP means it, without the whitespace around its value and around the values joined in it: fetch's
 * `Headers` strips it, undici's parser of a response keeps it after a value.
 */
function ows([name, value]: [string, string]): [string, string] {
  return [
    name,
    value
      .split(',')
      .map((part) => part.trim())
      .join(','),
  ]
}

function checkModel(seen: Seen, expected: Expected, spec: RequestSpec, buffered: boolean): void {
  const { method, cancelAfter } = spec
  expect(seen.status).toBe(expected.status)
  const noBody = method === 'HEAD' || NULL_BODY.has(expected.status)
  const headers = new Headers()
  for (const [name, value] of expected.headers) headers.append(name, value)
  const want = [...headers].filter(([name]) => name !== 'set-cookie' && name !== 'x-amzn-requestid')
  const got = comparable(seen, true).filter(
    ([name]) =>
      name !== 'x-amzn-requestid' &&
      name !== 'x-amzn-errortype' &&
      !(name === 'date' && !want.some(([n]) => n === 'date')),
  )
  if (expected.errorType === undefined) expect(got.map(ows)).toEqual(want.map(ows))
  else expect(seen.headers).toContainEqual(['x-amzn-errortype', expected.errorType])
  expect(seen.setCookies.map((c) => c.trim())).toEqual(expected.setCookies.map((c) => c.trim()))

  // 3. the invocation: its outcome, and one log line for a failure (after the note on a buffered handler).
  let failure: string | undefined
  if (expected.invoked) {
    expect(seen.invocations).toHaveLength(1)
    const { requestId, outcome } = seen.invocations[0]!
    expect(seen.headers).toContainEqual(['x-amzn-requestid', requestId])
    expect(expected.outcome.states).toContain(outcome.state)
    failure = outcome.error?.message
    if (outcome.state === 'succeeded') expect(failure).toBeUndefined()
    else expect(failure).toMatch(expected.outcome.message!)
    const lines = [
      ...(buffered
        ? [expect.stringMatching(/^<id> the handler is not wrapped in awslambda\.streamifyResponse/)]
        : []),
      ...(failure === undefined ? [] : [`<id> ${outcome.state}: ${failure}`]),
    ]
    // The note on a lost prelude comes when the head is known; a failure of the handler may be logged before it.
    if (expected.lostPrelude) {
      expect(seen.log).toHaveLength(lines.length + 1)
      expect(seen.log).toEqual(expect.arrayContaining([...lines, expect.stringMatching(LOST_PRELUDE)]))
    } else expect(seen.log).toEqual(lines)
  } else {
    expect(seen.invocations).toHaveLength(0)
    expect(seen.log).toEqual([])
  }
  if (noBody) {
    // No body to cut: whatever happened after the head, the client has a complete answer.
    expect(seen.body).toHaveLength(0)
    expect(seen.ending).toBe('end')
    return
  }
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
  if (cancelAfter !== undefined && seen.ending === 'cancelled') {
    // The client left on its own: what it got is the start of what it would have got.
    expect(seen.body.length).toBeGreaterThanOrEqual(cancelAfter)
    if (expected.errorType === undefined)
      expect(hex(seen.body)).toBe(hex(expected.body.subarray(0, seen.body.length)))
    return
  }
  if (cancelAfter !== undefined) expect(seen.body.length).toBeLessThan(cancelAfter)
  if (expected.errorType !== undefined) {
    expect(seen.ending).toBe('end')
    const answer = JSON.parse(new TextDecoder().decode(seen.body)) as { Message: string; Type: string }
    expect(answer.Type).toBe(expected.errorType)
    // The client is told what the function's log says.
    if (failure !== undefined && !expected.outcome.either) expect(answer.Message).toContain(failure)
    return
  }
  if (expected.ending === 'either' && seen.ending === 'end') {
    expect(hex(seen.body)).toBe(hex(expected.body))
    return
  }
  if (expected.ending === 'prefix' || expected.ending === 'either') {
    expect(seen.ending).toBe('cut')
    expect(seen.body.length).toBeLessThanOrEqual(expected.prefixMax!)
    expect(hex(seen.body)).toBe(hex(expected.body.subarray(0, seen.body.length)))
    return
  }
  expect(seen.ending).toBe(expected.ending)
  expect(hex(seen.body)).toBe(hex(expected.body))
}

/** The event a request must make (README: event v2), for the parts the request decides. */
function checkEvent(event: FunctionUrlEvent, spec: RequestSpec, seen: Seen): void {
  const url = new URL(twinRequest(spec).path, seen.base)
  expect(event.rawPath).toBe(url.pathname)
  expect(event.rawQueryString).toBe(url.search.slice(1))
  expect(event.requestContext.http.method).toBe(spec.method)
  expect(event.requestContext.http.path).toBe(url.pathname)
  if (url.search === '') expect(event.queryStringParameters).toBeUndefined()
  else {
    const query = new Map<string, string>()
    for (const [name, value] of url.searchParams) {
      const earlier = query.get(name)
      query.set(name, earlier === undefined ? value : `${earlier},${value}`)
    }
    expect(event.queryStringParameters).toEqual(Object.fromEntries(query))
  }
  const sent = new Headers(twinRequest(spec).headers)
  const cookieHeader = sent.get('cookie')
  if (cookieHeader === null) expect(event.cookies).toBeUndefined()
  else
    expect(event.cookies).toEqual(
      cookieHeader
        .split(';')
        .map((c) => c.trim())
        .filter(Boolean),
    )
  // HTTP drops the whitespace around a field value (two empty values joined are ',').
  for (const [name, value] of sent) if (name !== 'cookie') expect(event.headers[name]).toBe(value.trim())
  const body = twinRequest(spec).body
  const bytes =
    body === undefined
      ? new Uint8Array(0)
      : typeof body === 'string'
        ? encode(body)
        : Array.isArray(body)
          ? concatBytes(body)
          : body
  if (bytes.length === 0) {
    expect(event.body).toBeUndefined()
    expect(event.isBase64Encoded).toBe(false)
  } else if (/^(text\/|application\/json)/.test(event.headers['content-type'] ?? '') && isUtf8(bytes)) {
    // A text body that is not valid UTF-8 goes as base64: decoded, its invalid bytes would be lost.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)
    expect(event).toMatchObject({ body: text, isBase64Encoded: false })
  } else {
    expect(event).toMatchObject({ body: Buffer.from(bytes).toString('base64'), isBase64Encoded: true })
  }
  expect(event.requestContext.requestId).toBe(seen.invocations[0]!.requestId)
  // Assumed from real events: the headers of the client's connection end at the service.
  for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade'])
    expect(event.headers).not.toHaveProperty(name)
  const base = new URL(seen.base)
  expect(event.requestContext.domainName).toBe(base.host)
  // The URL id is the first label of a function URL's host; an address has none.
  expect(event.requestContext.apiId).toBe(
    /^[\d.]+$/.test(base.hostname) ? 'local' : base.hostname.split('.')[0],
  )
  expect(event.headers.host).toBe(base.host)
  expect(event.headers['x-forwarded-proto']).toBe(base.protocol.slice(0, -1))
  expect(event.headers['x-forwarded-port']).toBe(base.port || (base.protocol === 'https:' ? '443' : '80'))
}

/**
 * The event without what differs from one invocation to the next (its id and time) and from one function URL to
 * the other (its host, port and scheme), which `checkEvent` checks on each.
 */
function normalEvent(event: FunctionUrlEvent): unknown {
  const {
    requestId: _id,
    time: _time,
    timeEpoch: _epoch,
    domainName: _domain,
    domainPrefix: _prefix,
    apiId: _api,
    ...context
  } = event.requestContext
  const { host: _host, 'x-forwarded-proto': _proto, 'x-forwarded-port': _port, ...headers } = event.headers
  return { ...event, headers, requestContext: context }
}
