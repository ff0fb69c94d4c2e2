import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  type Consumer,
  createStreamStore,
  type DeepPartial,
  type EventsStoreOptions,
  type ParseError,
  type ServerSentEvent,
  type StreamData,
  type StreamFinal,
  type StreamItem,
  type StreamMode,
  type StreamResponse,
  type StreamSnapshot,
  type StreamStore,
  type ValidationError,
} from '../src/index.ts'
import { type UseStreamRequest, type UseStreamResult, useStream, useStreamStore } from '../src/react/index.ts'

declare const res: StreamResponse
const Row = z.object({ id: z.number(), name: z.string().optional() })
type Row = z.infer<typeof Row>
const Delta = z.object({ text: z.string() }).transform((d) => d.text.length)
const Report = z.object({ title: z.string(), rows: z.array(Row) })
type Report = z.infer<typeof Report>

describe('createStreamStore error type', () => {
  it('is an Error or undefined, so error?.message needs no narrowing', () => {
    expectTypeOf(createStreamStore(res, { as: 'ndjson' }).getSnapshot().error).toEqualTypeOf<
      Error | undefined
    >()
    expectTypeOf(useStream('/x', { as: 'text' }).error).toEqualTypeOf<Error | undefined>()
  })
})

describe('createStreamStore item types', () => {
  it('ndjson with a schema has the schema output as its item type', () => {
    const store = createStreamStore(res, { as: 'ndjson', schema: Row })
    expectTypeOf(store.getSnapshot().items).toEqualTypeOf<readonly Row[]>()
    expectTypeOf(createStreamStore(res, { as: 'ndjson', schema: Delta }).getSnapshot().items).toEqualTypeOf<
      readonly number[]
    >()
  })

  it('ndjson without a schema has unknown items', () => {
    expectTypeOf(createStreamStore(res, { as: 'ndjson' }).getSnapshot().items).toEqualTypeOf<
      readonly unknown[]
    >()
  })

  it('events are ServerSentEvent of string, of unknown with json, of the schema output with a schema', () => {
    expectTypeOf(createStreamStore(res, { as: 'events' }).getSnapshot().items).toEqualTypeOf<
      readonly ServerSentEvent<string>[]
    >()
    expectTypeOf(createStreamStore(res, { as: 'events', json: true }).getSnapshot().items).toEqualTypeOf<
      readonly ServerSentEvent<unknown>[]
    >()
    expectTypeOf(
      createStreamStore(res, { as: 'events', schema: Delta, until: '[DONE]' }).getSnapshot().items,
    ).toEqualTypeOf<readonly ServerSentEvent<number>[]>()
  })

  it('lines are strings and bytes are Uint8Array chunks', () => {
    expectTypeOf(createStreamStore(res, { as: 'lines' }).getSnapshot().items).toEqualTypeOf<
      readonly string[]
    >()
    expectTypeOf(createStreamStore(res, { as: 'bytes' }).getSnapshot().items).toEqualTypeOf<
      readonly Uint8Array<ArrayBuffer>[]
    >()
  })

  it('text has no items and a string text', () => {
    const snapshot = createStreamStore(res, { as: 'text' }).getSnapshot()
    expectTypeOf(snapshot.items).toEqualTypeOf<readonly never[]>()
    expectTypeOf(snapshot.text).toEqualTypeOf<string>()
    expectTypeOf(snapshot.data).toEqualTypeOf<undefined>()
  })

  it('json with a schema types data as DeepPartial of the output and final as the output', () => {
    const snapshot = createStreamStore(res, { as: 'json', schema: Report }).getSnapshot()
    expectTypeOf(snapshot.data).toEqualTypeOf<DeepPartial<Report> | undefined>()
    expectTypeOf(snapshot.final).toEqualTypeOf<Report | undefined>()
    expectTypeOf(snapshot.isComplete).toEqualTypeOf<(path?: readonly (string | number)[]) => boolean>()
  })

  it('json without a schema has unknown data and final', () => {
    const snapshot = createStreamStore(res, { as: 'json' }).getSnapshot()
    expectTypeOf(snapshot.data).toEqualTypeOf<unknown>()
    expectTypeOf(snapshot.final).toEqualTypeOf<unknown>()
  })

  it('accepts a response, a promise of one, or a request function', () => {
    expectTypeOf(createStreamStore(Promise.resolve(res), { as: 'text' })).toEqualTypeOf<
      StreamStore<never, undefined, undefined>
    >()
    expectTypeOf(createStreamStore(async () => res, { as: 'lines' })).toEqualTypeOf<
      StreamStore<string, undefined, undefined>
    >()
  })

  it('rejects options of another mode and a missing mode', () => {
    // @ts-expect-error maxItems is not an option of text mode
    createStreamStore(res, { as: 'text', maxItems: 10 })
    // @ts-expect-error as is required
    createStreamStore(res, { schema: Row })
    // @ts-expect-error not a mode
    createStreamStore(res, { as: 'xml' })
  })
})

