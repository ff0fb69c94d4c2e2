/**
 * A function URL's answer to one request, before it goes on the wire: the emulator writes it to a socket, the msw
 * handler turns it into a `Response`.
 */
export interface FunctionUrlResponse {
  status: number
  /** Header pairs; `set-cookie` may repeat. */
  headers: Array<[string, string]>
  /** The body; it errors when the invocation fails after the headers went out, which must cut the connection. */
  body: ReadableStream<Uint8Array>
  /**
   * The body's exact length in bytes, when the service has the whole body before it answers (a buffered result):
   * sent as `Content-Length` instead of chunked. Absent for a streamed response. For a HEAD request, the length GET
   * would have, with an empty body.
   */
  length?: number | undefined
  /**
   * Resolves as soon as the body is bound to error, before its reader gets there (the bytes written before the
   * failure come first): a client that stopped reading would otherwise hold the connection open for good.
   */
  failing?: Promise<void> | undefined
}

/**
 * Cancels a response's body unless a reader holds it, once the response is known: nobody will read it, and the
 * handler must run on with its writes discarded (as the service runs it) instead of blocking on backpressure
 * until its timeout.
 *
 * @example
 * discardUnread(invocation.response)
 */
export function discardUnread(response: FunctionUrlResponse | Promise<FunctionUrlResponse>): void {
  void Promise.resolve(response)
    .then(({ body }) => (body.locked ? undefined : body.cancel()))
    .catch(() => {})
}

/** Why the service answered instead of the function: the `x-amzn-errortype` of the error response. */
export type ServiceErrorType =
  | 'Unhandled'
  | 'Sandbox.Timedout'
  | 'Function.ResponseSizeTooLarge'
  | 'InvalidPrelude'
  | 'InvalidResponse'
  | 'RequestEntityTooLargeException'

/**
 * Builds an error answered by the service itself, with a JSON body `{"Message": …}` like AWS's.
 *
 * @example
 * serviceError(502, 'Unhandled', 'The function failed before it sent a response: boom.', requestId)
 */
export function serviceError(
  status: number,
  type: ServiceErrorType,
  message: string,
  requestId: string,
): FunctionUrlResponse {
  const body = new TextEncoder().encode(JSON.stringify({ Message: message, Type: type }))
  return {
    status,
    headers: [
      ['content-type', 'application/json'],
      ['x-amzn-errortype', type],
      ['x-amzn-requestid', requestId],
    ],
    body: new ReadableStream({
      start(controller) {
        controller.enqueue(body)
        controller.close()
      },
    }),
  }
}

/**
 * Whether a function URL frames a body for this status — `transfer-encoding: chunked` for a streamed response, a
 * `Content-Length` for a buffered result (see {@link framingHeader}): not a 204 or a 304, which have no body to
 * frame (RFC 9112 forbids the header on a 204, RFC 9110 `Content-Length` too).
 *
 * @example
 * isChunked(200) // true
 * isChunked(204) // false
 */
export function isChunked(status: number): boolean {
  return status !== 204 && status !== 304
}

/**
 * The header that frames a response's body on the wire, as a function URL sends it: `content-length` for a body
 * the service had whole (a buffered result: AWS answers it with an exact `Content-Length`, LocalStack's recorded
 * `test_lambda_url_invocation` snapshots), `transfer-encoding: chunked` for a streamed one, and none for a 204 or
 * 304, which have no body to frame. Both function URLs (`sluice/dev`, `sluice/mock`) take it from here, so they
 * frame alike.
 *
 * @example
 * framingHeader({ status: 200, length: 5 }) // ['content-length', '5']
 * framingHeader({ status: 200 }) // ['transfer-encoding', 'chunked']
 */
export function framingHeader(
  response: Pick<FunctionUrlResponse, 'status' | 'length'>,
): [string, string] | undefined {
  if (!isChunked(response.status)) return undefined
  return response.length === undefined
    ? ['transfer-encoding', 'chunked']
    : ['content-length', String(response.length)]
}

/** Headers that describe one hop's framing: the service sets its own. */
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer', 'te'])

/**
 * Turns the function's status, headers and cookies into what the function URL sends, with the service's
 * rewrites: `Content-Length` becomes `x-amzn-remapped-content-length`, `Content-Encoding` is dropped, cookies
 * become `set-cookie` headers, the content type defaults to `defaultContentType` (`application/octet-stream`, what
 * a streamed response gets; a buffered result gets `application/json`), and the request id is the service's (a
 * function's own `x-amzn-requestid` is dropped).
 *
 * @example
 * responseHeaders([['content-length', '10']], [], 'id') // includes ['x-amzn-remapped-content-length', '10']
 */
export function responseHeaders(
  headers: Iterable<readonly [string, string]>,
  cookies: readonly string[],
  requestId: string,
  defaultContentType = 'application/octet-stream',
): Array<[string, string]> {
  const out: Array<[string, string]> = []
  let hasContentType = false
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase()
    // The request id is the service's, sent once: a function's own would join it into one useless value.
    if (hopByHop.has(name) || name === 'content-encoding' || name === 'x-amzn-requestid') continue
    if (name === 'content-length') {
      out.push(['x-amzn-remapped-content-length', value])
      continue
    }
    if (name === 'content-type') hasContentType = true
    out.push([name, value])
  }
  if (!hasContentType) out.push(['content-type', defaultContentType])
  for (const cookie of cookies) out.push(['set-cookie', cookie])
  out.push(['x-amzn-requestid', requestId])
  return out
}
