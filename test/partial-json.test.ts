import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
// The seeded generator the playground's data uses: one fast-check seed drives every whitespace and escape choice.
import { random } from '../playground/functions/data.ts'
import { isCompleteIn } from '../src/core/decoders/snapshot-completeness.ts'
import { isLimitError, LimitError } from '../src/core/errors/limit-error.ts'
import { isParseError, ParseError } from '../src/core/errors/parse-error.ts'
import {
  createPartialJsonParser,
  type DeepPartial,
  type JsonPathSegment,
  type PartialJsonParser,
} from '../src/partial-json.ts'

// ---- helpers ----

/** Feeds `pieces` one push at a time. */
function feed<T = unknown>(pieces: readonly string[], options = {}): PartialJsonParser<T> {
  const parser = createPartialJsonParser<T>(options)
  for (const piece of pieces) parser.push(piece)
  return parser
}

/** The snapshot after `text` arrives in one piece. */
function snapshotOf(text: string): unknown {
  return feed([text]).snapshot
}

/** Runs `action` and returns what it threw. */
function thrown(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** JSON equality as `JSON.parse` produces it: own keys in order (`__proto__` included), -0 distinct from 0. */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  if (isRecord(a)) {
    if (!isRecord(b) || Object.getPrototypeOf(a) !== Object.prototype) return false
    if (Object.getPrototypeOf(b) !== Object.prototype) return false
    const keys = Object.keys(a)
    const other = Object.keys(b)
    return (
      keys.length === other.length && keys.every((key, i) => key === other[i] && sameJson(a[key], b[key]))
    )
  }
  return Object.is(a, b)
}

/** Own-property access that reads an own `__proto__` rather than the prototype. */
function child(value: unknown, segment: JsonPathSegment): unknown {
  if (Array.isArray(value)) return typeof segment === 'number' ? value[segment] : undefined
  if (isRecord(value) && typeof segment === 'string' && Object.hasOwn(value, segment)) {
    return Object.getOwnPropertyDescriptor(value, segment)?.value
  }
  return undefined
}

/** Every path in `value` (the root first), with the value there. */
function* paths(value: unknown, path: JsonPathSegment[] = []): Generator<[JsonPathSegment[], unknown]> {
  yield [path, value]
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* paths(value[i], [...path, i])
  else if (isRecord(value))
    for (const key of Object.keys(value)) yield* paths(child(value, key), [...path, key])
}

/**
 * Whether `partial` is a structural prefix of `final`: strings are prefixes, arrays are prefixes whose last item
 * may be partial, objects hold the first keys of the final object (in order) with a partial last value, and
 * numbers, booleans and null are equal.
 */
function isPrefixView(partial: unknown, final: unknown): boolean {
  if (typeof partial === 'string') return typeof final === 'string' && final.startsWith(partial)
  if (Array.isArray(partial)) {
    if (!Array.isArray(final) || partial.length > final.length) return false
    const last = partial.length - 1
    return partial.every((item, i) => (i < last ? sameJson(item, final[i]) : isPrefixView(item, final[i])))
  }
  if (isRecord(partial)) {
    if (!isRecord(final)) return false
    const keys = Object.keys(partial)
    const finalKeys = Object.keys(final).slice(0, keys.length)
    const last = keys.length - 1
    return keys.every(
      (key, i) =>
        key === finalKeys[i] &&
        (i < last
          ? sameJson(child(partial, key), child(final, key))
          : isPrefixView(child(partial, key), child(final, key))),
    )
  }
  return Object.is(partial, final)
}

/** A copy to compare against later, to prove a snapshot was never mutated. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone)
  if (isRecord(value)) {
    const copy: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      Object.defineProperty(copy, key, {
        value: clone(child(value, key)),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return copy
  }
  return value
}

const WHITESPACE = ['', '', '', ' ', '\n', '\t', '\r\n', '  \n  ']
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}

function unicodeEscape(code: number, upper: boolean): string {
  const hex = code.toString(16).padStart(4, '0')
  return `\\u${upper ? hex.toUpperCase() : hex}`
}

/** A JSON string literal with random escape choices (`\uXXXX` for any character, `\/`, short escapes). */
function stringLiteral(value: string, next: () => number): string {
  let out = '"'
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!
    const code = value.charCodeAt(i)
    const roll = next()
    if (ch === '"' || ch === '\\' || code < 0x20) {
      out +=
        roll < 0.5 && SHORT_ESCAPES[ch] !== undefined ? SHORT_ESCAPES[ch] : unicodeEscape(code, roll < 0.75)
    } else if (roll < 0.15) out += unicodeEscape(code, roll < 0.07)
    else if (ch === '/' && roll < 0.5) out += '\\/'
    else out += ch
  }
  return `${out}"`
}

/** Serialises a JSON value with random whitespace between tokens and random escapes in strings. */
function serialize(value: unknown, next: () => number): string {
  const ws = (): string => WHITESPACE[Math.floor(next() * WHITESPACE.length)]!
  if (Array.isArray(value)) {
    if (value.length === 0) return `[${ws()}]`
    return `[${value.map((item) => `${ws()}${serialize(item, next)}${ws()}`).join(',')}]`
  }
  if (isRecord(value)) {
    const keys = Object.keys(value)
    if (keys.length === 0) return `{${ws()}}`
    const members = keys.map(
      (key) =>
        `${ws()}${stringLiteral(key, next)}${ws()}:${ws()}${serialize(child(value, key), next)}${ws()}`,
    )
    return `{${members.join(',')}}`
  }
  if (typeof value === 'string') return stringLiteral(value, next)
  if (typeof value === 'number' && next() < 0.3 && Number.isFinite(value) && value !== 0) {
    // The same number spelled with an exponent, which JSON.parse reads to the same double.
    return value.toExponential().replace('e+', next() < 0.5 ? 'E' : 'e+')
  }
  return JSON.stringify(value)
}

