/**
 * A stream continued from a checkpoint (`resumeFrom`) names the same places in its errors as an undisturbed
 * read of the same body: the line, the byte offset and the record or event number count from the start of
 * the body, not from the checkpoint. After a restart (Last-Event-ID, a cursor) the line and number go on,
 * and the offset counts in the response that carried the error.
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sealCheckpoint } from '../src/core/resume/checkpoint.ts'
import {
  type Checkpoint,
  isLimitError,
  isParseError,
  isValidationError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
import { base64, FAST, type Script, scripted } from './support/scripted.ts'

/** 40 lines, blank ones among them (so lines and records differ), CRLF, multi-byte text; line 34 is bad. */
const LINES = Array.from({ length: 40 }, (_, i) =>
  i % 6 === 5
    ? ''
    : i === 33
      ? `{"i":${i},"s":"broken`
      : `{"i":${i},"s":"ligne ${i} ${'€'.repeat(i % 3)}😀"}`,
)
const BODY = encode(`${LINES.join('\r\n')}\r\n`)
const range = (body: Uint8Array, extra: Partial<Script> = {}): Script => ({
  kind: 'range',
  body: base64(body),
  etag: ['"v1"'],
  chunk: 37,
  pace: 1,
  ...extra,
})

/** The error an iteration ends with, and the items before it. */
async function failure(items: AsyncIterable<unknown>): Promise<{ items: unknown[]; error: unknown }> {
  const got: unknown[] = []
  try {
    for await (const item of items) got.push(item)
  } catch (error) {
    return { items: got, error }
  }
  throw new Error('the iteration ended without an error')
}

/** Reads `k` items, takes a checkpoint in the loop body and stops; the checkpoint as saved and loaded. */
async function checkpointAfter(
  url: string,
  k: number,
  read: (res: StreamResponse) => AsyncIterable<unknown>,
  options: SluiceOptions = {},
): Promise<Checkpoint> {
  const first = await sluice(url, options)
  let saved = ''
  let n = 0
  for await (const _ of read(first)) {
    if (++n === k) {
      saved = JSON.stringify(first.checkpoint())
      break
    }
  }
  return JSON.parse(saved) as Checkpoint
}

/** The same, then a new client continues from the saved checkpoint. */
async function resumedAfter(
  url: string,
  k: number,
  read: (res: StreamResponse) => AsyncIterable<unknown>,
  options: SluiceOptions = {},
): Promise<{ checkpoint: Checkpoint; res: StreamResponse }> {
  const checkpoint = await checkpointAfter(url, k, read, options)
  return { checkpoint, res: await sluice(url, { ...options, resumeFrom: checkpoint }) }
}

/** What an error says of where it happened. */
const where = (error: unknown) => {
  const e = error as { message: string; line?: number; offset?: number; index?: number }
  return { message: e.message, line: e.line, offset: e.offset, index: e.index }
}

