/**
 * A buffered result (a handler not wrapped in `awslambda.streamifyResponse`) leaves the emulator as a `BUFFERED`
 * function URL sends it: with an exact `Content-Length`, not chunked. AWS's answers, recorded by LocalStack
 * (localstack/localstack, tests/aws/services/lambda_/test_lambda.snapshot.json,
 * `TestLambdaURL::test_lambda_url_invocation[…]` → `lambda_url_invocation.headers`), carry `Content-Length` "5" for
 * the body `hello`, "7" for `body123`, "17" for `{"hello":"world"}`. Read here from the raw head that `node:http`
 * parses, where fetch could hide how the body was framed.
 */
import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { awslambda, type FunctionUrlResult } from '../../src/dev/index.ts'
import { buildEvent, invoke } from '../../src/runtime/index.ts'
import { startEmulator } from '../support/emulator.ts'

interface Raw {
  status: number
  /** Header names as sent (lower-cased by Node), each once. */
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** One exchange over a plain `node:http` client: the head as parsed from the wire, and the body's bytes. */
function exchange(url: string, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const buffered =
  (result: FunctionUrlResult | string): (() => Promise<FunctionUrlResult | string>) =>
  async () =>
    result

describe('sluice/dev sends a buffered result with a Content-Length, as a BUFFERED function URL does', () => {
  it('frames the body with its exact length and no chunked encoding (test_lambda_url_invocation[string])', async () => {
    const server = await startEmulator(buffered({ statusCode: 200, body: 'hello' }))
    const raw = await exchange(server.url)
    expect(raw.status).toBe(200)
    expect(raw.headers['content-length']).toBe('5')
    expect(raw.headers['transfer-encoding']).toBeUndefined()
    expect(raw.body.toString()).toBe('hello')
  })

  it('counts bytes, not characters, and a bare value as the JSON sent (test_lambda_url_invocation[dict])', async () => {
    const server = await startEmulator(buffered({ statusCode: 200, body: 'olé ✓' }))
    const raw = await exchange(server.url)
    expect(raw.headers['content-length']).toBe(String(Buffer.byteLength('olé ✓')))
    expect(raw.body.toString()).toBe('olé ✓')

    const bare = await startEmulator(async () => ({ hello: 'world' }))
    const json = await exchange(bare.url)
    expect(json.headers['content-length']).toBe('17')
    expect(json.headers['transfer-encoding']).toBeUndefined()
    expect(json.body.toString()).toBe('{"hello":"world"}')
  })

  it('gives a base64 body the length of its decoded bytes', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f])
    const server = await startEmulator(
      buffered({
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      }),
    )
    const raw = await exchange(server.url)
    expect(raw.headers['content-length']).toBe('7')
    expect(raw.headers['transfer-encoding']).toBeUndefined()
    expect(raw.body).toEqual(bytes)
  })

  it('answers HEAD with the Content-Length GET would have, and no body', async () => {
    const server = await startEmulator(buffered({ statusCode: 200, body: 'hello' }))
    const raw = await exchange(server.url, 'HEAD')
    expect(raw.status).toBe(200)
    expect(raw.headers['content-length']).toBe('5')
    expect(raw.headers['transfer-encoding']).toBeUndefined()
    expect(raw.body.length).toBe(0)
  })

  it.each([204, 304])(
    'sends a %i result with neither a length nor a body, even when the result has one',
    async (statusCode) => {
      const server = await startEmulator(buffered({ statusCode, headers: { etag: '"v1"' }, body: 'ignored' }))
      const raw = await exchange(server.url)
      expect(raw.status).toBe(statusCode)
      expect(raw.headers['content-length']).toBeUndefined()
      expect(raw.headers['transfer-encoding']).toBeUndefined()
      expect(raw.headers.etag).toBe('"v1"')
      expect(raw.body.length).toBe(0)
    },
  )

  it('keeps a streamed response chunked, without a Content-Length', async () => {
    const server = await startEmulator(
      awslambda.streamifyResponse(async (_event, responseStream) => {
        responseStream.write('hel')
        responseStream.end('lo')
      }),
    )
    const raw = await exchange(server.url)
    expect(raw.headers['transfer-encoding']).toBe('chunked')
    expect(raw.headers['content-length']).toBeUndefined()
    expect(raw.body.toString()).toBe('hello')
  })

  it('describes the same framing in the invocation both function URLs share: a length, and no body where none goes', async () => {
    const read = async (method: string, result: FunctionUrlResult) => {
      const { response } = invoke(
        buffered(result),
        buildEvent({ method, url: 'http://127.0.0.1/', headers: [] }),
      )
      const { status, length, body } = await response
      return { status, length, body: await new Response(body).text() }
    }
    expect(await read('GET', { statusCode: 200, body: 'hello' })).toEqual({
      status: 200,
      length: 5,
      body: 'hello',
    })
    expect(await read('HEAD', { statusCode: 200, body: 'hello' })).toEqual({
      status: 200,
      length: 5,
      body: '',
    })
    expect(await read('GET', { statusCode: 204, body: 'x' })).toEqual({
      status: 204,
      length: undefined,
      body: '',
    })
  })
})
