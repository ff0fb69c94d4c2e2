import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import {
  createStreamStore,
  fromResponse,
  isValidationError,
  type StandardSchemaV1,
  type StreamSnapshot,
  type StreamStore,
} from '../src/index.ts'

// DESIGN.md promises that any Standard Schema works, not only zod: the same records and events, validated by real
// valibot and arktype schemas, through every consumer that takes a schema. Both libraries transform (`amount`
// arrives as a numeric string and leaves as a number), and their issues carry paths in their own shapes: valibot's
// are PathSegment objects, arktype's a ReadonlyPath array subclass, and arktype's schemas are functions whose
// `~standard` comes from their prototype.

/** The row schema in each library: `amount` arrives as a decimal string, and the schema makes it a number. */
const libraries = {
  valibot: v.object({ id: v.number(), amount: v.pipe(v.string(), v.decimal(), v.transform(Number)) }),
  arktype: type({ id: 'number', amount: 'string.numeric.parse' }),
} satisfies Record<string, StandardSchemaV1<unknown, { id: number; amount: number }>>

/**
 * What each library says about `{"id":2,"amount":"lots"}`: the issue's message and path, and the error's account of
 * it, which names the path once (arktype's message starts with it).
 */
const rejection = {
  valibot: {
    message: 'Invalid decimal: Received "lots"',
    path: 'amount',
    detail: 'amount: Invalid decimal: Received "lots"',
  },
  arktype: {
    message: 'amount must be a well-formed numeric string (was "lots")',
    path: 'amount',
    detail: 'amount must be a well-formed numeric string (was "lots")',
  },
}

const valid = ['{"id":0,"amount":"1.5"}', '{"id":1,"amount":"2"}']
const invalid = '{"id":2,"amount":"lots"}'
const after = '{"id":3,"amount":"4.25"}'
const rows = [
  { id: 0, amount: 1.5 },
  { id: 1, amount: 2 },
]
const lastRow = { id: 3, amount: 4.25 }

const ndjsonBody = (records: string[]): string => records.map((record) => `${record}\n`).join('')
const sseBody = (records: string[]): string => records.map((record) => `data: ${record}\n\n`).join('')

/** The path of an issue as `a.b`, whichever of the spec's two shapes (keys or `{ key }` segments) it comes in. */
const pathOf = (issue: StandardSchemaV1.Issue | undefined): string | undefined =>
  issue?.path?.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')

const ended = <I, D, F>(store: StreamStore<I, D, F>): Promise<StreamSnapshot<I, D, F>> =>
  new Promise((resolve) => {
    const check = (): void => {
      const snapshot = store.getSnapshot()
      if (snapshot.status !== 'done' && snapshot.status !== 'error') return
      unsubscribe()
      resolve(snapshot)
    }
    const unsubscribe = store.subscribe(check)
    check()
  })

describe.each(Object.entries(libraries))('a %s schema', (name, schema) => {
  const { message, path, detail } = rejection[name as keyof typeof rejection]

  /** Checks that `error` is the ValidationError of item `at` (or of the whole document), with the library's issue. */
  const expectRejection = (error: unknown, at: number | 'document', value: unknown): void => {
    expect(isValidationError(error)).toBe(true)
    if (!isValidationError(error)) return
    expect(error.index).toBe(at === 'document' ? 0 : at)
    expect(error.value).toEqual(value)
    expect(error.issues).toHaveLength(1)
    expect(error.issues[0]?.message).toBe(message)
    expect(pathOf(error.issues[0])).toBe(path)
    expect(error.message).toBe(
      `${at === 'document' ? 'The document' : `The item at index ${at}`} does not match the schema: ${detail}.`,
    )
  }

  it('ndjson(schema) yields the transformed rows', async () => {
    const res = await fromResponse(new Response(ndjsonBody([...valid, after])))
    expect(await Array.fromAsync(res.ndjson(schema))).toEqual([...rows, lastRow])
  })

  it('ndjson(schema): a rejected row is a ValidationError with its index and issues, the rows before it delivered', async () => {
    const res = await fromResponse(new Response(ndjsonBody([...valid, invalid, after])))
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const row of res.ndjson(schema)) seen.push(row)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(rows)
    expectRejection(error, 2, { id: 2, amount: 'lots' })
  })

  it("ndjson(schema, { onInvalid: 'skip' }) leaves the rejected row out", async () => {
    const res = await fromResponse(new Response(ndjsonBody([...valid, invalid, after])))
    expect(await Array.fromAsync(res.ndjson(schema, { onInvalid: 'skip' }))).toEqual([...rows, lastRow])
  })

  it('events({ json: true, schema }) gives each event its transformed data', async () => {
    const res = await fromResponse(new Response(sseBody([...valid, after])))
    const events = await Array.fromAsync(res.events({ json: true, schema }))
    expect(events.map((event) => event.data)).toEqual([...rows, lastRow])
  })

  it('events({ schema }): a rejected event is a ValidationError with its index, the events before it delivered', async () => {
    const res = await fromResponse(new Response(sseBody([...valid, invalid, after])))
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const event of res.events({ json: true, schema })) seen.push(event.data)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(rows)
    expectRejection(error, 2, { id: 2, amount: 'lots' })
  })

  it("events({ schema, onInvalid: 'skip' }) leaves the rejected event out", async () => {
    const res = await fromResponse(new Response(sseBody([...valid, invalid, after])))
    const events = await Array.fromAsync(res.events({ json: true, schema, onInvalid: 'skip' }))
    expect(events.map((event) => event.data)).toEqual([...rows, lastRow])
  })

  it('collect.json(schema) gives the transformed document, or rejects with the document error', async () => {
    const good = await fromResponse(new Response(valid[0]))
    expect(await good.collect.json(schema)).toEqual(rows[0])
    const bad = await fromResponse(new Response(invalid))
    expectRejection(await bad.collect.json(schema).catch((e: unknown) => e), 'document', {
      id: 2,
      amount: 'lots',
    })
  })

  it('json(schema): final is the transformed document, or rejects with the document error', async () => {
    const good = (await fromResponse(new Response(valid[1]))).json(schema)
    expect(await Array.fromAsync(good)).toContainEqual({ id: 1, amount: '2' })
    expect(await good.final).toEqual(rows[1])
    const bad = (await fromResponse(new Response(invalid))).json(schema)
    expectRejection(await bad.final.catch((e: unknown) => e), 'document', { id: 2, amount: 'lots' })
  })

  it('createStreamStore({ as: "ndjson", schema }) keeps the transformed rows, and skips a rejected one', async () => {
    const store = createStreamStore(fromResponse(new Response(ndjsonBody([...valid, invalid, after]))), {
      as: 'ndjson',
      schema,
      onInvalid: 'skip',
    })
    const done = await ended(store)
    expect(done.status).toBe('done')
    expect(done.items).toEqual([...rows, lastRow])
  })

  it('createStreamStore({ as: "json", schema }) gives the transformed final, or the ValidationError', async () => {
    const good = await ended(createStreamStore(fromResponse(new Response(valid[0])), { as: 'json', schema }))
    expect(good.status).toBe('done')
    expect(good.final).toEqual(rows[0])
    const bad = await ended(createStreamStore(fromResponse(new Response(invalid)), { as: 'json', schema }))
    expect(bad.status).toBe('error')
    expectRejection(bad.error, 'document', { id: 2, amount: 'lots' })
  })
})

