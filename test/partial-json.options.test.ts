/**
 * createPartialJsonParser() checks its limits as json() does: a limit it cannot take fails at once, naming it
 * and quoting the value — a TypeError for the wrong type, a RangeError for a number out of range — rather
 * than a parser that never limits its depth (`maxDepth: '8'`) or fails at the first bracket (`maxDepth: 0`).
 * A `toByteOffset` that is no function fails at once too, and one that gives no byte offset (or throws) fails the
 * parser with a TypeError that says so, rather than an error placed at `byte NaN`; the parser then stays failed.
 */
import { describe, expect, it } from 'vitest'
import { LimitError, ParseError } from '../src/index.ts'
import { createPartialJsonParser, type PartialJsonOptions } from '../src/partial-json.ts'

describe('a limit createPartialJsonParser() cannot take', () => {
  it.each([
    [
      { maxDepth: '8' },
      TypeError,
      'createPartialJsonParser(): maxDepth must be a positive integer, got "8".',
    ],
    [
      { maxDepth: null },
      TypeError,
      'createPartialJsonParser(): maxDepth must be a positive integer, got null.',
    ],
    [{ maxDepth: 0 }, RangeError, 'createPartialJsonParser(): maxDepth must be a positive integer, got 0.'],
    [
      { maxDepth: 2.5 },
      RangeError,
      'createPartialJsonParser(): maxDepth must be a positive integer, got 2.5.',
    ],
    [
      { maxDepth: Number.POSITIVE_INFINITY },
      RangeError,
      'createPartialJsonParser(): maxDepth must be a positive integer, got Infinity.',
    ],
    [
      { maxDepth: 2 ** 53 },
      RangeError,
      'createPartialJsonParser(): maxDepth must be a positive integer, got 9007199254740992.',
    ],
    [
      { maxBytes: '1024' },
      TypeError,
      'createPartialJsonParser(): maxBytes must be a positive number of characters, got "1024".',
    ],
    [
      { maxBytes: -1 },
      RangeError,
      'createPartialJsonParser(): maxBytes must be a positive number of characters, got -1.',
    ],
    [
      { maxBytes: Number.NaN },
      RangeError,
      'createPartialJsonParser(): maxBytes must be a positive number of characters, got NaN.',
    ],
    [{ toByteOffset: 5 }, TypeError, 'createPartialJsonParser(): toByteOffset must be a function, got 5.'],
    [
      { toByteOffset: 'bytes' },
      TypeError,
      'createPartialJsonParser(): toByteOffset must be a function, got "bytes".',
    ],
    [
      { toByteOffset: null },
      TypeError,
      'createPartialJsonParser(): toByteOffset must be a function, got null.',
    ],
  ])('%o fails at creation', (options, type, message) => {
    const create = () => createPartialJsonParser(options as unknown as PartialJsonOptions)
    expect(create).toThrow(type)
    expect(create).toThrow(message)
  })

  it('good values, and undefined for the defaults, are taken', () => {
    expect(createPartialJsonParser({ maxDepth: 2, maxBytes: 10.5 }).push('[[1]]')).toBe(true)
    expect(
      createPartialJsonParser({ maxBytes: Number.POSITIVE_INFINITY, toByteOffset: (c) => c }),
    ).toBeDefined()
    const parser = createPartialJsonParser({
      maxDepth: undefined,
      maxBytes: undefined,
      toByteOffset: undefined,
    })
    parser.push('['.repeat(512) + ']'.repeat(512))
    expect(parser.done).toBe(true)
  })
})

describe('a toByteOffset that gives no byte offset', () => {
  /** What `push()` throws, then what the next `push()` and `end()` throw: the parser stays failed. */
  function failures(toByteOffset: (charOffset: number) => number): unknown[] {
    const parser = createPartialJsonParser({ toByteOffset })
    const caught: unknown[] = []
    for (const step of [() => parser.push('{"a":1,x'), () => parser.push('"b":2}'), () => parser.end()]) {
      try {
        step()
        caught.push('no error')
      } catch (error) {
        caught.push(error)
      }
    }
    return caught
  }

  it.each([
    [() => Number.NaN, 'NaN'],
    [() => -1, '-1'],
    [(c: number) => c + 0.5, '7.5'],
    [() => Number.POSITIVE_INFINITY, 'Infinity'],
    [() => '7' as unknown as number, '"7"'],
  ])('%s fails the parser with a TypeError naming what it returned', (toByteOffset, got) => {
    const [first, ...later] = failures(toByteOffset)
    expect(first).toBeInstanceOf(TypeError)
    expect((first as Error).message).toBe(
      `createPartialJsonParser(): toByteOffset(7) must return a byte offset (an integer, 0 or more), got ${got}.`,
    )
    expect(later).toEqual([first, first])
  })

  it('one that throws fails the parser with its error, for good: the JSON after it is never taken', () => {
    const boom = new Error('boom')
    expect(
      failures(() => {
        throw boom
      }),
    ).toEqual([boom, boom, boom])
  })

  it('a byte offset, 0 included, places the error', () => {
    const [first] = failures(() => 0)
    expect(first).toBeInstanceOf(ParseError)
    expect((first as ParseError).offset).toBe(0)
    const parser = createPartialJsonParser({ maxDepth: 1, toByteOffset: (c) => c * 2 })
    expect(() => parser.push('[[')).toThrow(LimitError)
    expect(() => parser.push('[[')).toThrow('Nesting at byte 2 exceeds maxDepth')
  })
})