/** Splits `text` into pieces whose sizes cycle through `sizes` (1 gives one character per piece). */
function split(text: string, sizes: readonly number[]): string[] {
  const pieces: string[] = []
  for (let i = 0, k = 0; i < text.length; k++) {
    const size = sizes[k % sizes.length]!
    pieces.push(text.slice(i, i + size))
    i += size
  }
  return pieces
}

interface Read {
  snapshot: unknown
  copy: unknown
  complete: JsonPathSegment[][]
}

/**
 * Feeds `pieces`, reading the snapshot after pushes chosen by `next`, and checks every read against the final
 * value: (b) each snapshot is a prefix view of it, complete paths are final, incomplete ones lie on `openPath`;
 * (c) containers that did not change between two reads are the same objects; and no snapshot is ever mutated.
 */
function checkRun(text: string, pieces: readonly string[], next: () => number): void {
  const expected: unknown = JSON.parse(text)
  const parser = createPartialJsonParser()
  const reads: Read[] = []
  let changedSinceRead = false
  for (const piece of pieces) {
    changedSinceRead = parser.push(piece) || changedSinceRead
    if (next() < 0.6) {
      const snapshot = parser.snapshot
      const previous = reads[reads.length - 1]
      if (previous && !changedSinceRead) expect(snapshot).toBe(previous.snapshot)
      changedSinceRead = false
      const openPath = parser.openPath
      // What a consumer says of a snapshot it handed out: the parser's answer, from the snapshot and open path.
      for (const [path] of snapshot === undefined ? [[[]] as const] : paths(snapshot)) {
        for (const probe of [path, [...path, 0], [...path, 'k']]) {
          if (isCompleteIn(snapshot, openPath, probe) !== parser.isComplete(probe)) {
            throw new Error(`isCompleteIn disagrees with the parser at ${JSON.stringify(probe)}`)
          }
        }
      }
      const complete: JsonPathSegment[][] = []
      for (const [path, value] of snapshot === undefined ? [] : paths(snapshot)) {
        if (parser.isComplete(path)) {
          complete.push(path)
          if (!sameJson(value, at(expected, path))) {
            throw new Error(`value at ${JSON.stringify(path)} is complete but differs from the final value`)
          }
        } else if (typeof value === 'string' && /[\ud800-\udbff]$/.test(value)) {
          throw new Error(`open string at ${JSON.stringify(path)} shows a lone high surrogate`)
        } else if (!openPath || path.length > openPath.length || path.some((s, i) => s !== openPath[i])) {
          throw new Error(`value at ${JSON.stringify(path)} is incomplete but not on the open path`)
        }
      }
      if (snapshot !== undefined && !isPrefixView(snapshot, expected)) {
        throw new Error(`snapshot ${JSON.stringify(snapshot)} is not a prefix view of ${text}`)
      }
      if (previous) checkIdentity(previous, snapshot)
      reads.push({ snapshot, copy: clone(snapshot), complete })
    }
  }
  const final = parser.end()
  expect(sameJson(final, expected)).toBe(true)
  for (const read of reads) expect(sameJson(read.snapshot, read.copy)).toBe(true)
  // A container complete at some read is that very object in the final value.
  for (const read of reads) {
    for (const path of read.complete) {
      const before = at(read.snapshot, path)
      if (typeof before === 'object' && before !== null) expect(at(final, path)).toBe(before)
    }
  }
}

function at(value: unknown, path: readonly JsonPathSegment[]): unknown {
  return path.reduce<unknown>((node, segment) => child(node, segment), value)
}

/** Containers equal in two consecutive reads must be the same object; complete ones must survive as is. */
function checkIdentity(previous: Read, snapshot: unknown): void {
  for (const [path, before] of paths(previous.snapshot)) {
    if (typeof before !== 'object' || before === null) continue
    const after = at(snapshot, path)
    if (sameJson(before, after) && before !== after) {
      throw new Error(`unchanged container at ${JSON.stringify(path)} lost its identity`)
    }
  }
  for (const path of previous.complete) {
    const before = at(previous.snapshot, path)
    if (typeof before === 'object' && before !== null && at(snapshot, path) !== before) {
      throw new Error(`complete container at ${JSON.stringify(path)} lost its identity`)
    }
  }
}

// ---- the known document ----

const doc =
  '{"title": "Monthly report", "count": 42, "ok": true, "rows": [{"id": 1, "name": "Ada"}, {"id": 2, "tags": ["x", null]}], "meta": {}}'

function upTo(marker: string): string {
  const end = doc.indexOf(marker)
  if (end < 0) throw new Error(`no ${marker} in the document`)
  return doc.slice(0, end + marker.length)
}

