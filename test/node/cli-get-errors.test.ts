// sluice get words failures in its own terms; what the server said in a refused resume's error page stays.
import { expect, it } from 'vitest'
import { describe, pastContinuing } from '../../src/cli/get-errors.ts'
import { ResumeError } from '../../src/index.ts'

const refusal = (status: number, said: string) =>
  new ResumeError(
    'not-resumable',
    `The server answered the resume request with status ${status}; the stream cannot be continued; the server said: "${said}".`,
    1,
    { response: new Response(null, { status }) },
  )

it('keeps what the server said when it refused the request for the rest', () => {
  expect(describe(refusal(404, 'report expired: ask for a new one'), 'https://fn.example/r', false)).toBe(
    'The server answered the request for the rest of https://fn.example/r with status 404; the server said: "report expired: ask for a new one".',
  )
  expect(describe(refusal(403, 'token expired'), 'https://fn.example/r', false)).toBe(
    'The server refused the credentials of the request for the rest of https://fn.example/r (status 403; the server said: "token expired"); pass valid ones with -H.',
  )
})

it('says nothing more when the server said nothing', () => {
  const quiet = new ResumeError(
    'not-resumable',
    'The server answered the resume request with status 404; the stream cannot be continued.',
    1,
    { response: new Response(null, { status: 404 }) },
  )
  expect(describe(quiet, 'https://fn.example/r', false)).toBe(
    'The server answered the request for the rest of https://fn.example/r with status 404.',
  )
})

it('takes a success that is not the rest for good (the checkpoint is stale), an error status for a passing state', () => {
  const html = new ResumeError(
    'not-resumable',
    'The server answered the resume request with text/html, not the application/x-ndjson of the stream it would continue; the stream cannot be continued.',
    1,
    { response: new Response(null, { status: 200 }) },
  )
  expect(pastContinuing(html)).toBe('the server now answers with another kind of body')
  expect(pastContinuing(refusal(503, 'busy'))).toBeUndefined()
  expect(pastContinuing(refusal(401, 'token expired'))).toBeUndefined()
})