describe('sluice/react types', () => {
  it('useStream infers the item type from the schema and adds cancel and retry', () => {
    const result = useStream('/rows', {
      as: 'ndjson',
      schema: Row,
      sluice: { method: 'POST', json: { q: 1 } },
    })
    expectTypeOf(result.items).toEqualTypeOf<readonly Row[]>()
    expectTypeOf(result.cancel).toEqualTypeOf<(reason?: unknown) => void>()
    expectTypeOf(result.retry).toEqualTypeOf<() => void>()
    expectTypeOf(result).toExtend<StreamSnapshot<Row, undefined, undefined>>()
  })

  it('useStream takes a request function and types a json document', () => {
    const result = useStream(async (signal) => (signal.aborted ? res : res), { as: 'json', schema: Report })
    expectTypeOf(result).toEqualTypeOf<UseStreamResult<never, DeepPartial<Report>, Report>>()
    expectTypeOf(result.final).toEqualTypeOf<Report | undefined>()
  })

  it('useStreamStore keeps the store types', () => {
    const store = createStreamStore(res, { as: 'ndjson', schema: Row })
    expectTypeOf(useStreamStore(store).items).toEqualTypeOf<readonly Row[]>()
  })
})

declare const flag: boolean
declare const maybeNumber: number | undefined
const Doc = z.object({ n: z.number().transform(String), at: z.string().transform((s) => new Date(s)) })

describe('store and hook types of the partial document', () => {
  it('types data as DeepPartial of the schema input (the document as sent), final as its output', () => {
    const snapshot = createStreamStore(res, { as: 'json', schema: Doc }).getSnapshot()
    expectTypeOf(snapshot.data).toEqualTypeOf<DeepPartial<{ n: number; at: string }> | undefined>()
    expectTypeOf(snapshot.data?.n).toEqualTypeOf<number | undefined>()
    expectTypeOf(snapshot.final).toEqualTypeOf<{ n: string; at: Date } | undefined>()
    expectTypeOf<StreamData<{ as: 'json'; schema: typeof Doc }>>().toEqualTypeOf<
      DeepPartial<{ n: number; at: string }>
    >()
  })

  it('types useStream() data the same way, and read-only', () => {
    const result = useStream('/doc', { as: 'json', schema: Doc })
    expectTypeOf(result.data).toEqualTypeOf<DeepPartial<{ n: number; at: string }> | undefined>()
    expectTypeOf(result.final).toEqualTypeOf<{ n: string; at: Date } | undefined>()
    const report = useStream('/report', { as: 'json', schema: Report })
    // @ts-expect-error a snapshot's arrays are readonly
    report.data?.rows?.push({ id: 1 })
  })
})