describe('after resumeFrom, errors count from the start of the body', () => {
  it('ndjson(): a ParseError names the same line, byte offset and record as an undisturbed read', async () => {
    const s = await scripted(range(BODY))
    const undisturbed = await failure((await sluice(s.url)).ndjson())
    expect(isParseError(undisturbed.error)).toBe(true)
    expect(where(undisturbed.error)).toMatchObject({ line: 34 })
    expect((undisturbed.error as Error).message).toContain('The record at index 28 ')

    const { checkpoint, res } = await resumedAfter(s.url, 10, (r) => r.ndjson())
    // 10 records and the blank line among them: the checkpoint counts both.
    expect(checkpoint).toMatchObject({ strategy: 'range', records: 10, lines: 11 })
    const resumed = await failure(res.ndjson())
    expect(resumed.items).toEqual(undisturbed.items.slice(10))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('ndjson(schema): a ValidationError names the same record index', async () => {
    const schema = z.object({ i: z.number().max(20), s: z.string() })
    const body = encode(LINES.map((l, i) => (i === 33 ? '{"i":33,"s":"ok"}' : l)).join('\n'))
    const s = await scripted(range(body))
    const undisturbed = await failure((await sluice(s.url)).ndjson(schema))
    expect(isValidationError(undisturbed.error) && undisturbed.error.index).toBe(18)

    const { res } = await resumedAfter(s.url, 7, (r) => r.ndjson(schema))
    const resumed = await failure(res.ndjson(schema))
    expect(isValidationError(resumed.error) && resumed.error.index).toBe(18)
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('ndjson() with onInvalid: records skipped before the checkpoint still count', async () => {
    const schema = z.object({ i: z.number().max(30), s: z.string() })
    // Records that are not JSON are skipped; the first that fails the schema ends the stream.
    const onInvalid = (error: unknown) => {
      if (isValidationError(error)) throw error
    }
    const body = encode(LINES.map((l, i) => (i === 3 ? '{"i":3,"s":' : i === 33 ? '{"i":33}' : l)).join('\n'))
    const s = await scripted(range(body))
    const undisturbed = await failure((await sluice(s.url)).ndjson(schema, { onInvalid }))
    expect(isValidationError(undisturbed.error) && undisturbed.error.index).toBe(26)
    const { checkpoint, res } = await resumedAfter(s.url, 8, (r) => r.ndjson(schema, { onInvalid }))
    // 8 delivered, the bad one skipped on the way: 9 records behind the checkpoint.
    expect(checkpoint.records).toBe(9)
    const resumed = await failure(res.ndjson(schema, { onInvalid }))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('events(schema) with onInvalid: events skipped before the checkpoint still count', async () => {
    const schema = z.object({ i: z.number().max(20), s: z.string() })
    // Events that are not JSON are skipped; the first that fails the schema ends the stream.
    const onInvalid = (error: unknown) => {
      if (isValidationError(error)) throw error
    }
    const body = encode(
      Array.from({ length: 30 }, (_, i) =>
        i === 3 ? 'data: {"i":3,\n\n' : `data: {"i":${i},"s":"é ${i}"}\n\n`,
      ).join(''),
    )
    const s = await scripted(range(body, { type: 'text/event-stream' }))
    const read = (r: StreamResponse) => r.events({ schema, onInvalid })
    const undisturbed = await failure(read(await sluice(s.url)))
    expect(isValidationError(undisturbed.error) && undisturbed.error.index).toBe(21)
    const { checkpoint, res } = await resumedAfter(s.url, 8, read)
    // 8 delivered, the one that is not JSON skipped on the way: 9 events behind the checkpoint.
    expect(checkpoint.records).toBe(9)
    const resumed = await failure(read(res))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('lines(): a line over maxLineBytes is named by its line number in the body', async () => {
    const body = encode(LINES.map((l, i) => (i === 30 ? 'x'.repeat(300) : l)).join('\n'))
    const s = await scripted(range(body))
    const options = { maxLineBytes: 200 }
    const undisturbed = await failure((await sluice(s.url, options)).lines())
    expect(isLimitError(undisturbed.error) && undisturbed.error.message).toContain('Line 31 exceeds')

    const { checkpoint, res } = await resumedAfter(s.url, 12, (r) => r.lines(), options)
    expect(checkpoint).toMatchObject({ lines: 12, records: 12 })
    const resumed = await failure(res.lines())
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('lines({ fatal: true }) and text({ fatal: true }): invalid UTF-8 is named by its line and byte offset', async () => {
    const head = encode(`${LINES.slice(0, 25).join('\n')}\n{"bad":"`)
    const body = concatBytes([head, new Uint8Array([0xff]), encode('"}\nend\n')])
    const s = await scripted(range(body))
    const lines = await failure((await sluice(s.url)).lines({ fatal: true }))
    expect(where(lines.error)).toMatchObject({ line: 26, offset: head.length })
    const resumedLines = await resumedAfter(s.url, 9, (r) => r.lines({ fatal: true }))
    expect(where((await failure(resumedLines.res.lines({ fatal: true }))).error)).toEqual(where(lines.error))

    // text()'s items are the chunks as they arrive, which Chromium under load may join into one that holds the
    // bad byte: the checkpoint is taken from an answer that stalls at byte 74, so an item comes before it.
    const t = await scripted(range(body, { attempts: [{}, { stall: 74 }] }))
    const text = await failure((await sluice(t.url)).text({ fatal: true }))
    expect(isParseError(text.error) && text.error.offset).toBe(head.length)
    const resumedText = await resumedAfter(t.url, 1, (r) => r.text({ fatal: true }))
    expect(resumedText.checkpoint.offset).toBeGreaterThan(0)
    const again = await failure(resumedText.res.text({ fatal: true }))
    expect(isParseError(again.error) && again.error.offset).toBe(head.length)
  })

  const EVENTS = Array.from({ length: 30 }, (_, i) => ({
    id: `e${i}`,
    data: i === 22 ? '{"i":22,' : `{"i":${i},\n"s":"événement ${i}"}`,
  }))
  const sse = (withIds: boolean) =>
    EVENTS.map((e) => `${withIds ? `id: ${e.id}\n` : ''}data: ${e.data.replace('\n', '\ndata: ')}\n\n`).join(
      '',
    )

  it('events({ json: true }) over Range: a ParseError names the same line, byte offset and event', async () => {
    const s = await scripted(range(encode(sse(false)), { type: 'text/event-stream' }))
    const undisturbed = await failure((await sluice(s.url)).events({ json: true }))
    expect(isParseError(undisturbed.error)).toBe(true)
    expect((undisturbed.error as Error).message).toContain('Event 22 ')

    const { checkpoint, res } = await resumedAfter(s.url, 9, (r) => r.events({ json: true }))
    expect(checkpoint).toMatchObject({ strategy: 'range', records: 9, lines: 27 })
    const resumed = await failure(res.events({ json: true }))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('events({ json: true }) over Last-Event-ID: the line and event number go on; the offset is in the replay', async () => {
    // The test server writes each data as one field: a line feed in it starts the next `data:` line.
    const events = EVENTS.map((e) => ({ id: e.id, data: e.data.replace('\n', '\ndata: ') }))
    const s = await scripted({ kind: 'sse', events, chunk: 41, pace: 1 })
    const undisturbed = await failure((await sluice(s.url)).events({ json: true }))
    const { checkpoint, res } = await resumedAfter(s.url, 9, (r) => r.events({ json: true }), {
      resume: { backoff: FAST },
    })
    expect(checkpoint).toMatchObject({ strategy: 'last-event-id', lastEventId: 'e8', records: 9 })
    const resumed = await failure(res.events({ json: true }))
    const before = where(undisturbed.error)
    const offset = before.offset! - checkpoint.offset
    expect(where(resumed.error)).toEqual({
      ...before,
      message: before.message.replace(`byte ${before.offset}`, `byte ${offset}`),
      offset,
    })
  })
})

describe('checkpoint counts', () => {
  it('refuses a checkpoint whose line or record count is not a count', async () => {
    const s = await scripted(range(BODY))
    const { checkpoint } = await resumedAfter(s.url, 3, (r) => r.ndjson())
    for (const bad of [{ lines: -1 }, { records: 1.5 }, { lines: '3' }]) {
      const error = await sluice(s.url, {
        resumeFrom: { ...checkpoint, ...bad } as unknown as Checkpoint,
      }).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(/has an invalid (lines|records)/)
    }
  })
})

describe('checkpoint counts carry positions across resumeFrom, in every way it can continue', () => {
  it('text({ fatal: true }): the ParseError line after resumeFrom is the line in the whole body', async () => {
    const head = encode(`${LINES.slice(0, 25).join('\n')}\n{"bad":"`)
    const body = concatBytes([head, new Uint8Array([0xff]), encode('"}\nend\n')])
    // The checkpoint's answer stalls at byte 74: text()'s items are the chunks as they arrive, and a loaded
    // browser may hand over the whole body, bad byte and all, as the first one.
    const s = await scripted(range(body, { attempts: [{}, { stall: 74 }] }))
    const undisturbed = await failure((await sluice(s.url)).text({ fatal: true }))
    expect(where(undisturbed.error)).toMatchObject({ line: 26, offset: head.length })
    const checkpoint = await checkpointAfter(s.url, 1, (r) => r.text({ fatal: true }))
    expect(checkpoint.offset).toBeGreaterThan(0)
    const resumed = await failure((await sluice(s.url, { resumeFrom: checkpoint })).text({ fatal: true }))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('skipOnRestart: a full 200 to the checkpoint request names the same places', async () => {
    const s = await scripted(range(BODY, { attempts: [{}, { answer: 'full' }] }))
    const undisturbed = await failure((await sluice(s.url)).ndjson())
    const checkpoint = await checkpointAfter(s.url, 10, (r) => r.ndjson())
    const res = await sluice(s.url, {
      resumeFrom: checkpoint,
      resume: { skipOnRestart: true, backoff: FAST },
    })
    const resumed = await failure(res.ndjson())
    expect(resumed.items).toEqual(undisturbed.items.slice(10))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('a checkpoint made before lines/records existed still resumes', async () => {
    const s = await scripted(range(BODY))
    const fresh = await checkpointAfter(s.url, 10, (r) => r.ndjson())
    const { lines: _l, records: _r, check: _c, version: _v, ...old } = fresh
    const legacy = sealCheckpoint(old)
    const res = await sluice(s.url, { resumeFrom: JSON.parse(JSON.stringify(legacy)) })
    const resumed = await failure(res.ndjson())
    expect(isParseError(resumed.error)).toBe(true)
    expect(resumed.items.length).toBe(18)
  })

  it('chained checkpoints keep counting records and lines', async () => {
    const schema = z.object({ i: z.number().max(20), s: z.string() })
    const body = encode(LINES.map((l, i) => (i === 33 ? '{"i":33,"s":"ok"}' : l)).join('\n'))
    const s = await scripted(range(body))
    const undisturbed = await failure((await sluice(s.url)).ndjson(schema))
    const c1 = await checkpointAfter(s.url, 5, (r) => r.ndjson(schema))
    const c2 = await checkpointAfter(s.url, 6, (r) => r.ndjson(schema), { resumeFrom: c1 })
    expect(c2.records).toBe(11)
    const resumed = await failure((await sluice(s.url, { resumeFrom: c2 })).ndjson(schema))
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })

  it('ndjson(): maxLineBytes after resumeFrom names the line in the body', async () => {
    const body = encode(LINES.map((l, i) => (i === 30 ? `"${'x'.repeat(300)}"` : l)).join('\n'))
    const s = await scripted(range(body))
    const options = { maxLineBytes: 200 }
    const undisturbed = await failure((await sluice(s.url, options)).ndjson())
    expect(isLimitError(undisturbed.error) && undisturbed.error.message).toContain('Line 31 exceeds')
    const c = await checkpointAfter(s.url, 12, (r) => r.ndjson(), options)
    const resumed = await failure((await sluice(s.url, { ...options, resumeFrom: c })).ndjson())
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })
})
