/**
 * What the model-based properties of resume (`test/resume.model.test.ts`) and of `tee()` under resume
 * (`test/tee.resume.model.test.ts`) share: the units a body is made of, how they go on the wire for each strategy,
 * the cursor that continues after one, and the server's commands as fast-check draws them.
 */
import fc from 'fast-check'
import type { ServerCommand } from './manual-server.ts'

/** `n` units' data: JSON with a two-byte character, so that pushes cut characters as well as units. */
export const unitData = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ i, s: `é${'x'.repeat(i % 3)}` }))

/** The units after unit `after` (-1: all), on the wire: NDJSON lines, or SSE events (with ids but under a cursor). */
export function unitsOnWire(
  data: readonly string[],
  setup: { format: string; strategy: string },
  after: number,
): string {
  const units = data.map((text, i) =>
    setup.format === 'ndjson'
      ? `${text}\n`
      : setup.strategy === 'cursor'
        ? `data: ${text}\n\n`
        : `id: e${i}\ndata: ${text}\n\n`,
  )
  return units.slice(after + 1).join('')
}

/** The cursor: the `after` param from the last item, whatever shape the consumer gives it. */
export const cursorAfter = (last: unknown) => {
  const value = (last as { data?: unknown }).data ?? last
  const { i } = (typeof value === 'string' ? JSON.parse(value) : value) as { i: number }
  return { searchParams: { after: String(i) } }
}

/** The server's commands, weighted as both models draw them, to mix with the consumers' own. */
export const SERVER_COMMANDS: ReadonlyArray<fc.WeightedArbitrary<ServerCommand>> = [
  { weight: 2, arbitrary: fc.constant({ t: 'answer' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'busy' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('push' as const), n: fc.integer({ min: 1, max: 48 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'cut' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('drop' as const), answer: fc.boolean() }) },
]