describe('store byte and event items', () => {
  it('types bytes items as Uint8Array<ArrayBuffer>, which Blob accepts', () => {
    expectTypeOf<StreamItem<{ as: 'bytes' }>>().toEqualTypeOf<Uint8Array<ArrayBuffer>>()
    new Blob([...createStreamStore(res, { as: 'bytes' }).getSnapshot().items])
    new Blob([...useStream('/file', { as: 'bytes' }).items])
  })

  it('types events data as unknown when json is a boolean, or for EventsStoreOptions', () => {
    expectTypeOf(createStreamStore(res, { as: 'events', json: flag }).getSnapshot().items).toEqualTypeOf<
      readonly ServerSentEvent<unknown>[]
    >()
    expectTypeOf(useStream('/e', { as: 'events', json: flag }).items).toEqualTypeOf<
      readonly ServerSentEvent<unknown>[]
    >()
    expectTypeOf<StreamItem<EventsStoreOptions>>().toEqualTypeOf<ServerSentEvent<unknown>>()
    expectTypeOf<StreamItem<{ as: 'events'; json: false }>>().toEqualTypeOf<ServerSentEvent<string>>()
  })
})

describe('store and hook options take an explicit undefined as absent', () => {
  it('accepts undefined for the store options of every mode', () => {
    createStreamStore(res, {
      as: 'ndjson',
      schema: undefined,
      onInvalid: undefined,
      maxItems: maybeNumber,
      throttleMs: maybeNumber,
    })
    createStreamStore(res, { as: 'events', json: undefined, until: undefined, maxItems: maybeNumber })
    createStreamStore(res, { as: 'bytes', chunkSize: maybeNumber, maxItems: maybeNumber })
    createStreamStore(res, { as: 'lines', fatal: undefined })
    createStreamStore(res, { as: 'text', fatal: undefined, throttleMs: maybeNumber })
    createStreamStore(res, { as: 'json', schema: undefined, maxDepth: maybeNumber, throttleMs: maybeNumber })
  })

  it('accepts undefined for the hook options', () => {
    useStream('/x', { as: 'ndjson', sluice: undefined, key: undefined, maxItems: maybeNumber })
    useStream('/x', { as: 'text', sluice: { idleTimeout: maybeNumber, resume: undefined } })
  })
})

declare const maybeRow: typeof Row | undefined

describe('store events data is a string only when certainly not parsed', () => {
  it('types data as unknown for a schema that may be absent (the store parses whenever it is given)', () => {
    expectTypeOf(
      createStreamStore(res, { as: 'events', schema: maybeRow }).getSnapshot().items,
    ).toEqualTypeOf<readonly ServerSentEvent<unknown>[]>()
    expectTypeOf(
      createStreamStore(res, { as: 'events', json: false, schema: maybeRow }).getSnapshot().items,
    ).toEqualTypeOf<readonly ServerSentEvent<unknown>[]>()
    expectTypeOf(useStream('/e', { as: 'events', schema: maybeRow }).items).toEqualTypeOf<
      readonly ServerSentEvent<unknown>[]
    >()
    expectTypeOf<StreamItem<{ as: 'events'; schema?: typeof Row }>>().toEqualTypeOf<
      ServerSentEvent<unknown>
    >()
  })

  it('keeps string for a schema given as undefined, as the consumer does', () => {
    expectTypeOf(
      createStreamStore(res, { as: 'events', schema: undefined }).getSnapshot().items,
    ).toEqualTypeOf<readonly ServerSentEvent<string>[]>()
    expectTypeOf(res.events({ schema: undefined })).toEqualTypeOf<Consumer<ServerSentEvent<string>>>()
  })
})

declare const eitherRequest: UseStreamRequest

describe('useStream() takes sluice options only where it makes the request', () => {
  it('refuses options.sluice beside a request function, which makes its own request and would ignore them', () => {
    // @ts-expect-error a request function's request is its own: idleTimeout here would be ignored
    useStream(async () => res, { as: 'ndjson', sluice: { idleTimeout: 5000 } })
    const request = (signal: AbortSignal) =>
      signal.aborted ? Promise.reject(signal.reason) : Promise.resolve(res)
    // @ts-expect-error the same for a named function
    useStream(request, { as: 'text', sluice: { resume: false } })
    useStream(request, { as: 'text', key: 'k' })
  })

  it('takes them with a URL, a Request, or a request that may be either', () => {
    useStream('/x', { as: 'ndjson', sluice: { idleTimeout: 5000 } })
    useStream(new URL('https://x.test/'), { as: 'ndjson', sluice: { idleTimeout: 5000 } })
    useStream(new Request('https://x.test/'), { as: 'ndjson', sluice: { idleTimeout: 5000 } })
    useStream(eitherRequest, { as: 'ndjson', sluice: { idleTimeout: 5000 } })
  })

  it('still types the signal of an inline request function', () => {
    useStream(
      async (signal) => {
        expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
        return res
      },
      { as: 'lines' },
    )
  })
})

