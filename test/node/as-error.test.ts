import { runInNewContext } from 'node:vm'
import { expect, it } from 'vitest'
import { asError } from '../../src/core/as-error.ts'

it('keeps an Error, also one from another realm, and wraps anything else with it as the cause', () => {
  const local = new RangeError('here')
  expect(asError(local)).toBe(local)
  const foreign = runInNewContext('new TypeError("from a vm")') as unknown
  expect(foreign instanceof Error).toBe(false)
  expect(asError(foreign)).toBe(foreign)
  const wrapped = asError({ code: 42 })
  expect(wrapped).toBeInstanceOf(Error)
  expect(wrapped.message).toBe('[object Object]')
  expect(wrapped.cause).toEqual({ code: 42 })
  expect(asError(undefined).message).toBe('undefined')
})
