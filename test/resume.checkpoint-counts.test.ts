/**
 * The lines and records a checkpoint counts, carried over every way a stream continues from it: a full 200
 * skipped to the offset, chained checkpoints, text() with `fatal`, a limit error; and a checkpoint from before
 * the counts existed still resumes (its errors then count from it).
 */
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { sealCheckpoint } from '../src/core/resume/checkpoint.ts'
import {
  type Checkpoint,
  isLimitError,
  isParseError,
  type SluiceOptions,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { concatBytes, encode } from './support/chunking.ts'
import { base64, FAST, type Script, scripted } from './support/scripted.ts'

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

async function failure(items: AsyncIterable<unknown>): Promise<{ items: unknown[]; error: unknown }> {
  const got: unknown[] = []
  try {
    for await (const item of items) got.push(item)
  } catch (error) {
    return { items: got, error }
  }
  throw new Error('the iteration ended without an error')
}

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

const where = (error: unknown) => {
  const e = error as { message: string; line?: number; offset?: number; index?: number }
  return { message: e.message, line: e.line, offset: e.offset, index: e.index }
}

describe('checkpoint counts carry positions across resumeFrom, in every way it can continue', () => {
  it('text({ fatal: true }): the ParseError line after resumeFrom is the line in the whole body', async () => {
    const head = encode(`${LINES.slice(0, 25).join('\n')}\n{"bad":"`)
    const body = concatBytes([head, new Uint8Array([0xff]), encode('"}\nend\n')])
    const s = await scripted(range(body))
    const undisturbed = await failure((await sluice(s.url)).text({ fatal: true }))
    expect(where(undisturbed.error)).toMatchObject({ line: 26, offset: head.length })
    const checkpoint = await checkpointAfter(s.url, 2, (r) => r.text({ fatal: true }))
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
    expect(isLimitError(undisturbed.error) && undisturbed.error.message).toContain('at line 31')
    const c = await checkpointAfter(s.url, 12, (r) => r.ndjson(), options)
    const resumed = await failure((await sluice(s.url, { ...options, resumeFrom: c })).ndjson())
    expect(where(resumed.error)).toEqual(where(undisturbed.error))
  })
})
