/**
 * createPartialJsonParser() checks its limits as json() does: a limit it cannot take fails at once, naming it
 * and quoting the value — a TypeError for the wrong type, a RangeError for a number out of range — rather
 * than a parser that never limits its depth (`maxDepth: '8'`) or fails at the first bracket (`maxDepth: 0`).
 */
import { describe, expect, it } from 'vitest'
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