describe('createPartialJsonParser: final value', () => {
  it('returns the same value as JSON.parse for a whole document', () => {
    expect(sameJson(feed([doc]).end(), JSON.parse(doc))).toBe(true)
  })

  it('returns the same value as JSON.parse whatever the split point', () => {
    for (let cut = 0; cut <= doc.length; cut++) {
      expect(sameJson(feed([doc.slice(0, cut), doc.slice(cut)]).end(), JSON.parse(doc))).toBe(true)
    }
  })

  it('returns the same value as JSON.parse with one character per push', () => {
    expect(sameJson(feed([...doc]).end(), JSON.parse(doc))).toBe(true)
  })

  it('reads numbers exactly as JSON.parse does: exponents, extremes, -0 and long mantissas', () => {
    const text =
      '[0, -0, 1e400, -1e400, 1e-400, 5e-324, 1.7976931348623157e308, 0.1, 1E+2, 2e-2, 12345678901234567890123]'
    const value = feed(split(text, [3])).end()
    expect(sameJson(value, JSON.parse(text))).toBe(true)
    expect(Object.is((value as number[])[1], -0)).toBe(true)
  })

  it('decodes every escape, unicode escapes and surrogate pairs as JSON.parse does', () => {
    const text = String.raw`["\"\\\/\b\f\n\r\t", "\u00e9\u00C9\u4e2d", "\ud83d\ude00", "\ud83d", "\ude00x", "😀 raw"]`
    expect(sameJson(feed([...text]).end(), JSON.parse(text))).toBe(true)
  })

  it('returns top-level strings, numbers and literals', () => {
    expect(feed(['"a', 'b"']).end()).toBe('ab')
    expect(feed(['12', '3']).end()).toBe(123)
    expect(feed(['nu', 'll']).end()).toBe(null)
    expect(feed([' fal', 'se ']).end()).toBe(false)
  })

  it('reads repeated keys of sibling objects right, escaped or not, whatever the split', () => {
    const text = String.raw`[{"k": 1, "l": 2}, {"k": 3, "l\u0000": 4}, {"k\"": 5, "l": 6}, {"k": 7, "lm": 8}, {"\u006b": 9}, {"k": {"k": 10}}]`
    for (let cut = 0; cut <= text.length; cut++) {
      expect(sameJson(feed([text.slice(0, cut), text.slice(cut)]).end(), JSON.parse(text))).toBe(true)
    }
  })

  it('accepts whitespace around every token', () => {
    const text = ' \r\n\t{ "a" :\n[ 1 ,\t2 ] , "b" : { } }\n\n '
    expect(sameJson(feed([text]).end(), JSON.parse(text))).toBe(true)
  })

  it('skips a byte order mark at the start, also when it arrives alone', () => {
    expect(feed(['\uFEFF{"a": 1}']).end()).toStrictEqual({ a: 1 })
    expect(feed(['\uFEFF', '[1]']).end()).toStrictEqual([1])
  })

  it('never matches a cached escaped key against the raw text of a later one', () => {
    // "a\\b" is a, backslash, b; the next object's "a\b" is a, backspace, b: JSON.parse keeps them apart.
    const text = '[{"a\\\\b": 1}, {"a\\b": 2}]'
    const expected = [{ 'a\\b': 1 }, { 'a\b': 2 }]
    expect(JSON.parse(text)).toStrictEqual(expected)
    expect(feed([text]).end()).toStrictEqual(expected)
    // A key that decodes to a quote is never taken for a shorter raw key either.
    expect(() => feed(['[{"x\\"": 1}, {"x"": 2}]']).end()).toThrow(/colon/)
  })

  it('reports done once the top-level value is complete, and the characters consumed', () => {
    const parser = feed(['{"a": [1]'])
    expect(parser.done).toBe(false)
    parser.push('} ')
    expect(parser.done).toBe(true)
    expect(parser.offset).toBe(11)
  })
})

