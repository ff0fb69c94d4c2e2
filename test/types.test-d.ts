import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import {
  type AnySluiceError,
  type Checkpoint,
  type Consumer,
  type CursorRequest,
  createClient,
  createStreamStore,
  type DeepPartial,
  type EventsOptions,
  fromResponse,
  type HTTPError,
  isHTTPError,
  isLimitError,
  isParseError,
  isSluiceError,
  isTruncatedError,
  isValidationError,
  type JsonConsumer,
  type LimitName,
  type ParseErrorType,
  type ServerSentEvent,
  type SluiceOptions,
  type StreamResponse,
  sluice,
  type TimeoutError,
  type TimeoutPhase,
  type ValidationError,
} from '../src/index.ts'
import { useStream } from '../src/react/index.ts'

declare const res: StreamResponse
const Row = z.object({ id: z.number(), name: z.string().optional() })
const Delta = z.object({ text: z.string() }).transform((d) => d.text.length)
interface Row {
  id: number
}

describe('consumer item types', () => {
  it('ndjson(schema) yields the schema output type', () => {
    expectTypeOf(res.ndjson(Row)).toEqualTypeOf<Consumer<{ id: number; name?: string | undefined }>>()
    expectTypeOf(res.ndjson(Delta)).toEqualTypeOf<Consumer<number>>()
  })

  it('ndjson() yields unknown, and ndjson<Row>() yields Row', () => {
    expectTypeOf(res.ndjson()).toEqualTypeOf<Consumer<unknown>>()
    expectTypeOf(res.ndjson<Row>()).toEqualTypeOf<Consumer<Row>>()
    expectTypeOf(res.ndjson(undefined, { onInvalid: 'skip' })).toEqualTypeOf<Consumer<unknown>>()
  })

  it('events({ schema }) types data with the schema output', () => {
    expectTypeOf(res.events({ schema: Delta })).toEqualTypeOf<Consumer<ServerSentEvent<number>>>()
    expectTypeOf(res.events({ schema: Row, until: '[DONE]' })).toEqualTypeOf<
      Consumer<ServerSentEvent<{ id: number; name?: string | undefined }>>
    >()
  })

  it('events({ json: true }) types data as unknown, events() as string', () => {
    expectTypeOf(res.events({ json: true })).toEqualTypeOf<Consumer<ServerSentEvent<unknown>>>()
    expectTypeOf(res.events()).toEqualTypeOf<Consumer<ServerSentEvent<string>>>()
    expectTypeOf<ServerSentEvent['id']>().toEqualTypeOf<string | undefined>()
  })

  it('bytes, text and lines yield Uint8Array and string', () => {
    expectTypeOf(res.bytes({ chunkSize: 4 })).toEqualTypeOf<Consumer<Uint8Array<ArrayBuffer>>>()
    expectTypeOf(res.text({ fatal: true })).toEqualTypeOf<Consumer<string>>()
    expectTypeOf(res.lines()).toEqualTypeOf<Consumer<string>>()
    expectTypeOf(res.lines().toReadableStream()).toEqualTypeOf<ReadableStream<string>>()
    expectTypeOf(res.body).toEqualTypeOf<ReadableStream<Uint8Array<ArrayBuffer>>>()
  })

  it('a for await over a consumer gets the item type', async () => {
    for await (const row of res.ndjson(Row)) expectTypeOf(row.id).toEqualTypeOf<number>()
  })
})

describe('collect helpers', () => {
  it('collect.json(schema) is typed by the schema, collect.json() is unknown', () => {
    expectTypeOf(res.collect.json(Row)).toEqualTypeOf<Promise<{ id: number; name?: string | undefined }>>()
    expectTypeOf(res.collect.json()).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(res.collect.text()).toEqualTypeOf<Promise<string>>()
    expectTypeOf(res.collect.bytes()).toEqualTypeOf<Promise<Uint8Array<ArrayBuffer>>>()
  })

  it('fromResponse resolves to a StreamResponse, tee() to two', () => {
    expectTypeOf(fromResponse(new Response())).toEqualTypeOf<Promise<StreamResponse>>()
    expectTypeOf(res.tee()).toEqualTypeOf<[StreamResponse, StreamResponse]>()
  })
})

