/**
 * A count with its noun, singular for exactly one: `count(1, 'byte')` is `1 byte`, `count(0, 'byte')` and
 * `count(2, 'byte')` are `0 bytes` and `2 bytes`. For the regular nouns of the CLI's messages (byte, line,
 * record, event, reconnect), whose plural adds an s.
 *
 * @example
 * `interrupted after ${count(written, 'byte')} of output`
 */
export function count(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`
}
