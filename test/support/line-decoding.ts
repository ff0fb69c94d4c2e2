import { LineDecoder } from '../../src/core/decoders/lines.ts'

/** Feeds `chunks` to a line decoder until it fails: the lines before, and the error (`undefined` if none). */
export function decodeLines(chunks: Uint8Array[], maxLineBytes: number): { lines: string[]; error: unknown } {
  const decoder = new LineDecoder({ maxLineBytes })
  const lines: string[] = []
  try {
    for (const chunk of chunks) {
      lines.push(...decoder.push(chunk))
      if (decoder.failure !== undefined) throw decoder.failure
    }
    lines.push(...decoder.end())
    if (decoder.failure !== undefined) throw decoder.failure
  } catch (error) {
    return { lines, error }
  }
  return { lines, error: undefined }
}