declare const mode: StreamMode

describe('a store whose mode is known at run time only', () => {
  it('types items, data and final as any of its modes may fill them, not as none of them', () => {
    const snapshot = createStreamStore(res, { as: mode }).getSnapshot()
    expectTypeOf(snapshot.items).toEqualTypeOf<readonly unknown[]>()
    expectTypeOf(snapshot.data).toEqualTypeOf<unknown>()
    expectTypeOf(snapshot.final).toEqualTypeOf<unknown>()
    expectTypeOf(useStream('/x', { as: mode }).items).toEqualTypeOf<readonly unknown[]>()
  })

  it('keeps the item types of the modes it may be', () => {
    const lines = mode === 'bytes' ? 'bytes' : 'lines'
    expectTypeOf(createStreamStore(res, { as: lines }).getSnapshot().items).toEqualTypeOf<
      readonly (string | Uint8Array<ArrayBuffer>)[]
    >()
    expectTypeOf<StreamData<{ as: 'json' | 'text' }>>().toEqualTypeOf<unknown>()
    expectTypeOf<StreamFinal<{ as: 'json' | 'text'; schema: typeof Report }>>().toEqualTypeOf<
      Report | undefined
    >()
  })
})

describe('callbacks in store and hook options are typed by their mode', () => {
  it('types the until predicate and onInvalid callback of createStreamStore(), not as an implicit any', () => {
    createStreamStore(res, {
      as: 'events',
      until: (event) => {
        expectTypeOf(event).toEqualTypeOf<ServerSentEvent>()
        return event.data === '[DONE]'
      },
      onInvalid: (error) => {
        expectTypeOf(error).toEqualTypeOf<ParseError | ValidationError>()
      },
    })
    createStreamStore(res, {
      as: 'ndjson',
      schema: Row,
      onInvalid: (error) => {
        expectTypeOf(error).toEqualTypeOf<ParseError | ValidationError>()
      },
    })
  })

  it('types them in useStream() too', () => {
    useStream('/e', {
      as: 'events',
      json: true,
      until: (event) => {
        expectTypeOf(event).toEqualTypeOf<ServerSentEvent>()
        return event.data === '[DONE]'
      },
    })
    useStream(async () => res, {
      as: 'ndjson',
      onInvalid: (error) => {
        expectTypeOf(error).toEqualTypeOf<ParseError | ValidationError>()
      },
    })
  })

  it('still refuses an option of another mode beside a callback', () => {
    // @ts-expect-error maxItems is not an option of json mode
    createStreamStore(res, { as: 'json', maxItems: 1, schema: Row })
    // @ts-expect-error a misspelt option beside a typed callback
    createStreamStore(res, { as: 'events', until: (event) => event.data === '', maxItem: 1 })
  })
})

describe('useStream() checks the keys of options.sluice', () => {
  it('refuses a misspelt sluice option, which ky would ignore without a word', () => {
    // @ts-expect-error idleTimout is no option: the stall would never time out
    useStream('/x', { as: 'ndjson', sluice: { method: 'POST', idleTimout: 5000 } })
    // @ts-expect-error the same beside a schema
    useStream('/x', { as: 'ndjson', schema: Row, sluice: { json: { q: 1 }, headrs: { a: '1' } } })
    useStream('/x', { as: 'ndjson', schema: Row, sluice: { method: 'POST', idleTimeout: 5000 } })
  })

  it('still types the callbacks given in options.sluice', () => {
    useStream('/x', {
      as: 'lines',
      sluice: {
        onProgress: (progress) => expectTypeOf(progress.loaded).toEqualTypeOf<number>(),
        fetch: (input, init) => fetch(input, init),
      },
    })
  })
})
