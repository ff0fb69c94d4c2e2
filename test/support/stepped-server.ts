import { fetchWith } from './streams.ts'

/**
 * Serves `BODY` whole or from a `Range: bytes=N-` as a 206, every answer at once but the first whole one, which sends
 * the bytes up to each of `cuts` as a chunk, one a pull, then waits for `go()` before it sends the rest as the last;
 * `asked` settles when the source is pulled for that last chunk.
 */
export function steppedServer(
  BODY: Uint8Array<ArrayBuffer>,
  HEADERS: Record<string, string>,
  cuts: number[],
): { fetch: typeof fetch; asked: Promise<void>; go: () => void } {
  const asked = Promise.withResolvers<void>()
  const gate = Promise.withResolvers<void>()
  let first = true
  const fetch = fetchWith((request) => {
    const range = request.headers.get('range')
    const from = Number(/bytes=(\d+)-/.exec(range ?? '')?.[1] ?? 0)
    const headers = { ...HEADERS, 'content-length': String(BODY.length - from) }
    if (range === null && first) {
      first = false
      const ends = [...cuts, BODY.length]
      let at = 0
      const stream = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (ends.length === 1) {
              asked.resolve()
              await gate.promise
            }
            const end = ends.shift()!
            controller.enqueue(BODY.slice(at, end))
            at = end
            if (ends.length === 0) controller.close()
          },
        },
        { highWaterMark: 0 },
      )
      return new Response(stream, { headers })
    }
    const status = range === null ? 200 : 206
    const content =
      range === null ? {} : { 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` }
    return new Response(BODY.slice(from), { status, headers: { ...headers, ...content } })
  })
  return { fetch, asked: asked.promise, go: gate.resolve }
}
