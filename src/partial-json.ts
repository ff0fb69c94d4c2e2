/**
 * `sluice/partial-json`: the incremental JSON parser behind `res.json()`, on its own — feed it text as it
 * arrives and read an immutable partial snapshot after every push. Its own entry, so that the core stays small:
 * `res.json()` loads it on first use.
 *
 * @module
 */
export {
  createPartialJsonParser,
  type DeepPartial,
  type JsonPathSegment,
  type PartialJsonOptions,
  type PartialJsonParser,
} from './core/decoders/partial-json.ts'