describe('error guards narrow', () => {
  it('narrows unknown to each error class and its fields', () => {
    const error: unknown = undefined
    if (isParseError(error)) {
      expectTypeOf(error.line).toEqualTypeOf<number>()
      expectTypeOf(error.offset).toEqualTypeOf<number>()
      expectTypeOf(error.type).toEqualTypeOf<ParseErrorType>()
    }
    if (isValidationError(error)) {
      expectTypeOf(error).toEqualTypeOf<ValidationError>()
      expectTypeOf(error.index).toEqualTypeOf<number>()
      expectTypeOf(error.issues[0]!.message).toEqualTypeOf<string>()
    }
    if (isLimitError(error)) expectTypeOf(error.limit).toEqualTypeOf<LimitName>()
    if (isHTTPError(error)) {
      expectTypeOf(error.status).toEqualTypeOf<number>()
      expectTypeOf(error.response).toEqualTypeOf<Response>()
    }
    if (isTruncatedError(error)) expectTypeOf(error.expected).toEqualTypeOf<number | undefined>()
    if (isSluiceError(error))
      expectTypeOf(error.code).toEqualTypeOf<import('../src/index.ts').SluiceErrorCode>()
  })

  it('onInvalid callbacks receive a ParseError or a ValidationError', () => {
    res.ndjson(Row, {
      onInvalid: (error) => {
        expectTypeOf(error.name).toEqualTypeOf<'ParseError' | 'ValidationError'>()
      },
    })
  })
})

/** A JSON value, as a typed key-value store or a `postMessage` wrapper declares it. */
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

declare const flag: boolean
declare const maybeRow: typeof Row | undefined
declare const maybeNumber: number | undefined
declare const maybeString: string | undefined
declare const maybeHeaders: Record<string, string> | undefined
declare const maybeFetch: typeof fetch | undefined
const Doc = z.object({ n: z.number().transform(String), at: z.string().transform((s) => new Date(s)) })

describe('json() snapshots are typed as the document on the wire', () => {
  it('types snapshots with the schema input and final with its output', async () => {
    const doc = res.json(Doc)
    expectTypeOf(doc).toEqualTypeOf<
      JsonConsumer<DeepPartial<{ n: number; at: string }>, { n: string; at: Date }>
    >()
    for await (const partial of doc) {
      expectTypeOf(partial.n).toEqualTypeOf<number | undefined>()
      expectTypeOf(partial.at).toEqualTypeOf<string | undefined>()
    }
    expectTypeOf(await doc.final).toEqualTypeOf<{ n: string; at: Date }>()
  })

  it('types an enum field of a snapshot as string, its final value as the enum', async () => {
    const Job = z.object({ status: z.enum(['pending', 'done']) })
    const job = res.json(Job)
    for await (const partial of job) expectTypeOf(partial.status).toEqualTypeOf<string | undefined>()
    expectTypeOf((await job.final).status).toEqualTypeOf<'pending' | 'done'>()
    expectTypeOf(
      createStreamStore(res, { as: 'json', schema: Job }).getSnapshot().data?.status,
    ).toEqualTypeOf<string | undefined>()
  })

  it('types snapshots as deeply readonly: a mutation would corrupt later snapshots and final', async () => {
    const Rows = z.object({ title: z.string(), rows: z.array(z.object({ id: z.number() })) })
    expectTypeOf<DeepPartial<z.input<typeof Rows>>>().toEqualTypeOf<{
      readonly title?: string
      readonly rows?: readonly { readonly id?: number }[]
    }>()
    for await (const partial of res.json(Rows)) {
      // @ts-expect-error a snapshot's arrays are readonly
      partial.rows?.push({ id: 1 })
      // @ts-expect-error a snapshot's properties are readonly, nested ones too
      if (partial.rows?.[0]) partial.rows[0].id = 2
      // @ts-expect-error a snapshot's properties are readonly
      partial.title = 'edited'
    }
  })
})

