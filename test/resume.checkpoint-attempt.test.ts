/**
 * A checkpoint's `attempt` is the number of requests sent for the stream so far: a reconnect decided but still
 * waiting out its backoff (`reconnecting`, nothing sent) is not one of them, since the request that continues from
 * the checkpoint is counted in its place. One sent and still waiting for its answer is.
 */
import { describe, expect, it } from 'vitest'
import {
  type Checkpoint,
  fromResponse,
  isResumeError,
  type Progress,
  type ResumeError,
  type StreamResponse,
  sluice,
} from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { type AttemptScript, base64, type Script, scripted } from './support/scripted.ts'
import { responseOf } from './support/streams.ts'

const LINES = Array.from({ length: 30 }, (_, i) => `{"i":${i},"s":"ligne ${i} é😀"}`)
const BODY = encode(`${LINES.join('\n')}\n`)
const RECORDS = LINES.map((line) => JSON.parse(line) as unknown)
/** The drop: after the first lines, with the rest still to come. */
const DROP = Math.floor(BODY.length / 3)

const range = (attempts: AttemptScript[], etag: string[] = ['"v1"']): Script => ({
  kind: 'range',
  body: base64(BODY),
  etag,
  chunk: 40,
  pace: 1,
  attempts,
})
/** A backoff the test never sees the end of: the checkpoint is taken while the reconnect waits it out. */
const WAITS = { initial: 600_000, max: 600_000, jitter: 0 }
/** The first reconnect at once, every later one after a wait the test never sees the end of. */
const THEN_WAITS = { initial: 1, factor: 600_000, max: 600_000, jitter: 0 }
const requests = async (s: { log: () => Promise<{ event: string }[]> }) =>
  (await s.log()).filter((e) => e.event === 'request').length
const stored = (checkpoint: Checkpoint) => JSON.parse(JSON.stringify(checkpoint)) as Checkpoint

/**
 * Reads `url` as NDJSON until the `n`th `reconnecting` report, where it takes the checkpoint (as a page that goes
 * away mid-reconnect does) and, with `detach`, drops the stream first.
 */
async function checkpointWhileReconnecting(
  url: string,
  backoff: object,
  { n = 1, detach = true } = {},
): Promise<{ rows: unknown[]; checkpoint: Checkpoint; reported: number; res: StreamResponse }> {
  let res: StreamResponse | undefined
  let checkpoint: Checkpoint | undefined
  let reported = 0
  let seen = 0
  res = await sluice(url, {
    resume: { backoff },
    progressInterval: 0,
    onProgress: (p: Progress) => {
      if (p.state !== 'reconnecting' || ++seen !== n) return
      reported = p.attempt
      if (detach) res!.detach()
      checkpoint = stored(res!.checkpoint())
      if (!detach) void res!.cancel()
    },
  })
  const rows = await Array.fromAsync(res.ndjson())
  if (checkpoint === undefined) throw new Error(`the stream ended without reconnecting ${n} times`)
  return { rows, checkpoint, reported, res }
}

