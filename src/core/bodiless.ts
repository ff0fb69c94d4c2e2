/**
 * Whether a response with this status has no content (RFC 9110 §6.4.1: 204, 205 and 304), whatever its headers
 * say: neither a length nor an end marker can describe a body for it, and a range cannot apply.
 */
export function isBodiless(status: number): boolean {
  return status === 204 || status === 205 || status === 304
}

/**
 * Whether a request's `Range` applies to a response with this status: a successful one that has a body. An error
 * status describes the error, not the resource, and a resuming client would take its bytes for the resource's.
 */
export function isRangeableStatus(status: number): boolean {
  return status >= 200 && status < 300 && !isBodiless(status)
}
