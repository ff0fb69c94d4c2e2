// The playground's report pauses every 1000 rows, like pages of a database query; a resume by Range must not wait
// again for the pages before its start, which streamNdjson makes again only to skip them.
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { REPORT_ROWS, reportRow } from '../../playground/functions/data.ts'

const paced = vi.hoisted(() => ({ count: 0 }))
vi.mock('../../playground/functions/data.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../playground/functions/data.ts')>()
  return {
    ...original,
    sleep: async () => {
      paced.count++
    },
  }
})

const { startPlayground } = await import('../../playground/server.ts')
let playground: Awaited<ReturnType<typeof startPlayground>>
beforeAll(async () => {
  playground = await startPlayground({ port: 0, shaping: false, log: false })
})
afterAll(() => playground.close())

/** The byte where each row's line ends, by id (1-based). */
const ends = (() => {
  const out = [0]
  for (let id = 1; id <= REPORT_ROWS; id++) out.push(out[id - 1]! + JSON.stringify(reportRow(id)).length + 1)
  return out
})()
/** The pauses of a body that starts at byte `from`: one before each 1000th row that ends past it. */
const pausesFrom = (from: number) =>
  Array.from({ length: REPORT_ROWS / 1000 }, (_, k) => ends[(k + 1) * 1000]!).filter((end) => end > from)
    .length

it('pauses only for the pages past a resume’s Range start', async () => {
  const url = new URL('/fn/report', playground.url)
  const whole = ends[REPORT_ROWS]!
  const from = whole - 300
  paced.count = 0
  const rest = await fetch(url, { headers: { range: `bytes=${from}-` } })
  expect(rest.status).toBe(206)
  expect((await rest.arrayBuffer()).byteLength).toBe(300)
  expect({ paced: paced.count }).toEqual({ paced: pausesFrom(from) })
  expect(pausesFrom(from)).toBe(1)
})
