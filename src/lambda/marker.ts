/**
 * The response header that announces an in-band end marker, and its value.
 *
 * @example
 * if (response.headers.get(END_MARKER_HEADER) === 'marker') expectMarker()
 */
export const END_MARKER_HEADER = 'x-sluice-end'

/**
 * The final line that proves a body complete: `{"$sluice":"end","bytes":N}\n`, where `N` is the offset at which
 * the line starts in the complete (unranged) body.
 *
 * The helpers write it for you; use this only when writing a body by hand (then also send the
 * `x-sluice-end: marker` header).
 *
 * @example
 * stream.write(endMarkerLine(bytesWritten)); stream.end()
 */
export function endMarkerLine(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(
      `sluice/lambda: the end marker needs a byte count, got ${bytes}; pass the body's length.`,
    )
  }
  return `{"$sluice":"end","bytes":${bytes}}\n`
}