describe('createPartialJsonParser: snapshots', () => {
  it('is undefined before a value starts', () => {
    expect(snapshotOf('  ')).toBeUndefined()
    expect(snapshotOf('12')).toBeUndefined()
  })

  it('shows the known document at chosen cut points', () => {
    expect(snapshotOf(upTo('{"ti'))).toStrictEqual({})
    expect(snapshotOf(upTo('"Mon'))).toStrictEqual({ title: 'Mon' })
    expect(snapshotOf(upTo('"cou'))).toStrictEqual({ title: 'Monthly report' })
    expect(snapshotOf(upTo('"count": 4'))).toStrictEqual({ title: 'Monthly report' })
    expect(snapshotOf(upTo('"count": 42,'))).toStrictEqual({ title: 'Monthly report', count: 42 })
    expect(snapshotOf(upTo('"ok": tr'))).toStrictEqual({ title: 'Monthly report', count: 42 })
    expect(snapshotOf(upTo('"ok": true'))).toStrictEqual({ title: 'Monthly report', count: 42, ok: true })
    expect(snapshotOf(upTo('"rows": ['))).toStrictEqual({
      title: 'Monthly report',
      count: 42,
      ok: true,
      rows: [],
    })
    expect(snapshotOf(upTo('"na'))).toStrictEqual({
      title: 'Monthly report',
      count: 42,
      ok: true,
      rows: [{ id: 1 }],
    })
    expect(snapshotOf(upTo('["x", nu'))).toStrictEqual({
      title: 'Monthly report',
      count: 42,
      ok: true,
      rows: [
        { id: 1, name: 'Ada' },
        { id: 2, tags: ['x'] },
      ],
    })
    expect(snapshotOf(upTo('"meta": {'))).toStrictEqual({ ...JSON.parse(doc), meta: {} })
  })

  it('gives the same snapshots when the text arrives one character at a time', () => {
    const parser = createPartialJsonParser()
    for (let i = 0; i < doc.length; i++) {
      parser.push(doc[i]!)
      expect(parser.snapshot).toStrictEqual(snapshotOf(doc.slice(0, i + 1)))
    }
  })

  it('grows a string in place as its characters arrive', () => {
    const parser = feed(['{"text": "hel'])
    expect(parser.snapshot).toStrictEqual({ text: 'hel' })
    parser.push('lo wor')
    expect(parser.snapshot).toStrictEqual({ text: 'hello wor' })
    parser.push('ld"}')
    expect(parser.snapshot).toStrictEqual({ text: 'hello world' })
  })

  it('shows an empty string as soon as its opening quote arrives', () => {
    expect(snapshotOf('["')).toStrictEqual([''])
    expect(snapshotOf('"')).toBe('')
  })

  it('shows a number only once a delimiter follows it, or at the end', () => {
    const parser = feed(['[1'])
    expect(parser.snapshot).toStrictEqual([])
    parser.push('2')
    expect(parser.snapshot).toStrictEqual([])
    parser.push('.5')
    expect(parser.snapshot).toStrictEqual([])
    parser.push(' ')
    expect(parser.snapshot).toStrictEqual([12.5])
    expect(feed(['-1e', '3']).end()).toBe(-1000)
  })

  it('shows true, false and null only once complete', () => {
    const parser = feed(['[tr'])
    expect(parser.snapshot).toStrictEqual([])
    parser.push('ue, nul')
    expect(parser.snapshot).toStrictEqual([true])
    parser.push('l')
    expect(parser.snapshot).toStrictEqual([true, null])
  })

  it('shows a key only once the key is complete and its value has begun', () => {
    expect(snapshotOf('{"na')).toStrictEqual({})
    expect(snapshotOf('{"name"')).toStrictEqual({})
    expect(snapshotOf('{"name": ')).toStrictEqual({})
    expect(snapshotOf('{"name": "')).toStrictEqual({ name: '' })
    expect(snapshotOf('{"list": [')).toStrictEqual({ list: [] })
    expect(snapshotOf('{"n": 1')).toStrictEqual({})
  })

  it('never shows half of an escape split after the backslash', () => {
    const parser = feed(['"a\\'])
    expect(parser.snapshot).toBe('a')
    parser.push('nb"')
    expect(parser.snapshot).toBe('a\nb')
  })

  it('never shows half of a \\u escape split inside its hex digits', () => {
    const parser = feed(['["x\\u12'])
    expect(parser.snapshot).toStrictEqual(['x'])
    expect(parser.push('3')).toBe(false)
    expect(parser.push('4')).toBe(true)
    expect(parser.snapshot).toStrictEqual(['x\u1234'])
  })

  it('holds back a high surrogate until its low half arrives, escaped or raw', () => {
    const escaped = feed(['"x\\ud83d'])
    expect(escaped.snapshot).toBe('x')
    escaped.push('\\ud')
    expect(escaped.snapshot).toBe('x')
    escaped.push('e00"')
    expect(escaped.snapshot).toBe('x😀')
    const raw = feed(['"y', '\ud83d'])
    expect(raw.snapshot).toBe('y')
    raw.push('\ude00')
    expect(raw.snapshot).toBe('y😀')
  })

  it('shows a lone high surrogate once the string closes, as JSON.parse keeps it', () => {
    const parser = feed(['["\\ud83d'])
    expect(parser.snapshot).toStrictEqual([''])
    expect(parser.push('"')).toBe(true)
    expect(parser.snapshot).toStrictEqual(['\ud83d'])
    parser.push(', "a"]')
    expect(parser.end()).toStrictEqual(JSON.parse('["\\ud83d", "a"]'))
  })

  it('returns whether a push changed the snapshot', () => {
    const parser = createPartialJsonParser()
    expect(parser.push('  ')).toBe(false)
    expect(parser.push('{')).toBe(true)
    expect(parser.push('"key"')).toBe(false)
    expect(parser.push(': 1')).toBe(false)
    expect(parser.push(',')).toBe(true)
    expect(parser.push('"s": "')).toBe(true)
    expect(parser.push('"')).toBe(false)
    expect(parser.push('}')).toBe(false)
    expect(parser.push('')).toBe(false)
  })

  it('reports no change when an empty string closes after a string that ended on a lone high surrogate', () => {
    const parser = createPartialJsonParser()
    expect(parser.push('["\\ud800", "')).toBe(true)
    const before = parser.snapshot
    expect(before).toStrictEqual(['\ud800', ''])
    expect(parser.push('"')).toBe(false)
    expect(parser.snapshot).toBe(before)
  })
})

describe('createPartialJsonParser: identity', () => {
  it('returns the same snapshot object while nothing changes', () => {
    const parser = feed(['{"a": [1, 2], "b": "x'])
    const first = parser.snapshot
    expect(parser.snapshot).toBe(first)
    parser.push('"')
    expect(parser.snapshot).toBe(first)
  })

  it('keeps unchanged subtrees as the same objects across snapshots', () => {
    const parser = feed([upTo('"name": "Ada"}, {')])
    const before = parser.snapshot as { rows: object[]; meta?: object }
    parser.push('"id": 2, "tags": ["x"')
    const after = parser.snapshot as { rows: object[] }
    expect(after.rows[0]).toBe(before.rows[0])
    expect(after.rows[0]).toStrictEqual({ id: 1, name: 'Ada' })
  })

  it('replaces every container along the changed path up to the root, and only those', () => {
    const parser = feed(['{"done": {"x": [1]}, "rows": [{"id": 1}, {"tags": ["a'])
    type Shape = { done: { x: number[] }; rows: [{ id: number }, { tags: string[] }] }
    const before = parser.snapshot as Shape
    parser.push('b')
    const after = parser.snapshot as Shape
    expect(after).not.toBe(before)
    expect(after.rows).not.toBe(before.rows)
    expect(after.rows[1]).not.toBe(before.rows[1])
    expect(after.rows[1].tags).not.toBe(before.rows[1].tags)
    expect(after.rows[1].tags).toStrictEqual(['ab'])
    expect(after.done).toBe(before.done)
    expect(after.done.x).toBe(before.done.x)
    expect(after.rows[0]).toBe(before.rows[0])
  })

  it('never mutates a snapshot it handed out', () => {
    const parser = feed(['{"rows": [{"id": 1}'])
    const before = parser.snapshot
    const copy = clone(before)
    parser.push(', {"id": 2}], "more": "text"}')
    parser.end()
    expect(before).toStrictEqual(copy)
  })

  it('makes a container that closes without other change the final value, keeping its identity', () => {
    const parser = feed(['{"a": {"b": "x"'])
    const before = parser.snapshot as { a: object }
    expect(parser.push('}')).toBe(false)
    parser.push(', "c": 1}')
    expect((parser.end() as { a: object }).a).toBe(before.a)
  })

  it('builds nothing until the snapshot is read', () => {
    const parser = createPartialJsonParser()
    for (const piece of split(doc, [5])) parser.push(piece)
    expect(parser.snapshot).toStrictEqual(JSON.parse(doc))
  })
})