describe("a checkpoint's attempt counts the requests sent", () => {
  it('taken while a reconnect waits out its backoff (then detached), it counts only the request made, and resumeFrom is the second', async () => {
    const s = await scripted(range([{ drop: DROP }, {}]))
    const first = await checkpointWhileReconnecting(s.url, WAITS)
    // Progress announces the reconnect it is about to make; nothing was sent for it.
    expect(first.reported).toBe(2)
    expect(await requests(s)).toBe(1)
    expect(first.checkpoint.attempt).toBe(1)
    const seen: Progress[] = []
    const res = await sluice(s.url, { resumeFrom: first.checkpoint, onProgress: (p) => seen.push(p) })
    expect(res.progress.attempt).toBe(2)
    const rest = await Array.fromAsync(res.ndjson())
    expect([...first.rows, ...rest]).toEqual(RECORDS)
    expect(await requests(s)).toBe(2)
    expect(seen.find((p) => p.state === 'streaming')?.attempt).toBe(2)
    expect(res.progress).toMatchObject({ state: 'done', attempt: 2 })
  })

  it('taken during the backoff without stopping first, it counts the same', async () => {
    const s = await scripted(range([{ drop: DROP }, {}]))
    const first = await checkpointWhileReconnecting(s.url, WAITS, { detach: false })
    expect(await requests(s)).toBe(1)
    expect(first.checkpoint.attempt).toBe(1)
  })

  it('counts a reconnect that was sent and failed, not the next one it waits for', async () => {
    // The drop, a reconnect at once that meets a 503, then a wait before the third request.
    const s = await scripted(range([{ drop: DROP }, { status: 503 }, {}]))
    const first = await checkpointWhileReconnecting(s.url, THEN_WAITS, { n: 2 })
    expect(first.reported).toBe(3)
    expect(await requests(s)).toBe(2)
    expect(first.checkpoint.attempt).toBe(2)
    const res = await sluice(s.url, { resumeFrom: first.checkpoint })
    expect([...first.rows, ...(await Array.fromAsync(res.ndjson()))]).toEqual(RECORDS)
    expect(res.progress).toMatchObject({ state: 'done', attempt: 3 })
    expect(await requests(s)).toBe(3)
  })

  it('counts a reconnect sent and still waiting for its answer', async () => {
    const s = await scripted(range([{ drop: DROP }, {}]))
    let calls = 0
    let onSent: () => void = () => {}
    const sent = new Promise<void>((resolve) => {
      onSent = resolve
    })
    // The reconnect's answer never comes: it waits until the stream lets it go.
    const held = ((input: RequestInfo | URL, init?: RequestInit) => {
      if (++calls === 1) return fetch(input, init)
      onSent()
      const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
      return new Promise<Response>((_, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    }) as typeof fetch
    const res = await sluice(s.url, { fetch: held, resume: { backoff: { initial: 1, max: 1, jitter: 0 } } })
    const rows = Array.fromAsync(res.ndjson())
    await sent
    expect(res.progress).toMatchObject({ state: 'reconnecting', attempt: 2 })
    res.detach()
    expect(res.checkpoint().attempt).toBe(2)
    await rows
    expect(calls).toBe(2)
  })

  it('goes on in a resumeFrom refused: its own request counted once, and ResumeError.attempts that one', async () => {
    // The resource changed between the first request and the one that continues from the checkpoint.
    const s = await scripted(range([{ drop: DROP }, {}], ['"v1"', '"v2"']))
    const first = await checkpointWhileReconnecting(s.url, WAITS)
    expect(first.checkpoint.attempt).toBe(1)
    const seen: Progress[] = []
    const error = await sluice(s.url, {
      resumeFrom: first.checkpoint,
      onProgress: (p) => seen.push(p),
    }).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('validator-changed')
    expect((error as ResumeError).attempts).toBe(1)
    // The two requests made for the stream, as its last report says.
    expect(seen.at(-1)).toMatchObject({ state: 'error', attempt: 2 })
    expect(await requests(s)).toBe(2)
  })

  it("a tee() branch's checkpoint counts the same", async () => {
    const s = await scripted(range([{ drop: DROP }, {}]))
    let branch: StreamResponse | undefined
    let checkpoint: Checkpoint | undefined
    let res: StreamResponse | undefined
    res = await sluice(s.url, {
      resume: { backoff: WAITS },
      onProgress: (p) => {
        if (p.state !== 'reconnecting' || checkpoint !== undefined) return
        res!.detach()
        checkpoint = stored(branch!.checkpoint())
      },
    })
    const [a, b] = res.tee()
    branch = a
    const [rows] = await Promise.all([Array.fromAsync(a.ndjson()), Array.fromAsync(b.ndjson())])
    expect(await requests(s)).toBe(1)
    expect(checkpoint?.attempt).toBe(1)
    const rest = await sluice(s.url, { resumeFrom: checkpoint })
    expect([...rows, ...(await Array.fromAsync(rest.ndjson()))]).toEqual(RECORDS)
    expect(rest.progress).toMatchObject({ state: 'done', attempt: 2 })
  })

  it('a checkpoint refused while a reconnect waits out its backoff says no reconnect was made', async () => {
    // A response without a URL, which a checkpoint names: resumable through `request`, never checkpointed.
    const text = '{"i":0}\n{"i":1}\n'
    const headers = { 'accept-ranges': 'bytes', 'content-length': String(text.length) }
    const dropping = responseOf([text.slice(0, 10)], { headers, error: new TypeError('terminated') })
    let refusal: unknown
    let res: StreamResponse | undefined
    res = await fromResponse(dropping, {
      request: () => new Promise<Response>(() => {}),
      resume: { strategy: 'range', backoff: WAITS },
      onProgress: (p) => {
        if (p.state !== 'reconnecting' || refusal !== undefined) return
        try {
          res!.checkpoint()
        } catch (error) {
          refusal = error
        }
        void res!.cancel()
      },
    })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ i: 0 }])
    expect(isResumeError(refusal) && refusal.reason).toBe('unsupported')
    expect((refusal as ResumeError).attempts).toBe(0)
  })
})
