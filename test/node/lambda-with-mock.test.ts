import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sluice } from '../../src/index.ts'
import { sluiceHandler } from '../../src/lambda/index.ts'
import { awslambda, functionUrl } from '../../src/mock/index.ts'

// A function built with sluice/lambda, tested in-process through sluice/mock without installing any global:
// sluice/mock's `awslambda` is accepted where the Lambda runtime's is.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
afterAll(() => server.close())

it("runs a sluiceHandler on sluice/mock's awslambda, end marker and all", async () => {
  const handler = sluiceHandler(async () => ({ ndjson: [{ n: 1 }, { n: 2 }, { n: 3 }] }), { awslambda })
  server.use(functionUrl('https://fn.test/rows', handler))
  const res = await sluice('https://fn.test/rows')
  expect(res.headers.get('x-sluice-end')).toBe('marker')
  expect(await Array.fromAsync(res.ndjson())).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  expect(res.progress.state).toBe('done')
})
