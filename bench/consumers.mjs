// Each competitor consumes one Response and returns a checksum (count of items or bytes), so nothing is
// optimised away and every implementation does the same work: read, decode, split, parse, hand over.
import { parseChunked } from '@discoveryjs/json-ext'
import canNdjsonStream from 'can-ndjson-stream'
import { createParser } from 'eventsource-parser'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import readNDJSONStream from 'ndjson-readablestream'
import { fromResponse } from '../src/index.ts'

/** The careful hand-written loop the issue names as the bar: reader + streaming TextDecoder + split + JSON.parse. */
export async function* handNdjson(body) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let rest = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const lines = (rest + decoder.decode(value, { stream: true })).split('\n')
    rest = lines.pop()
    for (const line of lines) if (line !== '') yield JSON.parse(line)
  }
  rest += decoder.decode()
  if (rest !== '') yield JSON.parse(rest)
}

async function count(iterable) {
  let n = 0
  for await (const _ of iterable) n++
  return n
}

export const ndjson = {
  sluice: async (response) => count((await fromResponse(response)).ndjson()),
  'hand-written loop': (response) => count(handNdjson(response.body)),
  'ndjson-readablestream': (response) => count(readNDJSONStream(response.body)),
  'can-ndjson-stream': (response) => count(canNdjsonStream(response.body)),
  // Not a streaming consumer: the floor of the work itself (decode, split, JSON.parse) on the whole body at
  // once, to show how close to it the streaming consumers get.
  'floor: whole-body decode+split+parse': async (response) => {
    const text = await response.text()
    let n = 0
    for (const line of text.split('\n')) if (line !== '') n += JSON.parse(line) === undefined ? 0 : 1
    return n
  },
  '@discoveryjs/json-ext': async (response) => {
    let n = 0
    await parseChunked(response.body, { mode: 'jsonl', onRootValue: () => n++ })
    return n
  },
}

export const events = {
  sluice: async (response) => count((await fromResponse(response)).events()),
  'eventsource-parser createParser loop': async (response) => {
    // What a careful user writes with eventsource-parser: feed decoded text, hand each event to the consumer.
    async function* loop(body) {
      const reader = body.getReader()
      const decoder = new TextDecoder()
      let batch = []
      const parser = createParser({ onEvent: (event) => batch.push(event) })
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        parser.feed(decoder.decode(value, { stream: true }))
        const out = batch
        batch = []
        yield* out
      }
    }
    return count(loop(response.body))
  },
  EventSourceParserStream: (response) =>
    count(response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())),
}

export const bytes = {
  sluice: async (response) => {
    let n = 0
    for await (const chunk of (await fromResponse(response)).bytes()) n += chunk.length
    return n
  },
  'raw for await': async (response) => {
    let n = 0
    for await (const chunk of response.body) n += chunk.length
    return n
  },
  // Not a consumer: the ceiling for any wrapper that looks at each chunk — one .then per chunk over the stream's
  // own iterator, counting bytes and nothing else.
  'ceiling: one .then per chunk': async (response) => {
    const inner = response.body.values()
    let n = 0
    const count = (result) => {
      if (!result.done) n += result.value.length
      return result
    }
    const wrapped = { next: () => inner.next().then(count), [Symbol.asyncIterator]: () => wrapped }
    for await (const _ of wrapped) {
      // the consumer's work would go here
    }
    return n
  },
  'TransformStream layer': async (response) => {
    let n = 0
    for await (const chunk of response.body.pipeThrough(new TransformStream())) n += chunk.length
    return n
  },
}

export const text = {
  sluice: async (response) => {
    let n = 0
    for await (const part of (await fromResponse(response)).text()) n += part.length
    return n
  },
  'TextDecoder loop': async (response) => {
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    let n = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      n += decoder.decode(value, { stream: true }).length
    }
    return n + decoder.decode().length
  },
}
