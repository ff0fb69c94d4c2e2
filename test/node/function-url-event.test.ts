import { describe, expect, it } from 'vitest'
import { buildEvent } from '../../src/runtime/index.ts'

describe('the event of a function URL, built from the parts of a request', () => {
  it('writes requestContext.time as dd/MMM/yyyy:HH:mm:ss +0000, every field two digits', () => {
    const timeEpoch = Date.UTC(2026, 0, 5, 3, 4, 5)
    const event = buildEvent({ method: 'GET', url: 'http://127.0.0.1:3000/', headers: [], timeEpoch })
    expect(event.requestContext.time).toBe('05/Jan/2026:03:04:05 +0000')
    expect(event.requestContext.timeEpoch).toBe(timeEpoch)
  })

  it('gives requestContext.http.method in upper case whatever the case the request had', () => {
    const event = buildEvent({ method: 'patch', url: 'http://127.0.0.1:3000/', headers: [] })
    expect(event.requestContext.http.method).toBe('PATCH')
  })
})
