/**
 * What was wrong with the command line, in one short sentence: node:util's parseArgs messages are long and
 * speak of positionals. An option with a value is named by its long form (`--port`, not `-p, --port <value>`).
 */
export function parseFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  const name = /'([^']+)'/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name !== undefined) return `unknown option ${name}.`
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name !== undefined)
    return `option ${/--[\w-]+/.exec(name)?.[0] ?? name} needs a value.`
  return message.split('\n')[0] ?? message
}
