// `sluice dev` in a shell loop or script: Ctrl-C stops the loop or the script, not the server only. Bash (and
// other shells) stop a loop or a script on Ctrl-C only when the command in the foreground died by SIGINT; one
// that exited 0 succeeded, and what comes after it runs (https://www.cons.org/cracauer/sigint.html).
import { spawn } from 'node:child_process'
import { expect, it } from 'vitest'
import { cli, until } from '../support/cli-process.ts'
import { fixture } from '../support/emulator.ts'

const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`

for (const [name, script] of [
  ['a restart loop', (dev: string) => `until ${dev}; do :; done; echo 'loop over'`],
  ['a script that goes on when it succeeded', (dev: string) => `${dev} && echo 'next command'`],
] as const)
  it(`stops ${name} on Ctrl-C, after closing the server, instead of going on`, async () => {
    const dev = [process.execPath, cli, 'dev', fixture('documented-handler.mjs'), '--port', '0']
    // Its own process group, as a terminal's foreground job: Ctrl-C is SIGINT to every process in it.
    const shell = spawn('bash', ['-c', script(dev.map(quote).join(' '))], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    shell.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    shell.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      shell.on('close', (code, signal) => resolve({ code, signal })),
    )
    try {
      await until(() => stdout.includes('\n'), 'the URL')
      process.kill(-shell.pid!, 'SIGINT')
      // Bash, which had Ctrl-C too, ends by it once its command did: its own shell would show 130.
      expect(await exit, stderr).toEqual({ code: null, signal: 'SIGINT' })
      expect(stdout).toMatch(/^sluice dev: serving .* at http:\/\/127\.0\.0\.1:\d+\/\n$/)
      expect(stderr).toBe('')
    } finally {
      if (shell.exitCode === null && shell.signalCode === null) process.kill(-shell.pid!, 'SIGKILL')
    }
  }, 30_000)
