import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { until } from '../support/cli-process.ts'
import { servedUrl } from '../support/dev-processes.ts'
import { fixture } from '../support/emulator.ts'
import { type StartedProcess, startProcess } from '../support/run-process.ts'

// Node 24 strips the types of src/cli/index.ts itself, so the bin runs from source without a build.
const cli = fileURLToPath(new URL('../../src/cli/index.ts', import.meta.url))
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM')
})

const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function run(args: string[]): StartedProcess {
  const started = startProcess(process.execPath, [cli, ...args])
  children.push(started.child)
  return started
}

describe('the sluice dev command', () => {
  it('prints the URL it serves a handler module at, and serves it', async () => {
    const { child } = run(['dev', fixture('documented-handler.mjs'), '--port', '0'])
    const url = await new Promise<string>((resolve, reject) => {
      let seen = ''
      child.stdout!.on('data', (chunk: string) => {
        seen += chunk
        const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(seen)
        if (match) resolve(match[1]!)
      })
      child.on('exit', (code) => reject(new Error(`sluice dev exited with ${code}`)))
    })
    const response = await fetch(url)
    expect(response.status).toBe(201)
    expect(await response.text()).toBe('Hello from a streamed function URL.')
  })

  it('names --timeout, not the library option, when a slow handler times out, and does not blame end()', async () => {
    const { child } = run(['dev', fixture('slow-handler.mjs'), '--port', '0', '--timeout', '300'])
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk
    })
    await until(() => /at http:\/\/127\.0\.0\.1:\d+\//.test(stdout), 'the URL')
    const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)![1]!
    const response = await fetch(`${url}?ms=1000`)
    expect(response.status).toBe(502)
    const said =
      'Task timed out after 0.30 seconds (--timeout is 300). The handler was still running: make it faster, or raise --timeout.'
    expect(((await response.json()) as { Message: string }).Message).toBe(
      `The function timed out before it sent a response: ${said}`,
    )
    await until(() => stderr.includes('\n'), 'the log line')
    expect(stderr).toMatch(new RegExp(`^sluice dev: \\S+ timed-out: ${literal(said)}\\n$`))
    expect(stderr).not.toMatch(/limits\.timeoutMs|end\(\)/)
  })

  it('prints its options with --help', async () => {
    const { code, stdout } = await run(['dev', '--help']).exit
    expect(code).toBe(0)
    expect(stdout).toMatch(/Usage: sluice dev <handler module>/)
    expect(stdout).toMatch(/--shaping lambda/)
    // Every option it takes, short forms included.
    expect(stdout).toMatch(/-p, --port <n>/)
    // The statuses as a shell shows them: after a signal the process dies by it, so no code is exited with.
    expect(stdout.replace(/\s+/g, ' ')).toContain(
      'Exit status, as $? shows it: 1 the handler module did not load or the server could not listen, 2 bad usage, 130 stopped by Ctrl-C (143 by SIGTERM, 129 by SIGHUP).',
    )
  })

  it('exits 1 with a one-line reason for a handler module that does not exist', async () => {
    const { code, stderr } = await run(['dev', './no/such/handler.mjs']).exit
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/The handler module \.\/no\/such\/handler\.mjs was not found/)
    // The kinds of module it loads, .ts included where Node strips types (the test below).
    expect(stderr).toMatch(
      /; pass the path of a \.mjs, \.js or \.ts file \(Node 22\.18\+ strips types\) that exports handler\.\n$/,
    )
  })

  // Through the CLI, because it loads the module with Node's own loader (Vite's, under Vitest, compiles TypeScript).
  it('serves a .ts handler module on a Node that strips types, as its message for a missing module says', async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, 'handler.ts')
      await writeFile(
        file,
        `type Greeting = { text: string }
const greeting: Greeting = { text: 'typed' }
export const handler = awslambda.streamifyResponse(async (_event: unknown, responseStream: { end(text: string): void }) =>
  responseStream.end(greeting.text),
)
declare const awslambda: { streamifyResponse: (f: unknown) => unknown }
`,
      )
      const started = run(['dev', file, '--port', '0'])
      expect(await (await fetch(await servedUrl(started))).text()).toBe('typed')
    })
  })

  // Through the CLI, because it loads the module with Node's own loader (Vite's, under Vitest, cannot load a path
  // with a '#').
  it("serves a module in a directory whose name holds a '#', with or without an export name after it", async () => {
    await inTempDir(async (dir) => {
      const say = (text: string) =>
        `awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end('${text}'))`
      await mkdir(join(dir, 'a#b'))
      const file = join(dir, 'a#b', 'handlers.mjs')
      await writeFile(
        file,
        `export const handler = ${say('handler')}\nexport const other = ${say('other')}\n`,
      )
      for (const [specifier, answer] of [
        [file, 'handler'],
        [`${file}#other`, 'other'],
      ] as const) {
        const started = run(['dev', specifier, '--port', '0'])
        expect(await (await fetch(await servedUrl(started))).text()).toBe(answer)
        started.child.kill('SIGTERM')
        await started.exit
      }
      const missing = join(dir, 'a#b', 'missing.mjs')
      const { code, stderr } = await run(['dev', missing]).exit
      expect(code).toBe(1)
      expect(stderr).toMatch(`The handler module ${missing} was not found`)
    })
  })

  // Through the CLI: under Vitest, Vite's loader gives a CommonJS module every key of module.exports as an export.
  it("serves a CommonJS module's export named after '#', though Node cannot tell it from the source", async () => {
    await inTempDir(async (dir) => {
      // Exports assigned by key: Node's import() has them on the default export (module.exports) alone.
      await writeFile(
        join(dir, 'handlers.cjs'),
        `for (const name of ['handler', 'other'])
  module.exports[name] = awslambda.streamifyResponse(async (_event, responseStream) => responseStream.end(name))
`,
      )
      const started = run(['dev', `${join(dir, 'handlers.cjs')}#other`, '--port', '0'])
      expect(await (await fetch(await servedUrl(started))).text()).toBe('other')
    })
  })

  // Through the CLI, because it loads the module with Node's own loader (under Vitest, Vite's loads it).
  it('exits 1 naming the file, line and column of a syntax error in the handler module', async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, 'handler.mjs')
      await writeFile(
        file,
        'export const handler = awslambda.streamifyResponse(async (_event, responseStream) => {\n  const rows = 3\n  responseStream.end(rows..toString())\n})\n',
      )
      const { code, stderr } = await run(['dev', file, '--port', '0']).exit
      expect(code).toBe(1)
      expect(stderr).toBe(
        `sluice dev: The handler module ${file} could not be loaded: Unexpected token '.' at ${file}:3:27; fix the code there.\n`,
      )
    })
  })

  it('exits 1 naming the file, line and column of a syntax error in a module the handler imports', async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, 'handler.mjs')
      const lib = join(dir, 'lib', 'rows.mjs')
      await mkdir(join(dir, 'lib'))
      await writeFile(
        file,
        "import { rows } from './lib/rows.mjs'\nexport const handler = async () => ({ statusCode: 200, body: rows() })\n",
      )
      await writeFile(lib, 'export function rows() {\n  const n = 3\n  return n..toString()\n}\n')
      const { code, stderr } = await run(['dev', file, '--port', '0']).exit
      expect(code).toBe(1)
      expect(stderr).toBe(
        `sluice dev: The handler module ${file} could not be loaded: Unexpected token '.' at ${lib}:3:12; fix the code there.\n`,
      )
    })
  })

  it('runs none of the handler code again to find where a syntax error is', async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, 'handler.mjs')
      const runs = join(dir, 'runs.txt')
      await writeFile(join(dir, 'broken.mjs'), 'export const x = 1..\n')
      // The broken module is imported while the handler runs, so its syntax error comes after code has run.
      await writeFile(
        file,
        `import { appendFileSync } from 'node:fs'\nappendFileSync(${JSON.stringify(runs)}, 'ran\\n')\nawait import('./broken.mjs')\nexport const handler = async () => 'ok'\n`,
      )
      const { code, stderr } = await run(['dev', file, '--port', '0']).exit
      expect(code).toBe(1)
      expect(stderr).toMatch(/could not be loaded: /)
      expect(await readFile(runs, 'utf8')).toBe('ran\n')
    })
  })

  it('exits 1 naming the line of an import its dependency cannot satisfy', async () => {
    await inTempDir(async (dir) => {
      const file = join(dir, 'handler.mjs')
      await writeFile(
        file,
        "import { pipelin } from 'node:stream/promises'\nexport const handler = pipelin\n",
      )
      const { code, stderr } = await run(['dev', file, '--port', '0']).exit
      expect(code).toBe(1)
      expect(stderr).toBe(
        `sluice dev: The handler module ${file} could not be loaded: The requested module 'node:stream/promises' does not provide an export named 'pipelin' at ${file}:1:10; fix the code there.\n`,
      )
    })
  })

  it('exits 2 for an empty --port, which would otherwise pick a random one, and refuses a timeout past 2^31 ms', async () => {
    const empty = await run(['dev', fixture('documented-handler.mjs'), '--port', '']).exit
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/--port must be a port number; got an empty one\./)
    const huge = await run(['dev', fixture('documented-handler.mjs'), '--port', '0', '--timeout', '1e10'])
      .exit
    expect(huge.code).toBe(2)
    expect(huge.stderr).toMatch(/^sluice dev: --timeout must be at most 2147483647 ms .*; got 1e10\.\n/)
    expect(huge.stderr).toMatch(/Usage: sluice dev <handler module>/)
  })

  it('exits 2 for an empty --host, which would otherwise listen on every interface of the machine', async () => {
    // `--host "$HOST"` with HOST unset: node:net takes '' for no address, the wildcard (http://[::]:port/).
    const started = run(['dev', fixture('documented-handler.mjs'), '--port', '0', '--host', ''])
    await until(
      () => started.stdout().includes('\n') || started.child.exitCode !== null,
      'the URL or the exit',
    )
    expect(started.stdout()).toBe('')
    const { code, stderr } = await started.exit
    expect(code).toBe(2)
    expect(stderr).toMatch(
      /^sluice dev: --host must be an address such as 127\.0\.0\.1; got an empty one\.\n\nUsage: sluice dev/,
    )
  })

  it('exits 2 with the usage for a --timeout of 0, a --shaping other than lambda, or a second module', async () => {
    const handler = fixture('documented-handler.mjs')
    const zero = await run(['dev', handler, '--port', '0', '--timeout', '0']).exit
    expect(zero.code).toBe(2)
    expect(zero.stderr).toMatch(
      /^sluice dev: --timeout must be a positive number of milliseconds; got 0\.\n\nUsage: sluice dev/,
    )
    const shaping = await run(['dev', handler, '--port', '0', '--shaping', 'fast']).exit
    expect(shaping.code).toBe(2)
    expect(shaping.stderr).toMatch(
      /^sluice dev: --shaping takes only lambda; got fast\.\n\nUsage: sluice dev/,
    )
    const two = await run(['dev', handler, handler, '--port', '0']).exit
    expect(two.code).toBe(2)
    expect(two.stderr).toMatch(/^sluice dev: pass exactly one handler module\.\n\nUsage: sluice dev/)
  })

  // A shell shows 128 + the signal's number in `$?`: 130, 143, 129.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    it(`on ${signal}, closes the server, cutting a response in flight, and then dies by ${signal}`, async () => {
      const probe = pathToFileURL(fixture('server-close-probe.mjs')).href
      const started = startProcess(process.execPath, [
        '--import',
        probe,
        cli,
        'dev',
        fixture('holding-handler.mjs'),
        '--port',
        '0',
      ])
      children.push(started.child)
      const response = await fetch(await servedUrl(started))
      const reader = response.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('first line\n')
      started.child.kill(signal)
      // Cut, not ended: a client can tell the body is incomplete.
      await expect(reader.read()).rejects.toThrow(TypeError)
      const { code, signal: by, stderr } = await started.exit
      expect({ code, signal: by, stderr }).toEqual({ code: null, signal, stderr: 'server closing\n' })
    })

  it('stops cleanly on a Ctrl-C sent the moment its URL is printed', async () => {
    // The process signals itself from inside the write of its URL line: the earliest a script reading that
    // line could send Ctrl-C. Without a listener by then, SIGINT's default action kills it.
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dev-sigint-'))
    const preload = join(dir, 'ctrl-c-at-url.mjs')
    await writeFile(
      preload,
      `const write = process.stdout.write.bind(process.stdout)
process.stdout.write = (chunk, ...rest) => {
  const result = write(chunk, ...rest)
  if (String(chunk).includes(' at http://')) process.kill(process.pid, 'SIGINT')
  return result
}
`,
    )
    try {
      const started = startProcess(process.execPath, [
        '--import',
        pathToFileURL(preload).href,
        '--import',
        pathToFileURL(fixture('server-close-probe.mjs')).href,
        cli,
        'dev',
        fixture('documented-handler.mjs'),
        '--port',
        '0',
      ])
      children.push(started.child)
      const { code, signal, stdout, stderr } = await started.exit
      expect(stdout).toMatch(/^sluice dev: serving .* at http:\/\/127\.0\.0\.1:\d+\/\n$/)
      // Closed first: without a listener by then, the default action would have killed it as it is.
      expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGINT', stderr: 'server closing\n' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('ends at once, by it, on a second signal while the server closes', async () => {
    // A close that never ends (a connection the server waits for): the second signal is the way out.
    const dir = await mkdtemp(join(tmpdir(), 'sluice-dev-second-signal-'))
    const preload = join(dir, 'endless-close.mjs')
    await writeFile(
      preload,
      `import { Server } from 'node:http'
Server.prototype.close = function () {
  process.stderr.write('server closing\\n')
  return this
}
`,
    )
    try {
      const started = startProcess(process.execPath, [
        '--import',
        pathToFileURL(preload).href,
        cli,
        'dev',
        fixture('documented-handler.mjs'),
        '--port',
        '0',
      ])
      children.push(started.child)
      let stderr = ''
      started.child.stderr!.on('data', (chunk: string) => {
        stderr += chunk
      })
      await until(() => started.stdout().includes('\n'), 'the URL')
      started.child.kill('SIGINT')
      await until(() => stderr.includes('server closing'), 'the close')
      started.child.kill('SIGTERM')
      const { code, signal } = await started.exit
      expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('listens on port 3000 of 127.0.0.1 without --port or --host', async () => {
    const handler = fixture('documented-handler.mjs')
    const started = run(['dev', handler])
    // Port 3000 may be taken on a shared machine: then it says so, naming it.
    await until(
      () => started.stdout().includes('\n') || started.child.exitCode !== null,
      'the URL or the exit',
    )
    if (started.child.exitCode === null) {
      expect(started.stdout()).toBe(`sluice dev: serving ${handler} at http://127.0.0.1:3000/\n`)
    } else {
      const { code, stderr } = await started.exit
      expect(code).toBe(1)
      expect(stderr).toMatch(/^sluice dev: port 3000 on 127\.0\.0\.1 is already in use;/)
    }
  })

  it('exits 2 with one short sentence and the usage for an unknown option or a missing value', async () => {
    const unknown = await run(['dev', fixture('documented-handler.mjs'), '--bogus']).exit
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/^sluice dev: unknown option --bogus\.\n\nUsage: sluice dev/)
    const missing = await run(['dev', fixture('documented-handler.mjs'), '--port']).exit
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^sluice dev: option --port needs a value\.\n\nUsage: sluice dev/)
  })

  it('exits 1 saying to pass another --port when the port is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = taken.address() as AddressInfo
      const { code, stderr } = await run(['dev', fixture('documented-handler.mjs'), '--port', String(port)])
        .exit
      expect(code).toBe(1)
      expect(stderr).toBe(
        `sluice dev: port ${port} on 127.0.0.1 is already in use; pass another --port, or --port 0 for a free one.\n`,
      )
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  })

  it('prints the usage and exits 2 for an unknown command', async () => {
    const { code, stderr } = await run(['deploy']).exit
    expect(code).toBe(2)
    expect(stderr).toMatch(/unknown command "deploy"/)
    expect(stderr).toMatch(/Usage: sluice <command>/)
  })
})

/** Runs `test` in a fresh temporary directory, removed afterwards whatever happens. */
async function inTempDir(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-syntax-'))
  try {
    await test(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
