import type { JsonPathSegment } from './partial-json-types.ts'

/** Whether `path`, from segment `from` on, leads to a value inside `value`. */
export function hasPath(value: unknown, path: readonly JsonPathSegment[], from: number): boolean {
  for (let d = from; d < path.length; d++) {
    const segment = path[d]!
    if (Array.isArray(value)) {
      // An index names an item (`in`, not a range check: 0.5 is no index); JSON arrays have no holes.
      if (typeof segment !== 'number' || !(segment in value)) return false
      value = value[segment]
    } else if (typeof value === 'object' && value !== null) {
      if (typeof segment !== 'string' || !Object.hasOwn(value, segment)) return false
      value = (value as Record<string, unknown>)[segment]
    } else {
      return false
    }
  }
  return true
}

/**
 * Whether the value at `path` of a partial snapshot is finished, from the snapshot and the open path taken with
 * it (see `PartialJsonParser.openPath`): the values along the open path are still growing, a value the
 * snapshot does not show is not finished, and every other value is.
 */
export function isCompleteIn(
  snapshot: unknown,
  openPath: readonly JsonPathSegment[] | undefined,
  path: readonly JsonPathSegment[],
): boolean {
  if (snapshot === undefined) return false
  if (openPath !== undefined && path.length <= openPath.length && path.every((s, i) => s === openPath[i]))
    return false
  return hasPath(snapshot, path, 0)
}