describe('byte outputs are over an ArrayBuffer, as fetch bodies are', () => {
  it('types res.body, bytes(), collect.bytes() and their streams as Uint8Array<ArrayBuffer>', () => {
    expectTypeOf(res.body).toEqualTypeOf<ReadableStream<Uint8Array<ArrayBuffer>>>()
    expectTypeOf(res.bytes()).toEqualTypeOf<Consumer<Uint8Array<ArrayBuffer>>>()
    expectTypeOf(res.bytes().toReadableStream()).toEqualTypeOf<ReadableStream<Uint8Array<ArrayBuffer>>>()
    expectTypeOf(res.collect.bytes()).toEqualTypeOf<Promise<Uint8Array<ArrayBuffer>>>()
  })

  it('passes them to the Web APIs that take bytes, as a fetch body is', async () => {
    res.body.pipeThrough(new TextDecoderStream())
    res.bytes().toReadableStream().pipeThrough(new DecompressionStream('gzip'))
    new Blob([await res.collect.bytes()])
    for await (const chunk of res.bytes()) await crypto.subtle.digest('SHA-256', chunk)
  })
})

describe('events() types data as string only when it is certainly not parsed', () => {
  it('types data as unknown when json is a boolean known at runtime only', () => {
    expectTypeOf(res.events({ json: flag })).toEqualTypeOf<Consumer<ServerSentEvent<unknown>>>()
  })

  it('types data as unknown for an EventsOptions variable', () => {
    const options: EventsOptions = { json: true }
    expectTypeOf(res.events(options)).toEqualTypeOf<Consumer<ServerSentEvent<unknown>>>()
  })

  it('keeps string without json, with json: false, and the schema output with a schema', () => {
    expectTypeOf(res.events({ until: '[DONE]' })).toEqualTypeOf<Consumer<ServerSentEvent<string>>>()
    expectTypeOf(res.events({ json: false })).toEqualTypeOf<Consumer<ServerSentEvent<string>>>()
    expectTypeOf(res.events({ json: false, schema: Row })).toEqualTypeOf<
      Consumer<ServerSentEvent<{ id: number; name?: string | undefined }>>
    >()
  })
})

describe('a Checkpoint is a JSON value', () => {
  it('is assignable to a JSON value type, its cursor included', () => {
    expectTypeOf<Checkpoint>().toExtend<JsonValue>()
    expectTypeOf<CursorRequest>().toExtend<{ [key: string]: JsonValue }>()
    const stored: JsonValue = res.checkpoint()
    void stored
  })
})

