// Prints the token stream as it arrives.
//
//   node playground/node/tokens.ts [URL]
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

try {
  const res = await sluice(url)
  for await (const event of res.events({ json: true, until: '[DONE]' })) {
    process.stdout.write((event.data as { text: string }).text)
  }
  process.stdout.write('\n')
} catch (error) {
  process.stderr.write(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`)
  process.exitCode = 1
} finally {
  await own?.close()
}
