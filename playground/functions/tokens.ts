// tokens — an LLM-like answer as server-sent events: one token every 20–40 ms, an id on every event so that a
// client resumes with Last-Event-ID, and `[DONE]` at the end. A real Lambda handler: deploy it as it is.
import { type SseEvent, streamSse } from '../../src/lambda/index.ts'
import { ANSWER_TOKENS, sleep, tokenDelayMs } from './data.ts'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  await streamSse(
    responseStream,
    // Called with the Last-Event-ID the client sent (undefined on a first request): start after it.
    async function* (lastEventId): AsyncGenerator<SseEvent> {
      const start = lastEventId === undefined ? 0 : Number(lastEventId) + 1
      if (!(start >= 0)) throw new Error(`Last-Event-ID ${lastEventId} is not a token number.`)
      for (let i = start; i < ANSWER_TOKENS.length; i++) {
        await sleep(tokenDelayMs(i))
        yield { id: String(i), data: { text: ANSWER_TOKENS[i] } }
      }
      if (start <= ANSWER_TOKENS.length) yield { id: String(ANSWER_TOKENS.length), data: '[DONE]' }
    },
    { request: event, retry: 1000 },
  )
})
