/**
 * The payload-format-2.0 event a function URL hands to the function, built from one HTTP request.
 *
 * @example
 * const handler = awslambda.streamifyResponse(async (event: FunctionUrlEvent, responseStream) => {
 *   responseStream.end(`You asked for ${event.rawPath}`)
 * })
 */
export interface FunctionUrlEvent {
  version: '2.0'
  routeKey: '$default'
  /** The path as the client sent it: not decoded, nor normalised (`/a/../b` stays as it is). */
  rawPath: string
  /** The query string without the `?`, as the client sent it (not decoded); `''` when there is none. */
  rawQueryString: string
  /** The request's cookies, one `name=value` per entry; absent when the request has none. */
  cookies?: string[]
  /**
   * Lower-cased names; repeated headers joined with commas; `cookie` moves to {@link FunctionUrlEvent.cookies};
   * `x-forwarded-for`, `-proto` and `-port` added by the service; no headers of the client's connection
   * (`connection`, `keep-alive`, `transfer-encoding`, `upgrade`, …), which end at the service.
   */
  headers: Record<string, string>
  /** Decoded query parameters, repeated ones joined with commas; absent when there is no query string. */
  queryStringParameters?: Record<string, string>
  requestContext: FunctionUrlRequestContext
  /** The request body: text for textual content types when it is valid UTF-8, base64 otherwise; absent if empty. */
  body?: string
  /** Whether {@link FunctionUrlEvent.body} is base64. */
  isBase64Encoded: boolean
}

/** The `requestContext` of a {@link FunctionUrlEvent}. */
export interface FunctionUrlRequestContext {
  /** `'anonymous'` for a function URL with `AuthType: NONE`. */
  accountId: string
  /** The URL id: the first label of the function URL's host name. */
  apiId: string
  domainName: string
  domainPrefix: string
  http: {
    method: string
    path: string
    protocol: string
    sourceIp: string
    userAgent: string
  }
  requestId: string
  routeKey: '$default'
  stage: '$default'
  /** The request time as `dd/MMM/yyyy:HH:mm:ss +0000`. */
  time: string
  /** The request time in milliseconds since the epoch. */
  timeEpoch: number
}

/**
 * The invocation context the Node.js runtime passes as the handler's last argument.
 *
 * @example
 * if (context.getRemainingTimeInMillis() < 1000) responseStream.end()
 */
export interface LambdaContext {
  /** Kept for compatibility with callback-style handlers; the emulators do not wait on the event loop. */
  callbackWaitsForEmptyEventLoop: boolean
  functionName: string
  functionVersion: string
  invokedFunctionArn: string
  /** A string, as in the real runtime. */
  memoryLimitInMB: string
  awsRequestId: string
  logGroupName: string
  logStreamName: string
  /** Milliseconds left before the invocation times out. */
  getRemainingTimeInMillis(): number
}

/**
 * What a function passes to `awslambda.HttpResponseStream.from`: the status, headers and cookies of the response.
 *
 * @example
 * awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'content-type': 'text/plain' } })
 */
export interface ResponseMetadata {
  /** Default `200`. */
  statusCode?: number | undefined
  headers?: Record<string, string> | undefined
  /** `Set-Cookie` values, one per cookie. */
  cookies?: string[] | undefined
}

/** A callback a Node stream method takes. */
export type StreamCallback = (error?: Error | null) => void

/**
 * The writable side a streaming handler writes its response to.
 *
 * In Node it is a real `stream.Writable` (so `pipeline(source, responseStream)` works); in a browser it is a
 * minimal stand-in with the same `write`/`end`/`destroy`/events surface, described here.
 *
 * @example
 * responseStream.setContentType('text/plain')
 * responseStream.write('hello ')
 * responseStream.end('world')
 */
export interface ResponseStream {
  /** Writes a chunk; returns `false` when the caller should wait for `'drain'` before writing more. */
  write(chunk: Uint8Array | string, callback?: StreamCallback): boolean
  write(chunk: Uint8Array | string, encoding: string, callback?: StreamCallback): boolean
  /**
   * Ends the response, optionally after a last chunk. As in the runtime, it never sends the prelude of
   * `HttpResponseStream.from`, which goes out with the first `write()`: write before you end.
   */
  end(callback?: () => void): this
  end(chunk: Uint8Array | string, callback?: () => void): this
  end(chunk: Uint8Array | string, encoding: string, callback?: () => void): this
  /** Sets the response's content type; must come before the first write. */
  setContentType(contentType: string): void
  /** Aborts the response; with an error, the invocation fails. */
  destroy(error?: Error): this
  on(event: string, listener: (...args: never[]) => void): this
  once(event: string, listener: (...args: never[]) => void): this
  off(event: string, listener: (...args: never[]) => void): this
  readonly writableEnded: boolean
  readonly writableFinished: boolean
  readonly destroyed: boolean
  /**
   * Set by `HttpResponseStream.from`: writes the prelude just before the first `write()`, as the real runtime does
   * (`end()` never runs it, so `end()` without a write sends no prelude).
   */
  _onBeforeFirstWrite?: ((write: (chunk: Uint8Array | string) => void) => void) | undefined
}

/**
 * A handler in the shape `awslambda.streamifyResponse` takes.
 *
 * @example
 * const handler: StreamingHandler = async (event, responseStream) => { responseStream.end('ok') }
 */
export type StreamingHandler = (
  event: FunctionUrlEvent,
  responseStream: ResponseStream,
  context: LambdaContext,
) => unknown

/**
 * The result a buffered (non-streaming) handler may return: payload format 2.0, as for a `BUFFERED` function URL.
 *
 * @example
 * export const handler = async () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' })
 */
export interface FunctionUrlResult {
  statusCode?: number | undefined
  headers?: Record<string, string> | undefined
  cookies?: string[] | undefined
  body?: string | undefined
  isBase64Encoded?: boolean | undefined
}

/**
 * Any function a function URL can run: a handler returned by `streamifyResponse`, a raw
 * `(event, responseStream, context)` function, or a buffered `(event, context)` handler.
 *
 * Typed loosely on purpose so that handlers typed with other packages' types (such as `@types/aws-lambda`) fit.
 */
export type AnyLambdaHandler = (...args: never[]) => unknown

/**
 * The shape of the `awslambda` global that the Lambda Node.js runtime defines.
 *
 * @example
 * export const handler = awslambda.streamifyResponse(async (event, responseStream) => responseStream.end('ok'))
 */
export interface Awslambda {
  /** Marks a handler as streaming; returns the same function. */
  streamifyResponse<H extends StreamingHandler>(handler: H, options?: { highWaterMark?: number }): H
  HttpResponseStream: {
    /** Makes the response carry a status, headers and cookies; returns the same stream. */
    from<S extends ResponseStream>(responseStream: S, metadata: ResponseMetadata): S
  }
}