describe('createPartialJsonParser: completion', () => {
  it('tells which values are finished and which path is still open', () => {
    const parser = feed(['{"a": [1, {"b": "xy'])
    expect(parser.isComplete([])).toBe(false)
    expect(parser.isComplete(['a'])).toBe(false)
    expect(parser.isComplete(['a', 0])).toBe(true)
    expect(parser.isComplete(['a', 1])).toBe(false)
    expect(parser.isComplete(['a', 1, 'b'])).toBe(false)
    expect(parser.isComplete(['c'])).toBe(false)
    expect(parser.isComplete(['a', 5])).toBe(false)
    expect(parser.openPath).toStrictEqual(['a', 1, 'b'])
    parser.push('"}, 2')
    expect(parser.isComplete(['a', 1])).toBe(true)
    expect(parser.isComplete(['a', 1, 'b'])).toBe(true)
    expect(parser.isComplete(['a', 2])).toBe(false)
    expect(parser.openPath).toStrictEqual(['a'])
    parser.push(']}')
    expect(parser.isComplete([])).toBe(true)
    expect(parser.isComplete(['a', 2])).toBe(true)
    expect(parser.isComplete(['a', 1, 'b', 0])).toBe(false)
    expect(parser.openPath).toBeUndefined()
  })

  it('has no open path before a value is visible, and the root path for an open top-level string', () => {
    expect(feed([' ']).openPath).toBeUndefined()
    expect(feed(['12']).openPath).toBeUndefined()
    expect(feed(['"ab']).openPath).toStrictEqual([])
    expect(feed(['"ab']).isComplete([])).toBe(false)
    expect(feed(['"ab"']).isComplete([])).toBe(true)
  })

  it('finds no value at an index that is not an integer, nor at one that is not a number', () => {
    for (const parser of [feed(['[1, 2, [3, 4]]']), feed(['[1, 2, [3, 4], '])]) {
      for (const path of [[0.5], [1.5], [2, 0.5], [-0], ['1'], [Number.NaN]])
        expect({ path, complete: parser.isComplete(path) }).toStrictEqual({
          path,
          complete: Object.is(path[0], -0),
        })
      // What json() tells of the snapshot it hands out.
      expect(isCompleteIn(parser.snapshot, parser.openPath, [0.5])).toBe(false)
      expect(isCompleteIn(parser.snapshot, parser.openPath, [2, 1])).toBe(true)
    }
  })

  it('counts a key whose value is still pending as absent', () => {
    const parser = feed(['{"a": 1, "b": 2'])
    expect(parser.isComplete(['a'])).toBe(true)
    expect(parser.isComplete(['b'])).toBe(false)
    expect(parser.openPath).toStrictEqual([])
  })

  it('counts the earlier value of a repeated key as unfinished until the value that replaces it is', () => {
    // JSON.parse keeps the last value of a repeated key: the one the snapshot shows meanwhile is about to change.
    for (const text of [
      '{"a": 1, "b": 2, "a"',
      '{"a": 1, "b": 2, "a": ',
      '{"a": 1, "b": 2, "a": 2',
      '{"a": 1, "b": 2, "a": tr',
    ]) {
      const parser = feed([text])
      expect(parser.snapshot, text).toStrictEqual({ a: 1, b: 2 })
      expect(parser.isComplete(['a']), text).toBe(false)
      expect(parser.isComplete(['b']), text).toBe(true)
      expect(parser.openPath, text).toStrictEqual(['a'])
      // What json() tells of the snapshot it hands out.
      expect(isCompleteIn(parser.snapshot, parser.openPath, ['a']), text).toBe(false)
    }
    const parser = feed(['{"a": 1, "b": 2, "a": 2'])
    parser.push('3, "c"')
    expect(parser.snapshot).toStrictEqual({ a: 23, b: 2 })
    expect(parser.isComplete(['a'])).toBe(true)
    expect(parser.openPath).toStrictEqual([])
    parser.push(': 0}')
    expect(parser.end()).toStrictEqual({ a: 23, b: 2, c: 0 })
  })
})

