import fc from 'fast-check'
import { expect, inject, it } from 'vitest'

it('fast-check starts every property from FC_SEED when it is set (CI sets it from the commit), else from its own', () => {
  const seed = inject('fcSeed')
  expect(fc.readConfigureGlobal().seed).toBe(seed ?? undefined)
  const drawn = fc.sample(fc.array(fc.integer()), { numRuns: 5 })
  const again = fc.sample(fc.array(fc.integer()), { numRuns: 5, ...(seed === null ? {} : { seed }) })
  if (seed === null) expect(again).not.toEqual(drawn)
  else expect(again).toEqual(drawn)
})
