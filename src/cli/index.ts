#!/usr/bin/env node
import { commands } from './commands.ts'
import { exitOnSignal } from './exit-on-signal.ts'
import { packageVersion } from './version.ts'

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length))
  const lines = Object.entries(commands).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  )
  return [
    'Usage: sluice <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run sluice <command> --help for its options, sluice --version for the version.',
  ].join('\n')
}

/**
 * The `sluice` bin: dispatches to a subcommand and exits with its code. `--help` prints the usage on standard
 * output, `--version` the package's version; no command or an unknown one is a usage error: the usage on standard
 * error, exit code 2.
 *
 * @example
 * await main(['dev', './handler.mjs', '--port', '3000'])
 */
export async function main(argv: string[]): Promise<number> {
  // On an older Node a command would fail part way with a TypeError: `Promise.withResolvers is not a function`
  // before 22, and before 22.3, which added process.getBuiltinModule, the emulator's handlers write to a stream
  // that pipeline() cannot use (`stream.removeListener is not a function`).
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 3)) {
    process.stderr.write(`sluice: needs Node.js 22.3 or later, and this is ${process.version}.\n`)
    return 1
  }
  const [name, ...args] = argv
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${await packageVersion()}\n`)
    return 0
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return 0
  }
  if (name === undefined) {
    process.stderr.write(`sluice: pass a command.\n\n${usage()}\n`)
    return 2
  }
  const command = commands[name]
  if (!command) {
    process.stderr.write(`sluice: unknown command ${JSON.stringify(name)}.\n\n${usage()}\n`)
    return 2
  }
  const module = await command.load()
  return module.run(args)
}

const signals = exitOnSignal()
const code = await main(process.argv.slice(2))
// A server command resolves once a signal stopped it. A command that a signal stopped, with 128 + its number,
// dies by that signal; the others exit with their code.
process.exitCode = code
signals.settle(code)