describe('createPartialJsonParser: invalid input', () => {
  const cases: [
    name: string,
    text: string,
    problem: RegExp,
    line: number,
    offset: number,
    excerpt: string,
  ][] = [
    ['a missing colon', '{"a" 1}', /colon/, 1, 5, '{"a" 1}'],
    ['a trailing comma in an array', '[1,]', /Expected a JSON value/, 1, 3, '[1,]'],
    ['a trailing comma in an object', '{"a":1,}', /property name/, 1, 7, '{"a":1,}'],
    ['a single-quoted key', "{'a': 1}", /property name/, 1, 1, "{'a': 1}"],
    ['a leading zero', '[01]', /Invalid number/, 1, 1, '01'],
    ['a bare minus', '[-]', /Invalid number/, 1, 1, '-'],
    ['a fraction without digits', '1.', /Invalid number/, 1, 0, '1.'],
    ['a misspelled literal', '[tru]', /Unexpected character/, 1, 4, '[tru]'],
    ['a raw newline in a string', '"a\nb"', /control character/, 1, 2, '"a\nb"'],
    ['an invalid escape', '"\\x"', /Invalid escape/, 1, 1, '"\\x"'],
    ['a bad unicode escape', '"\\u12G4"', /\\u escape/, 1, 3, '"\\u12G4"'],
    ['missing commas', '[1 2]', /comma or '\]'/, 1, 3, '[1 2]'],
    ['a mismatched bracket', '{"a": 1]', /comma or '\}'/, 1, 7, '{"a": 1]'],
    ['data after the value', '{} {}', /after the JSON value/, 1, 3, '{} {}'],
    ['a byte order mark after the start', ' \uFEFF1', /Expected a JSON value/, 1, 1, ' \uFEFF1'],
  ]

  for (const [name, text, problem, line, offset, excerpt] of cases) {
    it(`throws a ParseError for ${name}, with its line, offset and excerpt`, () => {
      const error = thrown(() => feed([text]).end())
      expect(error).toBeInstanceOf(ParseError)
      expect(isParseError(error)).toBe(true)
      const parseError = error as ParseError
      expect(parseError.type).toBe('json')
      expect(parseError.message).toMatch(problem)
      expect({ line: parseError.line, offset: parseError.offset, excerpt: parseError.excerpt }).toStrictEqual(
        {
          line,
          offset,
          excerpt,
        },
      )
    })
  }

  it('names a character offset in its message without toByteOffset, and a byte offset with it', () => {
    // `x` is character 10 (😀 is two UTF-16 units) but byte 12 in UTF-8.
    const text = '["😀", 1, x]'
    const chars = thrown(() => feed([text]).end()) as ParseError
    expect({ message: chars.message, offset: chars.offset }).toStrictEqual({
      message: `Expected a JSON value at line 1, character 10: ${JSON.stringify(text)}.`,
      offset: 10,
    })
    const toByteOffset = (at: number) => new TextEncoder().encode(text.slice(0, at)).length
    const bytes = thrown(() => feed([text], { toByteOffset }).end()) as ParseError
    expect({ message: bytes.message, offset: bytes.offset }).toStrictEqual({
      message: `Expected a JSON value at line 1, byte 12: ${JSON.stringify(text)}.`,
      offset: 12,
    })
  })

  it('counts lines and offsets across pushes', () => {
    const error = thrown(() => feed(['{\n  "a": 1,\n', '  "b": x\n}'])) as ParseError
    expect(error).toBeInstanceOf(ParseError)
    expect(error.line).toBe(3)
    expect(error.offset).toBe(19)
    expect(error.excerpt).toContain('"b": x')
  })

  it('reports a bad \\u escape where its hex digits start, however the pushes cut them', () => {
    const text = '"\\u12G4"'
    for (const pieces of [[text], ['"\\u1', '2G4"'], ['"\\u12', 'G4"'], Array.from(text)]) {
      const error = thrown(() => feed(pieces).end()) as ParseError
      expect(error.message).toMatch(/\\u escape/)
      expect({ pieces, line: error.line, offset: error.offset }).toStrictEqual({ pieces, line: 1, offset: 3 })
    }
  })

  it('throws at the end of an incomplete document', () => {
    for (const text of ['{"a": [1, 2', '"abc', '[tr', '{"a"', '{"a": 1,']) {
      const error = thrown(() => feed([text]).end()) as ParseError
      expect(error).toBeInstanceOf(ParseError)
      expect(error.message).toMatch(/ended before it was complete/)
      expect(error.offset).toBe(text.length)
    }
  })

  it('leaves a number cut by the end of an unfinished document out of the snapshot: it may be the start of another', () => {
    for (const [text, shown] of [
      ['[1, 5, 6', [1, 5]],
      ['{"a": 1, "b": 2', { a: 1 }],
    ] as const) {
      const parser = feed([text])
      expect(thrown(() => parser.end())).toBeInstanceOf(ParseError)
      expect(parser.snapshot).toStrictEqual(shown)
    }
    // At the top a number is the whole document, and its end ends it.
    expect(feed(['42']).end()).toBe(42)
  })

  it('tells an unfinished container after a comma or colon from an empty document, with the text before as excerpt', () => {
    for (const text of ['[1,', '{"a":', '[1, 2']) {
      const error = thrown(() => feed([text]).end()) as ParseError
      expect(error.message).toMatch(/ended before it was complete/)
      expect({ offset: error.offset, excerpt: error.excerpt }).toStrictEqual({
        offset: text.length,
        excerpt: text,
      })
    }
  })

  it('shows 16 characters before the error and 24 from it in the excerpt', () => {
    const error = thrown(() => feed(['[10, 20, 30, 40, 50, 60, x, 70, 80, 90, 100, 110, 120]'])) as ParseError
    expect({ offset: error.offset, excerpt: error.excerpt }).toStrictEqual({
      offset: 25,
      excerpt: '30, 40, 50, 60, x, 70, 80, 90, 100, 110,',
    })
  })

  it('keeps the text of earlier short pushes for an excerpt', () => {
    const error = thrown(() => feed(['[1', ',2', ' x]'])) as ParseError
    expect({ offset: error.offset, excerpt: error.excerpt }).toStrictEqual({ offset: 5, excerpt: '[1,2 x]' })
  })

  it('gives the same excerpt wherever the text before the error was split', () => {
    const text = '[10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, x, 120, 130, 140, 150, 160, 170]'
    const at = text.indexOf('x')
    for (let cut = 1; cut <= at; cut++) {
      const error = thrown(() => feed([text.slice(0, cut), text.slice(cut)])) as ParseError
      expect({ cut, offset: error.offset, excerpt: error.excerpt }).toStrictEqual({
        cut,
        offset: 47,
        excerpt: ', 90, 100, 110, x, 120, 130, 140, 150, 1',
      })
    }
  })

  it('never shows half of a surrogate pair at either end of an excerpt, wherever the pushes cut the text', () => {
    const emoji = '😀'.repeat(20)
    const halves = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
    for (const pad of ['', 'a'])
      for (const text of [
        `["${pad}${emoji}" x]`,
        `[1, x "${pad}${emoji}"]`,
        `["${pad}${emoji}\u0001${emoji}"]`,
      ]) {
        const bad = text.includes('\u0001') ? '\u0001' : 'x'
        for (let cut = 0; cut < text.length; cut++) {
          const error = thrown(() => feed([text.slice(0, cut), text.slice(cut)]).end()) as ParseError
          expect({ text, cut, halves: halves.test(error.excerpt) }).toStrictEqual({
            text,
            cut,
            halves: false,
          })
          expect(error.excerpt).toContain(bad)
        }
      }
  })

  it('quotes at most 40 characters of an invalid number', () => {
    const error = thrown(() => feed([`[${'1'.repeat(50)}.]`])) as ParseError
    expect({ offset: error.offset, excerpt: error.excerpt }).toStrictEqual({
      offset: 1,
      excerpt: `${'1'.repeat(40)}…`,
    })
  })

  it('throws at the end of an empty document', () => {
    expect((thrown(() => feed([]).end()) as ParseError).message).toMatch(/empty/)
    expect((thrown(() => feed([' \n ']).end()) as ParseError).message).toMatch(/empty/)
  })

  it('keeps failing with the same error after the first one', () => {
    const parser = createPartialJsonParser()
    const error = thrown(() => parser.push('[1,,'))
    expect(thrown(() => parser.push('2]'))).toBe(error)
    expect(thrown(() => parser.end())).toBe(error)
  })

  it('reports offsets through toByteOffset when given', () => {
    const error = thrown(() =>
      feed(['["é", x]'], { toByteOffset: (chars: number) => chars + 1 }),
    ) as ParseError
    expect(error.offset).toBe(7)
  })

  it('refuses a push after end()', () => {
    const parser = feed(['1'])
    parser.end()
    expect(() => parser.push(' ')).toThrow(TypeError)
  })
})

