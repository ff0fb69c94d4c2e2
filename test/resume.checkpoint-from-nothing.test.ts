/**
 * A checkpoint taken before the first unit was delivered (offset 0, no event id, no cursor, no part) continues
 * from nothing: `resumeFrom` sends a plain first request, which any version of the resource answers — no byte of
 * the old one was delivered to be spliced. It is still refused for another URL or method, whatever that answers;
 * a checkpoint after the first unit is still refused when the resource changed.
 */
import { describe, expect, it } from 'vitest'
import { type Checkpoint, isHTTPError, isResumeError, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { base64, scripted } from './support/scripted.ts'

const OLD = ['{"v":1,"i":0}', '{"v":1,"i":1}', '{"v":1,"i":2}']
const NEW = ['{"v":2,"i":0}', '{"v":2,"i":1}', '{"v":2,"i":2}', '{"v":2,"i":3,"s":"added since"}']
const bodyOf = (lines: string[]) => base64(encode(`${lines.join('\n')}\n`))

/** A Range resource at "v1" for the first request, then changed: another body and ETag "v2" from then on. */
const changing = () =>
  scripted({
    kind: 'range',
    body: bodyOf(OLD),
    etag: ['"v1"', '"v2"'],
    attempts: [{}, { body: bodyOf(NEW) }],
  })

/** The checkpoint of a stream whose headers arrived but none of whose lines was delivered, as stored. */
async function fromNothing(url: string): Promise<Checkpoint> {
  const res = await sluice(url)
  const checkpoint = res.checkpoint()
  await res.cancel()
  return JSON.parse(JSON.stringify(checkpoint)) as Checkpoint
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof Error)) throw new Error(`expected a rejection, got ${String(error)}`)
  return error
}

describe('a checkpoint taken before the first unit was delivered', () => {
  it('reads the whole new body when the ETag and the length changed since, with a plain first request', async () => {
    const s = await changing()
    const checkpoint = await fromNothing(s.url)
    expect(checkpoint).toMatchObject({ strategy: 'range', offset: 0, etag: '"v1"' })
    expect(checkpoint.lastEventId ?? checkpoint.cursor ?? checkpoint.partEnd).toBeUndefined()
    const res = await sluice(s.url, { resumeFrom: checkpoint })
    expect(res.status).toBe(200)
    expect(await Array.fromAsync(res.lines())).toEqual(NEW)
    // A fresh stream in every count, its request a first one (not a reconnect): attempt 1.
    expect(res.progress).toMatchObject({ state: 'done', items: NEW.length, attempt: 1 })
    // The new version's validators, not the old one's: a later checkpoint is for the body read.
    expect(res.checkpoint()).toMatchObject({ etag: '"v2"', offset: encode(`${NEW.join('\n')}\n`).length })
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => [r.range, r.ifRange])).toEqual([
      [null, null],
      [null, null],
    ])
  })

  it('reads the body as a first request does when nothing changed', async () => {
    const s = await scripted({ kind: 'range', body: bodyOf(OLD), etag: ['"v1"'] })
    const res = await sluice(s.url, { resumeFrom: await fromNothing(s.url) })
    expect(await Array.fromAsync(res.lines())).toEqual(OLD)
  })

  it("is refused for another URL as 'invalid-checkpoint', and the URL is asked once", async () => {
    const a = await changing()
    const b = await scripted({ kind: 'range', body: bodyOf(NEW), etag: ['"v2"'] })
    const checkpoint = await fromNothing(a.url)
    const error = await failure(sluice(b.url, { resumeFrom: checkpoint }))
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect(error.message).toContain(`was taken for GET ${a.url}, not for GET ${b.url}`)
    expect((await b.log()).filter((e) => e.event === 'request')).toHaveLength(1)
  })

  it.each([404, 503])(
    'is refused for another URL that answers %i, neither asked again nor an HTTPError',
    async (status) => {
      const a = await changing()
      const refusal = { status, headers: { 'retry-after': '0' } }
      const b = await scripted({ kind: 'range', body: bodyOf(NEW), attempts: Array(8).fill(refusal) })
      const checkpoint = await fromNothing(a.url)
      const error = await failure(sluice(b.url, { resumeFrom: checkpoint }))
      expect(isHTTPError(error)).toBe(false)
      expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
      expect((await b.log()).filter((e) => e.event === 'request')).toHaveLength(1)
    },
  )

  it("is refused for another method as 'invalid-checkpoint'", async () => {
    const s = await changing()
    const checkpoint = await fromNothing(s.url)
    const error = await failure(sluice(s.url, { method: 'POST', resumeFrom: checkpoint }))
    expect(isResumeError(error) && error.reason).toBe('invalid-checkpoint')
    expect(error.message).toContain(`not for POST ${s.url};`)
  })
})

describe('a checkpoint taken after the first unit', () => {
  it("is still refused as 'validator-changed' when the ETag changed since", async () => {
    const s = await changing()
    const res = await sluice(s.url)
    const seen: string[] = []
    for await (const line of res.lines()) {
      seen.push(line)
      if (seen.length === 1) break
    }
    const checkpoint = JSON.parse(JSON.stringify(res.checkpoint())) as Checkpoint
    expect(checkpoint.offset).toBeGreaterThan(0)
    const error = await failure(sluice(s.url, { resumeFrom: checkpoint }))
    expect(isResumeError(error) && error.reason).toBe('validator-changed')
    expect(error.message).toContain('ETag "v1" became "v2"')
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.at(-1)).toMatchObject({ range: `bytes=${checkpoint.offset}-`, ifRange: '"v1"' })
  })
})

describe('a checkpoint taken before the first byte of a part the caller asked for', () => {
  it('is no checkpoint from nothing: resumeFrom asks for that part again, not the whole body', async () => {
    const s = await scripted({ kind: 'range', body: bodyOf(OLD), etag: ['"v1"'] })
    const first = await sluice(s.url, { headers: { range: 'bytes=0-13' } })
    const checkpoint = JSON.parse(JSON.stringify(first.checkpoint())) as Checkpoint
    await first.cancel()
    expect(checkpoint).toMatchObject({ offset: 0, partEnd: 14 })
    // Without the caller's Range header: the checkpoint alone says where the part ends.
    const res = await sluice(s.url, { resumeFrom: checkpoint })
    expect(await Array.fromAsync(res.lines())).toEqual([OLD[0]])
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => [r.range, r.ifRange])).toEqual([
      ['bytes=0-13', null],
      ['bytes=0-13', '"v1"'],
    ])
  })
})