describe("a nested issue path, in each library's shape, names its place in the document", () => {
  // The message names the path once: in front of valibot's message, as arktype's message writes it already.
  const nested = {
    valibot: [v.object({ rows: v.array(v.object({ id: v.number() })) }), 'rows.1.id: Invalid type'],
    arktype: [type({ rows: type({ id: 'number' }).array() }), 'rows[1].id must be a number'],
  } as const
  it.each(Object.entries(nested))('%s', async (_, [schema, detail]) => {
    const res = await fromResponse(new Response('{"rows":[{"id":1},{"id":"two"}]}'))
    const error = await res.collect.json(schema).catch((e: unknown) => e)
    expect(isValidationError(error) && pathOf(error.issues[0])).toBe('rows.1.id')
    expect(error).toMatchObject({
      message: expect.stringMatching(
        new RegExp(`^The document does not match the schema: ${RegExp.escape(detail)}\\b`),
      ),
    })
  })
})

describe('an asynchronous valibot schema (pipeAsync with checkAsync)', () => {
  const taken = new Set([2])
  const Row = v.pipeAsync(
    v.object({ id: v.number(), amount: v.pipe(v.string(), v.decimal(), v.transform(Number)) }),
    v.checkAsync(async (row) => !taken.has(row.id), 'Invalid id: it is taken'),
  )
  // A row valid in shape that the async check refuses: valibot's result then holds both `value` and `issues`.
  const refused = '{"id":2,"amount":"3"}'

  it('ndjson(schema) yields the rows it accepts, and rejects the refused one after them', async () => {
    const res = await fromResponse(new Response(ndjsonBody([...valid, refused, after])))
    const seen: unknown[] = []
    const error = await (async () => {
      for await (const row of res.ndjson(Row)) seen.push(row)
    })().catch((e: unknown) => e)
    expect(seen).toEqual(rows)
    expect(error).toMatchObject({
      name: 'ValidationError',
      index: 2,
      value: { id: 2, amount: '3' },
      message: 'The item at index 2 does not match the schema: Invalid id: it is taken.',
    })
  })

  it("events({ schema, onInvalid: 'skip' }) leaves the refused event out, in order", async () => {
    const res = await fromResponse(new Response(sseBody([...valid, refused, after])))
    const events = await Array.fromAsync(res.events({ json: true, schema: Row, onInvalid: 'skip' }))
    expect(events.map((event) => event.data)).toEqual([...rows, lastRow])
  })

  it('collect.json(schema) and json(schema).final await the check', async () => {
    expect(await (await fromResponse(new Response(after))).collect.json(Row)).toEqual(lastRow)
    expect(await (await fromResponse(new Response(after))).json(Row).final).toEqual(lastRow)
    const error = await (await fromResponse(new Response(refused))).collect.json(Row).catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'ValidationError',
      message: 'The document does not match the schema: Invalid id: it is taken.',
    })
  })
})
