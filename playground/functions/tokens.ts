// tokens — an LLM-like answer as server-sent events: one token every 20–40 ms, an id on every event so that a
// client resumes with Last-Event-ID, and `[DONE]` at the end. A real Lambda handler: deploy it as it is.
import { type SseEvent, streamSse } from '../../src/lambda/index.ts'
import { ANSWER_TOKENS, sleep, tokenDelayMs } from './data.ts'
import { refuse, wholeNumber } from './position.ts'

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  // What streamSse passes the source: the Last-Event-ID, else the cursor. Each event's id is its token's number,
  // the [DONE] event's is the number of tokens; an empty id names no event and starts from the first.
  const header = event.headers['last-event-id']
  const asked = header ?? event.queryStringParameters?.cursor ?? event.headers['x-sluice-cursor']
  if (asked && wholeNumber(asked, ANSWER_TOKENS.length) === undefined) {
    const what = `${header === undefined ? 'cursor' : 'Last-Event-ID'} ${JSON.stringify(asked.slice(0, 200))}`
    return refuse(
      responseStream,
      `${what} is not the id of an event of this stream (0 to ${ANSWER_TOKENS.length}).`,
    )
  }
  await streamSse(
    responseStream,
    // Called with the Last-Event-ID the client sent (undefined on a first request): start after it.
    async function* (lastEventId): AsyncGenerator<SseEvent> {
      const start = lastEventId ? Number(lastEventId) + 1 : 0
      for (let i = start; i < ANSWER_TOKENS.length; i++) {
        await sleep(tokenDelayMs(i))
        yield { id: String(i), data: { text: ANSWER_TOKENS[i] } }
      }
      if (start <= ANSWER_TOKENS.length) yield { id: String(ANSWER_TOKENS.length), data: '[DONE]' }
    },
    { request: event, retry: 1000 },
  )
})
