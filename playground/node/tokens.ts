// Prints the token stream as it arrives.
//
//   npx node playground/node/tokens.ts [URL]
//
// Without a URL it starts its own emulator for playground/functions/tokens.ts. With one (the playground's
// http://127.0.0.1:5173/fn/tokens, or a deployed function URL) it streams from there.
import { fileURLToPath } from 'node:url'
import { serve } from '../../src/dev/index.ts'
import { sluice } from '../../src/index.ts'

const own =
  process.argv[2] === undefined
    ? await serve(fileURLToPath(new URL('../functions/tokens.ts', import.meta.url)))
    : undefined
const url = process.argv[2] ?? own!.url

// A reader that goes away (`| head`) ends the stream quietly, as `sluice get` does, instead of an EPIPE crash.
const readerGone = new AbortController()
process.stdout.on('error', (error) => readerGone.abort(error))

try {
  const res = await sluice(url, { signal: readerGone.signal })
  for await (const event of res.events({ json: true, until: '[DONE]' })) {
    process.stdout.write((event.data as { text: string }).text)
  }
  process.stdout.write('\n')
} catch (error) {
  if (!readerGone.signal.aborted) {
    process.stderr.write(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`)
    process.exitCode = 1
  }
} finally {
  await own?.close()
}
