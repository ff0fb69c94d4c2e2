// The playground's document panel: a partial JSON snapshot laid out like the final document's text being typed.
import { expect, it } from 'vitest'
import { DOCUMENT, DOCUMENT_TEXT } from '../../playground/functions/data.ts'
import { jsonTree } from '../../playground/web/json-tree.ts'
import { createPartialJsonParser } from '../../src/partial-json.ts'

/** The tree's text for `text`, a prefix of a document. */
function shown(text: string): string {
  const parser = createPartialJsonParser()
  parser.push(text)
  return jsonTree(parser.snapshot, parser.openPath).textContent ?? ''
}

it('shows open containers open, with one … where more is coming', () => {
  expect(shown('{"a": [1, {"b": "xy')).toBe('{\n  "a": [\n    1,\n    {\n      "b": "xy…')
  expect(shown('{"a": [1, true,')).toBe('{\n  "a": [\n    1,\n    true\n    …')
  expect(shown('{"a": {}, "b": [')).toBe('{\n  "a": {},\n  "b": [\n    …')
  expect(shown('{"a": [[1], {"c": null}], "d')).toBe(
    '{\n  "a": [\n    [\n      1\n    ],\n    {\n      "c": null\n    }\n  ]\n  …',
  )
})

it('reads at every character of the document as the start of its final text, then as all of it', () => {
  const parser = createPartialJsonParser()
  const built = new WeakMap<object, Node>()
  for (const char of DOCUMENT_TEXT) {
    parser.push(char)
    if (parser.snapshot === undefined || parser.done) continue
    // With the DOM of finished subtrees kept from one snapshot to the next, as the page renders them.
    const text = jsonTree(parser.snapshot, parser.openPath, built).textContent ?? ''
    expect(text).toBe(jsonTree(parser.snapshot, parser.openPath).textContent)
    expect(text.indexOf('…')).toBe(text.length - 1)
    const typed = text.slice(0, -1).trimEnd()
    if (!DOCUMENT_TEXT.startsWith(typed)) expect.fail(`not the start of the document:\n${text}`)
  }
  expect(jsonTree(parser.end(), undefined, built).textContent).toBe(DOCUMENT_TEXT)
  expect(jsonTree(DOCUMENT, undefined).textContent).toBe(DOCUMENT_TEXT)
})

it('highlights only the values still growing: the open path, from the root to the innermost', () => {
  const tree = jsonTree({ c: 2, a: [1, { b: 'xy' }] }, ['a', 1, 'b']) as HTMLElement
  const growing = [tree, ...tree.querySelectorAll('*')].filter((node) => node.classList.contains('growing'))
  expect(growing.map((node) => node.textContent?.split('\n')[0])).toEqual(['{', '[', '{', '"xy…'])
})

it('shows a snapshot whose run ended open but without … or highlights: nothing more comes', () => {
  const parser = createPartialJsonParser()
  parser.push('{"a": [1, {"b": "xy')
  const tree = jsonTree(parser.snapshot, parser.openPath, undefined, false) as HTMLElement
  expect(tree.textContent).toBe('{\n  "a": [\n    1,\n    {\n      "b": "xy')
  expect(tree.querySelectorAll('.growing')).toHaveLength(0)
  expect(tree.classList.contains('growing')).toBe(false)
})
