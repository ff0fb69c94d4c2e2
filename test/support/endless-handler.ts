import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { awslambda } from '../../src/dev/index.ts'

/**
 * A streaming handler that pipes an endless source (an SSE event every millisecond) into its response stream, as a
 * live feed does: `closed` resolves once the source was closed (its `finally` ran), `piped` with how the pipeline
 * ended (`'ended'`, or its error).
 *
 * @example
 * const { handler, closed, piped } = endlessHandler()
 */
export function endlessHandler() {
  const closed = Promise.withResolvers<void>()
  async function* endless() {
    try {
      for (let i = 0; ; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1))
        yield `data: ${i}\n\n`
      }
    } finally {
      closed.resolve()
    }
  }
  const piped = Promise.withResolvers<unknown>()
  const handler = awslambda.streamifyResponse(async (_event, responseStream) => {
    await pipeline(Readable.from(endless()), responseStream).then(() => piped.resolve('ended'), piped.resolve)
  })
  return { handler, closed: closed.promise, piped: piped.promise }
}
