/**
 * What `new Headers()` takes: the DOM lib's `HeadersInit`, named without it, so that the declarations of
 * `sluice/lambda` and `sluice/mock/stream` check in a Node project whose `lib` has no DOM (`@tsconfig/node22`),
 * where @types/node declares `Headers` but not `HeadersInit`.
 *
 * @example
 * const headers: HeadersInput = { 'cache-control': 'no-store' }
 */
export type HeadersInput = NonNullable<ConstructorParameters<typeof Headers>[0]>
