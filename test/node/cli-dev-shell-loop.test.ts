// `sluice dev` in a shell loop or script: Ctrl-C stops the loop or the script, not the server only. Bash (and
// other shells) stop a loop or a script on Ctrl-C only when the command in the foreground died by SIGINT; one
// that exited 0 succeeded, and what comes after it runs (https://www.cons.org/cracauer/sigint.html).
import { expect, it } from 'vitest'
import { cli, shellJob, shellWords, until } from '../support/cli-process.ts'
import { fixture } from '../support/emulator.ts'

for (const [name, script] of [
  ['a restart loop', (dev: string) => `until ${dev}; do :; done; echo 'loop over'`],
  ['a script that goes on when it succeeded', (dev: string) => `${dev} && echo 'next command'`],
] as const)
  it(`stops ${name} on Ctrl-C, after closing the server, instead of going on`, async () => {
    const dev = [process.execPath, cli, 'dev', fixture('documented-handler.mjs'), '--port', '0']
    const shell = shellJob(script(shellWords(dev)))
    try {
      await until(() => shell.stdout.includes('\n'), 'the URL')
      shell.signal('SIGINT')
      // Bash, which had Ctrl-C too, ends by it once its command did: its own shell would show 130.
      expect(await shell.exit, shell.stderr).toEqual({ code: null, signal: 'SIGINT' })
      expect(shell.stdout).toMatch(/^sluice dev: serving .* at http:\/\/127\.0\.0\.1:\d+\/\n$/)
      expect(shell.stderr).toBe('')
    } finally {
      shell.stop()
    }
  }, 30_000)
