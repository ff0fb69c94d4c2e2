/**
 * A random UUID for request ids, from Web Crypto when the runtime has it.
 *
 * @example
 * const requestId = randomId() // 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef'
 */
export function randomId(): string {
  if (typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID()
  // Only ids for logs and events: they need to be unique enough, not unguessable.
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`
}