describe('createPartialJsonParser: limits', () => {
  it('throws a LimitError past maxDepth, and accepts exactly maxDepth', () => {
    expect(feed(['[[{"a": 1}]]'], { maxDepth: 3 }).end()).toStrictEqual([[{ a: 1 }]])
    const error = thrown(() => feed(['[[[[1]]]]'], { maxDepth: 3 }))
    expect(error).toBeInstanceOf(LimitError)
    expect(isLimitError(error)).toBe(true)
    expect((error as LimitError).limit).toBe('maxDepth')
    expect((error as LimitError).max).toBe(3)
  })

  it('defaults maxDepth to 512', () => {
    expect(feed(['['.repeat(512), ']'.repeat(512)]).done).toBe(true)
    expect((thrown(() => feed(['['.repeat(513)])) as LimitError).limit).toBe('maxDepth')
  })

  it('throws a LimitError past maxBytes characters, and accepts exactly maxBytes', () => {
    expect(feed(['"12345', '678"'], { maxBytes: 10 }).end()).toBe('12345678')
    const error = thrown(() => feed(['"12345', '6789"'], { maxBytes: 10 }))
    expect(error).toBeInstanceOf(LimitError)
    expect((error as LimitError).limit).toBe('maxBytes')
    expect((error as LimitError).max).toBe(10)
  })

  it('parses the text within maxBytes before the LimitError, however the pushes cut it', () => {
    // What it completes shows, as when the text within the limit came in a push of its own.
    const text = '[1,2,3,4,5,6,7]'
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = createPartialJsonParser({ maxBytes: 10 })
      const failure = thrown(() => {
        for (const piece of [text.slice(0, cut), text.slice(cut)]) parser.push(piece)
      }) as LimitError
      expect({ cut, limit: failure.limit, offset: failure.offset, snapshot: parser.snapshot }).toStrictEqual({
        cut,
        limit: 'maxBytes',
        offset: 10,
        snapshot: [1, 2, 3, 4],
      })
    }
    // An error within the limit is the error, not the limit.
    for (const pieces of [['[1,,2,3,4,5,6,7]'], ['[1,', ',2,3,4,5,6,7]']]) {
      const error = thrown(() => feed(pieces, { maxBytes: 10 })) as ParseError
      expect({ pieces, name: error.name, offset: error.offset }).toStrictEqual({
        pieces,
        name: 'ParseError',
        offset: 3,
      })
    }
  })

  it('counts maxBytes in UTF-16 characters of the text, not in UTF-8 bytes, and says so', () => {
    // 4 characters, 6 bytes in UTF-8; an emoji is 2 characters (a surrogate pair), 4 bytes.
    expect(feed(['"éé"'], { maxBytes: 4 }).end()).toBe('éé')
    const error = thrown(() => feed(['["😀", 1]'], { maxBytes: 6 })) as LimitError
    expect(error.message).toBe(
      'The JSON document (9 characters) exceeds maxBytes (6 characters); raise the `maxBytes` option if this is expected.',
    )
    expect(error.offset).toBe(6)
  })

  it('names the characters pushed so far and the limit in a maxBytes message, and cuts a fractional limit at its floor', () => {
    const parser = createPartialJsonParser({ maxBytes: 7.5 })
    parser.push('[1,2')
    const error = thrown(() => parser.push(',3,4]')) as LimitError
    expect(error.message).toBe(
      'The JSON document (9 characters) exceeds maxBytes (7.5 characters); raise the `maxBytes` option if this is expected.',
    )
    expect(error.offset).toBe(7)
  })
})

