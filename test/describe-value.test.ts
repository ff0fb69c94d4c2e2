import { describe, expect, test } from 'vitest'
import { describeValue } from '../src/runtime/describe-value.ts'

// What error messages print after "got" or "is": every kind of value reads as a phrase, and a string never
// looks like the number or keyword it spells.
describe('describeValue', () => {
  test.each([
    [undefined, 'undefined'],
    [null, 'null'],
    ['5', '"5"'],
    ['', '""'],
    ['undefined', '"undefined"'],
    [5, '5'],
    [-0, '-0'],
    [Number.NaN, 'NaN'],
    [true, 'true'],
    [10n, '10n'],
    [Symbol('id'), 'a symbol (Symbol(id))'],
    [function handler() {}, 'a function (handler)'],
    [[1, 2], 'an array'],
    [{}, 'an object (Object)'],
    [new Map(), 'an object (Map)'],
  ])('describes %s as %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected)
  })

  test('shortens a long string', () => {
    expect(describeValue('x'.repeat(50))).toBe(`"${'x'.repeat(40)}…"`)
  })

  test('shortens a long string before a character whose two halves the cut would part', () => {
    // The 40th UTF-16 unit is the first half of 😀: cut there, JSON would show it as \ud83d.
    expect(describeValue(`${'x'.repeat(39)}😀${'x'.repeat(10)}`)).toBe(`"${'x'.repeat(39)}…"`)
    expect(describeValue(`${'x'.repeat(38)}😀${'x'.repeat(10)}`)).toBe(`"${'x'.repeat(38)}😀…"`)
  })
})
