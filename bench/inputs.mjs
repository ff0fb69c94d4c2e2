// Deterministic inputs for the benchmarks: NDJSON / SSE / text bodies pre-encoded and pre-chunked in memory, so
// that only the consumers are measured, never the generator or the network.

const encoder = new TextEncoder()

/** A seeded PRNG (mulberry32): the same inputs in every run. */
export function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function record(i, size, rand) {
  const base = {
    id: i,
    name: `row-${i}`,
    amount: Math.round(rand() * 1e6) / 100,
    ok: rand() > 0.5,
    tags: ['a', 'é', '雪'],
  }
  const json = JSON.stringify(base)
  const pad = Math.max(0, size - json.length - 12)
  return JSON.stringify({ ...base, note: 'x'.repeat(pad) })
}

/** About `totalBytes` of NDJSON with records of about `recordBytes`. */
export function ndjsonBody(totalBytes, recordBytes, seed = 1) {
  const rand = random(seed)
  const lines = []
  let size = 0
  for (let i = 0; size < totalBytes; i++) {
    const line = `${record(i, recordBytes, rand)}\n`
    lines.push(line)
    size += line.length + 6 // é and 雪 are multi-byte
  }
  return encoder.encode(lines.join(''))
}

/** About `totalBytes` of SSE, events of about `eventBytes`. */
export function sseBody(totalBytes, eventBytes, seed = 2) {
  const rand = random(seed)
  const parts = []
  let size = 0
  for (let i = 0; size < totalBytes; i++) {
    const part = `id: ${i}\nevent: row\ndata: ${record(i, eventBytes, rand)}\n\n`
    parts.push(part)
    size += part.length + 6
  }
  return encoder.encode(parts.join(''))
}

/** Splits `bytes` into chunks of `size`, or random sizes in [min, max] when given a range. */
export function chunk(bytes, size, seed = 3) {
  const out = []
  const rand = random(seed)
  for (let at = 0; at < bytes.length; ) {
    const n = Array.isArray(size) ? size[0] + Math.floor(rand() * (size[1] - size[0] + 1)) : size
    out.push(bytes.subarray(at, at + n))
    at += n
  }
  return out
}

/** A fresh Response streaming `chunks`, one per pull, the way a network body arrives. */
export function responseOf(chunks, repeat = 1) {
  let i = 0
  const n = chunks.length * repeat
  return new Response(
    new ReadableStream({
      pull(controller) {
        if (i < n) controller.enqueue(chunks[i++ % chunks.length])
        else controller.close()
      },
    }),
  )
}