describe('createPartialJsonParser: prototype safety', () => {
  const text = '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "a": 1}'

  it('makes __proto__ an own property, as JSON.parse does, without touching any prototype', () => {
    const value = feed([...text]).end() as Record<string, unknown>
    expect(sameJson(value, JSON.parse(text))).toBe(true)
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(Object.keys(value)).toStrictEqual(['__proto__', 'constructor', 'a'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('keeps __proto__ an own property in every partial snapshot', () => {
    for (let cut = 1; cut < text.length; cut++) {
      const snapshot = snapshotOf(text.slice(0, cut))
      if (!isRecord(snapshot)) continue
      expect(Object.getPrototypeOf(snapshot)).toBe(Object.prototype)
      expect(isPrefixView(snapshot, JSON.parse(text))).toBe(true)
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('createPartialJsonParser: types', () => {
  it('types snapshots as DeepPartial of the document and the final value as the document', () => {
    type Report = { title: string; rows: { id: number; tags: string[] }[] }
    const parser = createPartialJsonParser<Report>()
    expectTypeOf(parser.snapshot).toEqualTypeOf<DeepPartial<Report> | undefined>()
    expectTypeOf<DeepPartial<Report>>().toEqualTypeOf<{
      readonly title?: string
      readonly rows?: readonly { readonly id?: number; readonly tags?: readonly string[] }[]
    }>()
    expectTypeOf(parser.end).returns.toEqualTypeOf<Report>()
    expectTypeOf<DeepPartial<unknown>>().toEqualTypeOf<unknown>()
  })

  it('types a string of a literal type as string: a snapshot may hold a prefix of it', () => {
    type Job = { status: 'pending' | 'done'; id: `job-${number}`; tries: 1 | 2 }
    const parser = createPartialJsonParser<Job>()
    parser.push('{"tries":1,"status":"pen')
    const status = parser.snapshot?.status
    expect(status).toBe('pen')
    expectTypeOf(status).toEqualTypeOf<string | undefined>()
    // Numbers and booleans appear only once complete: their literal types hold.
    expectTypeOf<DeepPartial<Job>>().toEqualTypeOf<{
      readonly status?: string
      readonly id?: string
      readonly tries?: 1 | 2
    }>()
  })
})

// ---- properties: any value, any whitespace, any split ----

const jsonValues = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }),
)

describe('createPartialJsonParser: properties', () => {
  it('ends with the value JSON.parse gives, for any value, whitespace and split', () => {
    fc.assert(
      fc.property(
        jsonValues,
        fc.integer(),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        (value, seed, sizes) => {
          const text = serialize(value, random(seed))
          const parser = createPartialJsonParser()
          for (const piece of split(text, sizes)) parser.push(piece)
          expect(sameJson(parser.end(), JSON.parse(text))).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('keeps every snapshot a consistent, immutable, identity-preserving view, split anywhere', () => {
    fc.assert(
      fc.property(
        jsonValues,
        fc.integer(),
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 6 }),
        (value, seed, sizes) => {
          const next = random(seed)
          const text = serialize(value, next)
          checkRun(text, split(text, sizes), next)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('keeps every snapshot a consistent, immutable, identity-preserving view with one character per push', () => {
    fc.assert(
      fc.property(jsonValues, fc.integer(), (value, seed) => {
        const next = random(seed)
        const text = serialize(value, next)
        checkRun(text, split(text, [1]), next)
      }),
      { numRuns: 150 },
    )
  })

  it('fails the same way for any split of a document with an error anywhere, with the same snapshot after it', () => {
    /** The failure of `pieces` and the snapshot read after it. */
    const failureOf = (pieces: readonly string[], maxBytes: number | undefined) => {
      const parser = createPartialJsonParser({ maxBytes })
      const error = thrown(() => {
        for (const piece of pieces) parser.push(piece)
        parser.end()
      }) as ParseError | LimitError
      return {
        error: [error.name, error.line, error.offset],
        snapshot: parser.snapshot,
        path: parser.openPath,
      }
    }
    fc.assert(
      fc.property(
        jsonValues,
        fc.integer(),
        fc.nat(),
        fc.constantFrom('\u0001', 'x', ']', '}', ',', ':', '"', '1', '.', '-', '\\'),
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (value, seed, at, bad, sizes, limit) => {
          const valid = serialize(value, random(seed))
          const cut = at % (valid.length + 1)
          const text = valid.slice(0, cut) + bad + valid.slice(cut)
          // Now and then a limit somewhere in the text: what lies within it fails the same way too.
          const maxBytes = limit === undefined ? undefined : 1 + (limit % (text.length + 1))
          fc.pre(!parses(text))
          expect(failureOf(split(text, sizes), maxBytes)).toStrictEqual(failureOf([text], maxBytes))
        },
      ),
      { numRuns: 300 },
    )
  })
})

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
