import type { ServerResponse } from 'node:http'
import { discardUnread, type FunctionUrlResponse, framingHeader } from '../runtime/index.ts'
import { ERROR_TRAILERS, errorTrailers, type LateFailure } from './error-trailers.ts'

/**
 * Sends a function URL response on a `node:http` response (chunked, or with a `Content-Length` when its length is
 * known), chunk by chunk as the function writes, waiting for `'drain'` so that a slow client slows the function
 * down. A body that errors destroys the socket once the bytes written before the error have left (the client gets
 * them all, then a broken connection, never a clean end), or 10 s after the failure if they have not (a client that
 * stopped reading); with `lateFailure` `'trailers'`, it ends the body cleanly instead, the error in trailers that
 * the head declared. A client that goes away cancels the body (the function keeps running).
 *
 * @example
 * await writeResponse(await invocation.response, nodeResponse)
 */
export async function writeResponse(
  response: FunctionUrlResponse,
  res: ServerResponse,
  lateFailure: LateFailure = 'cut',
): Promise<void> {
  // A client that left before the function's first byte closed the socket while the response was still being
  // awaited, so the 'close' listener below would never fire: without this, the handler blocks on backpressure
  // until its timeout instead of running on with its writes discarded.
  if (res.destroyed) {
    void response.body.cancel().catch(() => {})
    return
  }
  const flat: string[] = []
  for (const [name, value] of response.headers) flat.push(name, value)
  // A streamed response goes chunked, whatever the function declared; a buffered result with its exact length. A
  // HEAD answer says so too, as RFC 9110 and 9112 allow, to tell how GET would be framed; a 204 with either would
  // make Node close the connection.
  const framing = framingHeader(response)
  // Not to an HTTP/1.0 client, which reads chunk sizes as body bytes (RFC 9112 §6.1: no Transfer-Encoding unless
  // the request is HTTP/1.1): Node then ends the body by closing the connection, as HTTP/1.0 frames it.
  const chunkless = framing?.[0] === 'transfer-encoding' && res.req.httpVersion === '1.0'
  if (framing !== undefined && !chunkless) flat.push(...framing)
  // Trailers go only after chunks, and Node refuses a `Trailer` header on a body framed otherwise; a body that
  // cannot fail (a buffered result, a HEAD answer) has none to declare. The runtime declares them on every
  // streamed response, before it knows whether it will fail.
  const trailers =
    lateFailure === 'trailers' &&
    response.failing !== undefined &&
    framing?.[0] === 'transfer-encoding' &&
    !chunkless
  if (trailers) flat.push('trailer', ERROR_TRAILERS)
  try {
    res.writeHead(response.status, flat)
    // Sends the head now, before the first byte of the body (the function may write nothing for a while). Not
    // flushHeaders(): it sends the head as UTF-8, where header values are bytes — the latin1 of each character, as
    // fetch's Headers has them and as an empty write sends them. A HEAD, 204 or 304 head goes out with end().
    res.write(nothing)
  } catch (error) {
    // Headers Node refuses: the handler must run on with its writes discarded, not wait for its timeout.
    discardUnread(response)
    throw error
  }

  const reader = response.body.getReader()
  let gone = false
  // A body bound to fail cuts the connection at most FLUSH_LIMIT_MS after the failure: the loop below learns of it
  // only once it has read the bytes before it, which a client that stopped reading holds back for good.
  let cut: ReturnType<typeof setTimeout> | undefined
  const onClose = () => {
    clearTimeout(cut)
    if (res.writableFinished) return
    gone = true
    void reader.cancel().catch(() => {})
  }
  res.on('close', onClose)
  void response.failing?.then(() => {
    if (!res.destroyed) cut = setTimeout(() => res.destroy(), FLUSH_LIMIT_MS)
  })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || gone) break
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const settle = () => {
            res.off('drain', settle)
            res.off('close', settle)
            resolve()
          }
          res.on('drain', settle)
          res.on('close', settle)
        })
      }
      if (gone) break
    }
    if (!gone) res.end()
  } catch (error) {
    // The last chunk goes after the bytes still queued: the client reads them all, then a clean end, as a function
    // URL may show a failure (over HTTP/1.0 the connection's close ends the body, with no trailers).
    if (lateFailure === 'trailers') {
      if (trailers) res.addTrailers(errorTrailers(error))
      res.end()
      return
    }
    // What the function wrote before it failed is the client's, as a function URL delivers it: destroying at once
    // would throw away whatever still sits in the socket's buffers (all of it, right after a burst of writes).
    await flushed(res)
    // No error argument: the function's error is in its log already, and an 'error' event on the response would
    // need a listener; destroying the socket without the last chunk is what makes the client see a failure.
    res.destroy()
  }
}

/**
 * How long the bytes written before a failure may take to leave, from the failure, before the connection is cut
 * anyway, so that a client that stopped reading cannot hold a socket forever.
 */
const FLUSH_LIMIT_MS = 10_000
const nothing = new Uint8Array(0)

/**
 * Resolves once everything written to `res` so far has been handed to the operating system, the connection has
 * closed, or {@link FLUSH_LIMIT_MS} has passed. Write callbacks run in order, so the callback of an empty write
 * runs after those of every earlier write; an empty write adds nothing to the wire (no chunk, so no end either).
 */
function flushed(res: ServerResponse): Promise<void> {
  if (res.destroyed || !res.writable) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      res.off('close', done)
      resolve()
    }
    const timer = setTimeout(done, FLUSH_LIMIT_MS)
    res.on('close', done)
    res.write(nothing, () => done())
  })
}
