/**
 * An SSE event id as a `Last-Event-ID` header carries it: its UTF-8 bytes, one header character each, as
 * EventSource sends it (WHATWG HTML §9.2) — fetch would send U+0080–U+00FF as one Latin-1 byte and refuse the rest.
 */
export const idToHeader = (id: string): string => unescape(encodeURIComponent(id))

/**
 * The id a `Last-Event-ID` value carries: its bytes (one character each, as fetch and Node's http give them) read
 * as UTF-8; a value that is not UTF-8 as it is — a Latin-1 id, as fetch sends one, or a value already decoded.
 */
export const idFromHeader = (value: string): string => {
  try {
    return decodeURIComponent(escape(value))
  } catch {
    return value
  }
}
