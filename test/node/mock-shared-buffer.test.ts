// A page without cross-origin isolation has no SharedArrayBuffer, so this runs in Node only.
import { describe, expect, test } from 'vitest'
import { fromResponse } from '../../src/index.ts'
import { mockStream } from '../../src/mock/mock-stream.ts'

describe('bytes parts over a SharedArrayBuffer', () => {
  test('are copied: a network body never holds one', async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(3))
    shared.set([1, 2, 3])
    const chunks = await Array.fromAsync((await fromResponse(mockStream([shared, 'x']))).bytes())
    expect(chunks.every((chunk) => chunk.buffer instanceof ArrayBuffer)).toBe(true)
    expect(chunks.flatMap((chunk) => [...chunk])).toEqual([1, 2, 3, 120])
  })
})