describe('options take an explicit undefined as absent (exactOptionalPropertyTypes)', () => {
  it('accepts undefined for sluice(), createClient() and fromResponse() options', () => {
    sluice('/x', {
      ky: undefined,
      signal: undefined,
      onProgress: undefined,
      progressInterval: maybeNumber,
      idleTimeout: maybeNumber,
      totalTimeout: maybeNumber,
      total: maybeNumber,
      maxBytes: maybeNumber,
      maxLineBytes: maybeNumber,
      maxEventBytes: maybeNumber,
      resume: undefined,
      resumeFrom: undefined,
    })
    createClient({ idleTimeout: maybeNumber }).extend({ totalTimeout: maybeNumber })
    // As ky's extend() does, it also takes a function of the client's defaults, or nothing.
    createClient().extend((parent) => ({ prefix: `${parent.prefix}/users`, idleTimeout: parent.idleTimeout }))
    expectTypeOf(createClient().extend)
      .parameter(0)
      .toEqualTypeOf<SluiceOptions | ((parent: SluiceOptions) => SluiceOptions) | undefined>()
    fromResponse(new Response(), {
      request: undefined,
      url: undefined,
      method: undefined,
      total: maybeNumber,
    })
  })

  it("accepts undefined for ky's own options too, as ky does at run time", () => {
    const ky = {
      method: maybeString,
      headers: maybeHeaders,
      body: undefined,
      json: undefined,
      searchParams: undefined,
      prefix: maybeString,
      baseUrl: maybeString,
      timeout: maybeNumber,
      retry: maybeNumber,
      hooks: undefined,
      fetch: maybeFetch,
      credentials: undefined,
      keepalive: undefined,
      context: undefined,
    }
    sluice('/x', ky)
    createClient(ky).extend(ky)('/x', ky)
    useStream('/x', { as: 'lines', sluice: ky })
    type RefusingUndefined<T> = { [K in keyof T]-?: undefined extends Required<T>[K] ? never : K }[keyof T]
    expectTypeOf<RefusingUndefined<SluiceOptions>>().toBeNever()
  })

  it('accepts undefined in resume settings, and from a cursor', () => {
    sluice('/x', {
      resume: {
        strategy: undefined,
        attempts: maybeNumber,
        backoff: { initial: maybeNumber, max: maybeNumber, factor: maybeNumber, jitter: maybeNumber },
        skipOnRestart: undefined,
        cursor: (row) => ({
          searchParams: row === undefined ? undefined : { after: '1' },
          headers: undefined,
        }),
      },
    })
  })

  it('accepts undefined for the consumers options', () => {
    res.bytes({ chunkSize: maybeNumber })
    res.text({ fatal: undefined })
    res.lines({ fatal: undefined })
    res.ndjson(Row, { onInvalid: undefined })
    res.events({ json: undefined, schema: undefined, until: undefined, onInvalid: undefined })
    res.json(Row, { throttleMs: maybeNumber, maxDepth: maybeNumber })
    res.tee({ maxBuffer: maybeNumber })
  })
})

describe('a schema that may be absent', () => {
  it('is accepted by ndjson(), json(), events() and collect.json(), which then type items unknown', () => {
    expectTypeOf(res.ndjson(maybeRow)).toEqualTypeOf<Consumer<unknown>>()
    expectTypeOf(res.ndjson(maybeRow, { onInvalid: 'skip' })).toEqualTypeOf<Consumer<unknown>>()
    expectTypeOf(res.json(maybeRow)).toEqualTypeOf<JsonConsumer<unknown, unknown>>()
    expectTypeOf(res.events({ schema: maybeRow })).toEqualTypeOf<Consumer<ServerSentEvent<unknown>>>()
    expectTypeOf(res.collect.json(maybeRow)).toEqualTypeOf<Promise<unknown>>()
  })
})

describe('collect.json<T>()', () => {
  it('takes a type argument, as ndjson<T>() and json<T>() do', () => {
    interface Report {
      title: string
    }
    expectTypeOf(res.collect.json<Report>()).toEqualTypeOf<Promise<Report>>()
    expectTypeOf(res.ndjson<Report>()).toEqualTypeOf<Consumer<Report>>()
    expectTypeOf(res.json<Report>()).toEqualTypeOf<JsonConsumer<DeepPartial<Report>, Report>>()
  })
})

describe('isSluiceError narrows to the union of the error classes', () => {
  it('narrows each case of a switch on code to its class', () => {
    const error: unknown = undefined
    if (isSluiceError(error)) {
      expectTypeOf(error).toEqualTypeOf<AnySluiceError>()
      switch (error.code) {
        case 'ERR_HTTP':
          expectTypeOf(error).toEqualTypeOf<HTTPError>()
          expectTypeOf(error.status).toEqualTypeOf<number>()
          break
        case 'ERR_TIMEOUT':
          expectTypeOf(error).toEqualTypeOf<TimeoutError>()
          expectTypeOf(error.phase).toEqualTypeOf<TimeoutPhase>()
          break
      }
    }
  })

  it('names only the limits that sluice raises', () => {
    expectTypeOf<LimitName>().toEqualTypeOf<'maxBytes' | 'maxLineBytes' | 'maxEventBytes' | 'maxDepth'>()
  })
})
