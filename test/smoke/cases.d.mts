// Types of cases.mjs for the TypeScript harness (test/node/runtime-matrix.test.ts).

/** What a case gets: `url(path)` on the smoke server, and an id unique to this run of this case. */
export interface SmokeContext {
  url(path: string): string
  id: string
}

/** One named smoke case; `run` returns a small JSON detail and throws on failure. */
export interface SmokeCase {
  name: string
  run(context: SmokeContext): Promise<unknown>
}

export interface SmokeResult {
  name: string
  ok: boolean
  ms: number
  detail?: unknown
  error?: string
  stack?: string
}

/** What one runtime reports: which runtime, whether Node's globals exist there, and every case's result. */
export interface SmokeReport {
  runtime: 'node' | 'deno' | 'bun' | 'workerd' | 'unknown'
  version: string
  globals: { process: string; Buffer: string }
  ms: number
  results: SmokeResult[]
}

export declare const cases: SmokeCase[]
export declare function runtimeInfo(): Pick<SmokeReport, 'runtime' | 'version' | 'globals'>
export declare function runCases(
  baseUrl: string,
  options?: { only?: string[]; timeoutMs?: number },
): Promise<SmokeReport>
