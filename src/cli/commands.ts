/** A subcommand of the `sluice` bin, loaded only when it runs. */
export interface Command {
  /** One line for the usage listing. */
  summary: string
  /** Loads the module; its `run` resolves with the exit code (a server's, once a signal stopped it). */
  load: () => Promise<{ run(args: string[]): Promise<number> }>
}

/**
 * Every subcommand of the `sluice` bin. Adding one is one entry here and one file beside this one.
 *
 * @example
 * await commands.dev?.load().then((command) => command.run(['./handler.mjs']))
 */
export const commands: Record<string, Command> = {
  get: {
    summary: 'stream a URL to standard output or a file, with progress and resume',
    load: () => import('./get.ts'),
  },
  dev: { summary: 'serve a Lambda handler module as a local function URL', load: () => import('./dev.ts') },
}
