/**
 * What was wrong with the command line, in one short sentence: node:util's parseArgs messages are long and
 * speak of positionals. An option with a value is named by its long form (`--port`, not `-p, --port <value>`).
 */
export function parseFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  const name = /'([^']+)'/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name !== undefined) return `unknown option ${name}.`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name !== undefined) {
    const long = /--[\w-]+/.exec(name)?.[0] ?? name
    // parseArgs gives these three mistakes one code: only its words tell them apart.
    if (/does not take an argument/.test(message)) return `option ${long} takes no value.`
    // A value that starts with a dash (`--timeout -5`, `-d -1`) is taken for the next option.
    const dashed = /use '(--[\w-]+)=/.exec(message)?.[1]
    if (dashed !== undefined)
      return `option ${dashed} needs a value; to pass one that starts with a dash, write ${dashed}=<value>.`
    return `option ${long} needs a value.`
  }
  return message.split('\n')[0] ?? message
}
