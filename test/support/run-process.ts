import { type ChildProcess, spawn } from 'node:child_process'

/** How a child process ended, with everything it printed. */
export interface ProcessRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A started child process: the process itself, its end, and what it has printed so far. */
export interface StartedProcess {
  child: ChildProcess
  exit: Promise<ProcessRun>
  stdout: () => string
  stderr: () => string
}

/** Starts a command, collecting its output as it runs; `exit` settles once its output streams are closed. */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string | undefined; env?: NodeJS.ProcessEnv; timeoutMs?: number; detached?: boolean } = {},
): StartedProcess {
  const child = spawn(command, args, {
    detached: options.detached ?? false,
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs,
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exit = new Promise<ProcessRun>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`could not start ${command}: ${error.message}`)))
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, exit, stdout: () => stdout, stderr: () => stderr }
}

/** Runs a command to its end (or `timeoutMs`), collecting its output; colour and update notices off. */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ProcessRun> {
  return startProcess(command, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
    timeoutMs: options.timeoutMs ?? 60_000,
  }).exit
}
