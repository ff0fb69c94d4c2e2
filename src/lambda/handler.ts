import { describeValue } from '../runtime/describe-value.ts'
import type { Awslambda as PortableAwslambda } from '../runtime/types.ts'
import type { BytesOptions, BytesSource } from './bytes.ts'
import { streamBytes } from './bytes.ts'
import { checkOptions, HANDLER_OPTIONS, HELPER_OPTIONS } from './check-options.ts'
import type { NdjsonOptions } from './ndjson.ts'
import { streamNdjson } from './ndjson.ts'
import type { ResumableSource } from './options.ts'
import { resolveAwsLambda } from './respond.ts'
import type { SseMessage, SseOptions } from './sse.ts'
import { streamSse } from './sse.ts'
import type { Awslambda, Context, LambdaFunctionUrlEvent, StreamingHandler } from './types.ts'

type Filled = 'request' | 'awslambda'

const BODIES = ['ndjson', 'sse', 'bytes'] as const
const HELPER_OF = { ndjson: 'streamNdjson', sse: 'streamSse', bytes: 'streamBytes' } as const

const FILLED_HINT =
  'sluiceHandler fills in request (the event) and awslambda (from its own options): leave it out of the result.'
const CALLBACK = {
  got: 'the sluiceHandler callback returned',
  hints: { request: FILLED_HINT, awslambda: FILLED_HINT },
  bodies: true,
}

/**
 * What a {@link sluiceHandler} callback returns: exactly one body — `ndjson`, `sse` or `bytes` — plus that
 * helper's options (the request and the `awslambda` object are filled in for you).
 *
 * @example
 * const response: SluiceResponse = { ndjson: reportRows('2026-10'), headers: { 'cache-control': 'no-store' } }
 */
export type SluiceResponse =
  | ({ ndjson: ResumableSource<unknown>; sse?: never; bytes?: never } & Omit<NdjsonOptions, Filled>)
  | ({ sse: ResumableSource<SseMessage>; ndjson?: never; bytes?: never } & Omit<SseOptions, Filled>)
  | ({ bytes: BytesSource; ndjson?: never; sse?: never } & Omit<BytesOptions, Filled>)

/**
 * Options of {@link sluiceHandler}.
 *
 * @example
 * export const handler = sluiceHandler(respond, { awslambda: fakeRuntime })
 */
export interface SluiceHandlerOptions {
  /**
   * The runtime object to use: the Lambda runtime's, or the `awslambda` of `sluice/mock` (whose streams are Node
   * `Writable`s when it runs in Node). Default: the `awslambda` global.
   */
  awslambda?: Awslambda | PortableAwslambda | undefined
  /** The response stream's buffer in bytes, passed to `streamifyResponse`. Default: the runtime's (16 KiB). */
  highWaterMark?: number | undefined
}

/**
 * Builds a streaming Lambda handler (already passed through `awslambda.streamifyResponse`) from a callback
 * that returns the body to stream and its options; resume headers are read from the event.
 *
 * If the callback throws, or the source fails before its first byte, the invocation fails and the function URL
 * answers with an error status; a failure after the first byte cuts the body, which sluice clients detect. A
 * request a plain iterable cannot serve (one that carries a cursor) is answered `409`, saying why. Its callback and
 * its own options are checked at once, and a result's options before its body is written: a callback that is no
 * function, an unknown name, or a value of the wrong type, is a `TypeError` that says what to pass.
 *
 * @example
 * export const handler = sluiceHandler(async (event) => ({
 *   ndjson: (cursor) => reportRows({ month: event.queryStringParameters?.month, after: cursor }),
 *   etag: '"report-2026-10"',
 * }))
 */
export function sluiceHandler(
  respond: (event: LambdaFunctionUrlEvent, context: Context) => SluiceResponse | Promise<SluiceResponse>,
  options: SluiceHandlerOptions = {},
): StreamingHandler {
  if (typeof respond !== 'function') {
    throw new TypeError(
      `sluice/lambda: sluiceHandler got ${describeValue(respond)} for its callback; pass a function of the event that returns the body and its options, such as (event) => ({ ndjson: rows }).`,
    )
  }
  checkOptions({ got: 'sluiceHandler got' }, options, HANDLER_OPTIONS)
  // sluice/mock's portable type describes a stream that, in Node, is a real Writable: the one the helpers need.
  const lambda = resolveAwsLambda(options.awslambda as Awslambda | undefined, 'sluiceHandler')
  const handler: StreamingHandler = async (event, responseStream, context) => {
    const response = await respond(event, context)
    const bodies =
      typeof response === 'object' && response !== null
        ? BODIES.filter((name) => response[name] !== undefined)
        : []
    if (bodies.length !== 1) {
      throw new TypeError(
        `sluice/lambda: the sluiceHandler callback returned ${bodies.length === 0 ? 'no body' : `${bodies.join(' and ')} together`}; return an object with exactly one of ndjson, sse or bytes.`,
      )
    }
    const body = bodies[0]!
    // The result carries its body beside the helper's options, without the two that are filled in here.
    const { request: _request, awslambda: _awslambda, ...rules } = HELPER_OPTIONS[HELPER_OF[body]]
    checkOptions(CALLBACK, response, rules, BODIES)
    const fill = { request: event, awslambda: lambda }
    // The other bodies' keys, if present, are undefined: they are no options of the helper.
    if (response.ndjson !== undefined) {
      const { ndjson, sse: _sse, bytes: _bytes, ...rest } = response
      await streamNdjson(responseStream, ndjson, { ...rest, ...fill })
    } else if (response.sse !== undefined) {
      const { sse, ndjson: _ndjson, bytes: _bytes, ...rest } = response
      await streamSse(responseStream, sse, { ...rest, ...fill })
    } else {
      const { bytes, ndjson: _ndjson, sse: _sse, ...rest } = response
      await streamBytes(responseStream, bytes, { ...rest, ...fill })
    }
  }
  return options.highWaterMark === undefined
    ? lambda.streamifyResponse(handler)
    : lambda.streamifyResponse(handler, { highWaterMark: options.highWaterMark })
}
