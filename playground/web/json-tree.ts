// The document panel's tree: a partial JSON snapshot laid out as JSON.stringify(value, null, 2) lays out the final
// document, as if that text were being typed. The values on the parser's open path are still growing
// (highlighted) and stay open: no closing quote or bracket, no comma after them. One `…` marks where more is
// coming, at the end of the innermost open value — unless nothing more comes (the run ended without the rest).

import type { JsonPathSegment } from '../../src/index.ts'
import { el } from './dom.ts'

/**
 * The tree of `value` (a snapshot, or the final document when `open` is `undefined`). Finished subtrees keep
 * their identity between snapshots, so `built` keeps the DOM made for each and it is made once. `more: false`
 * shows a snapshot whose run ended: its open values stay open, neither highlighted nor followed by `…`.
 */
export function jsonTree(
  value: unknown,
  open: readonly JsonPathSegment[] | undefined,
  built: WeakMap<object, Node> = new WeakMap(),
  more = true,
): Node {
  const node = (value: unknown, path: JsonPathSegment[], indent: string): Node => {
    const growing = open !== undefined && path.length <= open.length && path.every((s, i) => open[i] === s)
    const mark = growing && more ? ' growing' : ''
    if (value === null || typeof value !== 'object') {
      const kind = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'literal'
      const text = JSON.stringify(value)
      // A growing string has no closing quote yet.
      return el('span', {
        className: `${kind}${mark}`,
        textContent: growing ? `${kind === 'string' ? text.slice(0, -1) : text}${more ? '…' : ''}` : text,
      })
    }
    const cached = growing ? undefined : built.get(value)
    if (cached !== undefined) return cached
    const isArray = Array.isArray(value)
    const entries: [JsonPathSegment, unknown][] = isArray
      ? value.map((item, i) => [i, item])
      : Object.entries(value as Record<string, unknown>)
    const inner = `${indent}  `
    const out = el('span', { className: mark.trim() }, isArray ? '[' : '{')
    entries.forEach(([key, child], i) => {
      out.append(`\n${inner}`)
      if (!isArray) out.append(el('span', { className: 'key', textContent: JSON.stringify(key) }), ': ')
      out.append(node(child, [...path, key], inner))
      if (i < entries.length - 1) out.append(',')
    })
    if (!growing) {
      out.append(entries.length > 0 ? `\n${indent}` : '', isArray ? ']' : '}')
      built.set(value, out)
    } else if (more && path.length === open!.length) {
      // The innermost open value: its next entry, or its end, is what comes next.
      out.append(`\n${inner}…`)
    }
    return out
  }
  return node(value, [], '')
}
