/** What `flood` writes to: a response stream, or any Writable. */
interface Sink {
  write(chunk: Uint8Array): boolean
  once(event: 'drain', listener: () => void): unknown
  end(): unknown
}

/**
 * Writes `chunks` pieces of 64 KiB, waiting on backpressure, then ends: far more than socket buffers hold, so a
 * handler whose client left blocks forever unless its writes are discarded.
 */
export async function flood(stream: Sink, chunks = 64): Promise<void> {
  for (let i = 0; i < chunks; i++) {
    if (!stream.write(new Uint8Array(64 * 1024)))
      await new Promise<void>((resolve) => stream.once('drain', resolve))
  }
  stream.end()
}
