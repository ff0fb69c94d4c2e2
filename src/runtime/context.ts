import type { LambdaContext } from './types.ts'

/** What the emulators know about the function they pretend to run. */
export interface FunctionInfo {
  /** Default `'sluice-function'`. */
  functionName?: string | undefined
  /** Default `'$LATEST'`. */
  functionVersion?: string | undefined
  /** Default `'128'`. */
  memoryLimitInMB?: string | undefined
  /** Default `'us-east-1'`. */
  region?: string | undefined
}

/**
 * Builds the `context` argument of one invocation, with a deadline for `getRemainingTimeInMillis()`.
 *
 * @example
 * const context = buildContext({ awsRequestId: 'id', deadline: Date.now() + 900_000 })
 * context.getRemainingTimeInMillis() // about 900000
 */
export function buildContext(
  options: FunctionInfo & { awsRequestId: string; deadline: number },
): LambdaContext {
  const functionName = options.functionName ?? 'sluice-function'
  const functionVersion = options.functionVersion ?? '$LATEST'
  const region = options.region ?? 'us-east-1'
  const deadline = options.deadline
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion,
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: options.memoryLimitInMB ?? '128',
    awsRequestId: options.awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${formatDay(Date.now())}/[${functionVersion}]sluice`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
}

function formatDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10).replaceAll('-', '/')
}
