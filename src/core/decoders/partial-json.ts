import { LimitError } from '../errors/limit-error.ts'
import { excerptOf, ParseError } from '../errors/parse-error.ts'
import type {
  DeepPartial,
  JsonPathSegment,
  PartialJsonOptions,
  PartialJsonParser,
} from './partial-json-types.ts'
import { hasPath } from './snapshot-completeness.ts'

export type {
  DeepPartial,
  JsonPathSegment,
  PartialJsonOptions,
  PartialJsonParser,
} from './partial-json-types.ts'

// Parser states. Plain numbers rather than strings: the main loop switches on them once per token.
const VALUE = 0 // a value must come (start, after ':' or after ',' in an array)
const ARRAY_FIRST = 1 // after '[': a value or ']'
const OBJECT_FIRST = 2 // after '{': a key or '}'
const KEY = 3 // after ',' in an object: a key
const COLON = 4 // after a key
const AFTER = 5 // after a value inside a container: ',' or the closing bracket
const END = 6 // after the top-level value: only whitespace
const STRING = 7
const ESCAPE = 8 // after a backslash in a string
const UNICODE = 9 // inside the four hex digits of \uXXXX
const NUMBER = 10
const LITERAL = 11

/** The default of {@link PartialJsonOptions.maxDepth}. */
const DEFAULT_MAX_DEPTH = 512
/** The default of {@link PartialJsonOptions.maxBytes}: 64 MiB. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

// The next character that ends a run of plain string content. One shared global regex is safe: lastIndex is
// set before every use and nothing here is re-entrant.
// biome-ignore lint/suspicious/noControlCharactersInRegex: raw control characters are invalid in JSON strings; finding them is the point.
const STRING_STOP = /["\\\u0000-\u001f]/g
const NUMBER_TOKEN = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const HEX4 = /^[0-9a-fA-F]*$/

// How many keys per object depth the key cache remembers (bounds its memory whatever the document).
const KEY_SLOTS = 64

// How much text before the current chunk is kept for error excerpts.
const TAIL = 32
// The low half of a surrogate pair at the start of an excerpt, or the high half at its end (see excerpt()).
const HALF_AT_EDGE = /^[\udc00-\udfff]|[\ud800-\udbff]$/g

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
}

/** Marks "no visible value" while snapshots are assembled, since `undefined` is not a JSON value but is a loose sentinel. */
const NONE: unique symbol = Symbol('none')

/** An open array or object: `work` holds its finished children and is never handed out while it is open. */
class Frame {
  readonly isArray: boolean
  readonly work: unknown[] | Record<string, unknown>
  /** The key whose value is being parsed (objects only). */
  key = ''
  /** How many keys this object has had so far: the slot of the next one in the key cache. */
  keys = 0
  /** The snapshot built for this container at the last read. */
  snap: unknown = undefined

  constructor(isArray: boolean) {
    this.isArray = isArray
    this.work = isArray ? [] : {}
  }
}

/**
 * Sets an own data property the way `JSON.parse` does: `__proto__` becomes an own property instead of
 * reaching the prototype setter, and no other key can touch a prototype.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
  } else {
    target[key] = value
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

class Parser<T> implements PartialJsonParser<T> {
  private readonly maxDepth: number
  private readonly maxBytes: number
  private readonly toByteOffset: ((charOffset: number) => number) | undefined
  /** What the offsets in errors count: characters of the text, unless `toByteOffset` maps them to bytes. */
  private readonly unit: 'byte' | 'character'

  private state = VALUE
  private readonly stack: Frame[] = []
  private result: unknown = undefined
  private finished = false
  private ended = false
  private failure: Error | undefined = undefined

  /** Characters consumed before the current chunk. */
  private base = 0
  private line = 1
  /** The chunk being parsed (for error excerpts), and a little of the text before it. */
  private chunk = ''
  private tail = ''

  /** Bumped on every visible change; a snapshot is current while `readAt === changes`. */
  private changes = 0
  private readAt = 0
  private snap: unknown = undefined

  // The string being read: a key or a value. `str` is a rope of slices, cheap to append to.
  private strIsKey = false
  /** Whether the key being read had no escape, so that its raw text equals its value. */
  private keyPlain = true
  /** The last plain key seen at each depth and slot; see startKey(). */
  private readonly keyCache: string[][] = []
  private str = ''
  /** The visible length of a value string: a trailing high surrogate waits for its pair. */
  private strVisible = 0
  private strEndsHigh = false
  private hex = ''

  private num = ''
  private numStart = 0
  private literal = ''
  private literalValue: unknown = null
  private literalPos = 0

  constructor(options: PartialJsonOptions) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
    this.toByteOffset = options.toByteOffset
    this.unit = options.toByteOffset ? 'byte' : 'character'
  }

  get done(): boolean {
    return this.finished
  }

  get offset(): number {
    return this.base
  }

  push(text: string): boolean {
    if (this.failure) throw this.failure
    if (this.ended)
      throw new TypeError('push() was called after end(); create a new parser for a new document.')
    const n = text.length
    if (n === 0) return false
    const before = this.changes
    this.chunk = text
    // The text within maxBytes is parsed as if it came alone, whatever the pushes: an error in it comes before the
    // LimitError, and what it completes shows in the snapshot.
    const within = Math.floor(this.maxBytes) - this.base
    // A BOM is not JSON, but decoders that keep it would otherwise fail every document that starts with one.
    this.run(
      within < n ? text.slice(0, within) : text,
      this.base === 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0,
    )
    if (within < n) {
      this.failure = new LimitError(
        'maxBytes',
        this.maxBytes,
        `The JSON document (${this.base + n} characters)`,
        {},
        // Cut at the first character past the limit.
        { offset: this.offsetOf(this.base + within) },
        // The parser sees decoded text only: json() bounds the body's bytes before they reach it.
        'characters',
      )
      throw this.failure
    }
    this.tail = n >= TAIL ? text.slice(n - TAIL) : (this.tail + text).slice(-TAIL)
    this.chunk = ''
    this.base += n
    return this.changes !== before
  }

  end(): T {
    if (this.failure) throw this.failure
    if (!this.ended) {
      this.ended = true
      // A number ends the document only at its top: inside an open container it may be cut (`[1,2` of `[1,23]`).
      if (this.state === NUMBER && this.stack.length === 0) this.finishNumber(this.num)
      if (!this.finished) {
        const problem =
          this.base === 0 || (this.state === VALUE && this.stack.length === 0)
            ? 'The JSON document is empty'
            : 'The JSON document ended before it was complete'
        this.fail(problem, this.base)
      }
    }
    return this.result as T
  }

  get snapshot(): DeepPartial<T> | undefined {
    if (this.readAt !== this.changes) {
      this.readAt = this.changes
      this.snap = this.build()
    }
    return this.snap as DeepPartial<T> | undefined
  }

  get openPath(): readonly JsonPathSegment[] | undefined {
    const stack = this.stack
    if (stack.length === 0) return this.leafVisible() ? [] : undefined
    const path: JsonPathSegment[] = []
    const last = stack.length - 1
    for (let d = 0; d < last; d++) path.push(this.openPosition(stack[d]!))
    const top = stack[last]!
    // The innermost value is open when it is a string, or when a key repeated in its object is still to get its
    // new value: JSON.parse keeps the last, so the earlier one the snapshot shows meanwhile is not final. (An
    // array's `key` stays '', never an own key of its `work`.)
    if (
      this.leafVisible() ||
      ((this.state === COLON || this.state === VALUE || this.state >= NUMBER) &&
        Object.hasOwn(top.work, top.key))
    )
      path.push(this.openPosition(top))
    return path
  }

  isComplete(path: readonly JsonPathSegment[]): boolean {
    const stack = this.stack
    if (stack.length === 0) return this.finished && hasPath(this.result, path, 0)
    // Unfinished values form one chain from the root, the open path: follow the path along it, and where it
    // leaves the chain it enters a finished child (or none).
    const open = this.openPath!
    for (let d = 0; d < stack.length; d++) {
      if (d === path.length) return false
      if (path[d] !== open[d]) return hasPath(stack[d]!.work, path, d)
    }
    // The path reached the open string (or went through it): unfinished, or not there at all.
    return false
  }

  // ---- snapshots ----

  private leafVisible(): boolean {
    return this.state >= STRING && this.state <= UNICODE && !this.strIsKey
  }

  private openPosition(frame: Frame): JsonPathSegment {
    return frame.isArray ? (frame.work as unknown[]).length : frame.key
  }

  /** Copies each open container once, from the innermost out: the cost of a read is the size of that chain. */
  private build(): unknown {
    const stack = this.stack
    let child: unknown = NONE
    if (this.leafVisible()) child = this.strEndsHigh ? this.str.slice(0, -1) : this.str
    if (stack.length === 0) return this.finished ? this.result : child === NONE ? undefined : child
    for (let d = stack.length - 1; d >= 0; d--) {
      const frame = stack[d]!
      let snap: unknown[] | Record<string, unknown>
      if (frame.isArray) {
        const work = frame.work as unknown[]
        // Slicing with the open child already in place allocates the copy at its exact size; pushing onto the
        // copy would reallocate it (and large arrays pay dearly for every allocation).
        if (child === NONE) snap = work.slice()
        else {
          work.push(child)
          snap = work.slice()
          work.pop()
        }
      } else {
        // Spread defines own data properties, so an own `__proto__` is copied, never set as a prototype.
        snap = { ...(frame.work as Record<string, unknown>) }
        if (child !== NONE) setOwn(snap, frame.key, child)
      }
      frame.snap = snap
      child = snap
    }
    return child
  }

  // ---- the state machine ----

  private run(s: string, i: number): void {
    const n = s.length
    while (i < n) {
      const state = this.state
      if (state === STRING) {
        STRING_STOP.lastIndex = i
        const j = STRING_STOP.test(s) ? STRING_STOP.lastIndex - 1 : n
        if (j > i) this.append(s.slice(i, j))
        if (j === n) return
        const c = s.charCodeAt(j)
        i = j + 1
        if (c === 34) this.endString()
        else if (c === 92) {
          this.state = ESCAPE
          this.keyPlain = false
        } else this.fail('Unescaped control character in a string', this.base + j)
        continue
      }
      if (state < STRING) {
        // Whitespace; newlines can only appear here (raw ones are invalid inside strings), so lines are counted here.
        let c = s.charCodeAt(i)
        while (c === 32 || c === 10 || c === 13 || c === 9) {
          if (c === 10) this.line++
          if (++i === n) return
          c = s.charCodeAt(i)
        }
        i = this.structural(s, i, c)
        continue
      }
      if (state === NUMBER) {
        let j = i
        while (j < n) {
          const c = s.charCodeAt(j)
          if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 45 || c === 43) j++
          else break
        }
        if (j === n) {
          this.num += s.slice(i)
          return
        }
        const token = this.num === '' ? s.slice(i, j) : this.num + s.slice(i, j)
        this.num = ''
        this.finishNumber(token)
        i = j
        continue
      }
      if (state === ESCAPE) {
        const ch = s[i]!
        if (ch === 'u') {
          this.hex = ''
          this.state = UNICODE
        } else {
          const decoded = ESCAPES[ch]
          if (decoded === undefined) this.fail('Invalid escape in a string', this.base + i - 1)
          this.append(decoded)
          this.state = STRING
        }
        i++
        continue
      }
      if (state === UNICODE) {
        const need = 4 - this.hex.length
        const piece = s.slice(i, i + need)
        // Reported where its hex digits start, whatever chunk they began in.
        if (!HEX4.test(piece)) this.fail('Invalid \\u escape in a string', this.base + i - this.hex.length)
        i += piece.length
        this.hex += piece
        if (this.hex.length === 4) {
          // A high surrogate is held back from snapshots by append() until its low half arrives.
          this.append(String.fromCharCode(Number.parseInt(this.hex, 16)))
          this.state = STRING
        }
        continue
      }
      // LITERAL
      const literal = this.literal
      let p = this.literalPos
      while (i < n && p < literal.length) {
        if (s.charCodeAt(i) !== literal.charCodeAt(p)) this.fail('Unexpected character', this.base + i)
        i++
        p++
      }
      this.literalPos = p
      if (p === literal.length) {
        this.changes++
        this.complete(this.literalValue)
      }
    }
  }

  /** Handles one non-whitespace character in a structural state; returns the next index. */
  private structural(s: string, i: number, c: number): number {
    switch (this.state) {
      case VALUE:
      case ARRAY_FIRST:
        if (c === 93 && this.state === ARRAY_FIRST) {
          this.close()
          return i + 1
        }
        return this.startValue(s, i, c)
      case OBJECT_FIRST:
        if (c === 125) {
          this.close()
          return i + 1
        }
        return this.startKey(s, i, c)
      case KEY:
        return this.startKey(s, i, c)
      case COLON:
        if (c !== 58) this.fail('Expected a colon after a property name', this.base + i)
        this.state = VALUE
        return i + 1
      case AFTER: {
        const isArray = this.stack[this.stack.length - 1]!.isArray
        if (c === 44) this.state = isArray ? VALUE : KEY
        else if (c === (isArray ? 93 : 125)) this.close()
        else this.fail(`Expected a comma or ${isArray ? "']'" : "'}'"}`, this.base + i)
        return i + 1
      }
      default:
        return this.fail('Unexpected data after the JSON value', this.base + i)
    }
  }

  private startKey(s: string, i: number, c: number): number {
    if (c !== 34) this.fail('Expected a property name in double quotes', this.base + i)
    // Sibling objects usually repeat the same keys in the same order, so the key seen at this depth and slot is
    // tried first: a match skips slicing a new string, and storing with a string that is already a property
    // key skips V8's internalisation lookup — the dominant cost of building row objects otherwise.
    const frame = this.stack[this.stack.length - 1]!
    const predicted = this.keyCache[this.stack.length]?.[frame.keys]
    if (predicted !== undefined) {
      const end = i + 1 + predicted.length
      if (s.charCodeAt(end) === 34 && s.startsWith(predicted, i + 1)) {
        frame.key = predicted
        frame.keys++
        this.state = COLON
        return end + 1
      }
    }
    this.strIsKey = true
    this.keyPlain = true
    this.str = ''
    this.state = STRING
    return i + 1
  }

  private startValue(s: string, i: number, c: number): number {
    switch (c) {
      case 34:
        this.strIsKey = false
        this.str = ''
        this.strVisible = 0
        this.strEndsHigh = false
        this.state = STRING
        this.changes++
        return i + 1
      case 123:
      case 91:
        this.open(c === 91, this.base + i)
        return i + 1
      case 116:
        return this.startLiteral(s, i, 'true', true)
      case 102:
        return this.startLiteral(s, i, 'false', false)
      case 110:
        return this.startLiteral(s, i, 'null', null)
      default:
        if (c === 45 || (c >= 48 && c <= 57)) {
          this.num = ''
          this.numStart = this.base + i
          this.state = NUMBER
          return i
        }
        return this.fail('Expected a JSON value', this.base + i)
    }
  }

  private startLiteral(s: string, i: number, literal: string, value: unknown): number {
    if (s.startsWith(literal, i)) {
      this.changes++
      this.complete(value)
      return i + literal.length
    }
    this.literal = literal
    this.literalValue = value
    this.literalPos = 0
    this.state = LITERAL
    return i
  }

  private open(isArray: boolean, at: number): void {
    if (this.stack.length >= this.maxDepth) {
      this.failure = new LimitError(
        'maxDepth',
        this.maxDepth,
        `Nesting at ${this.unit} ${this.offsetOf(at)}`,
        {},
        { line: this.line, offset: this.offsetOf(at) },
      )
      throw this.failure
    }
    this.stack.push(new Frame(isArray))
    this.changes++
    this.state = isArray ? ARRAY_FIRST : OBJECT_FIRST
  }

  private close(): void {
    const frame = this.stack.pop()!
    // Unchanged since the last read: the snapshot already shows exactly this value, so it becomes the final
    // value and keeps its identity. Otherwise `work` was never handed out and can be the final value itself.
    if (this.readAt === this.changes && frame.snap !== undefined) this.complete(frame.snap)
    else this.complete(frame.work)
  }

  /** Appends to the string being read, and counts a change when the visible part of a value string grows. */
  private append(piece: string): void {
    this.str += piece
    if (this.strIsKey) return
    this.strEndsHigh = isHighSurrogate(piece.charCodeAt(piece.length - 1))
    const visible = this.str.length - (this.strEndsHigh ? 1 : 0)
    if (visible !== this.strVisible) {
      this.strVisible = visible
      this.changes++
    }
  }

  private endString(): void {
    const value = this.str
    this.str = ''
    if (this.strIsKey) {
      const frame = this.stack[this.stack.length - 1]!
      frame.key = value
      // Only keys whose text is their value can be matched against raw text later; escapes never are cached.
      if (frame.keys < KEY_SLOTS && this.keyPlain) {
        const depth = this.stack.length
        let slots = this.keyCache[depth]
        if (slots === undefined) {
          slots = []
          this.keyCache[depth] = slots
        }
        slots[frame.keys] = value
      }
      frame.keys++
      this.state = COLON
      return
    }
    // A trailing high surrogate was hidden while the string was open; now it is part of the final value.
    if (this.strEndsHigh) this.changes++
    this.complete(value)
  }

  private finishNumber(token: string): void {
    if (!NUMBER_TOKEN.test(token)) this.fail('Invalid number', this.numStart, token)
    this.changes++
    this.complete(Number(token))
  }

  /** Places a finished value in its container, or makes it the result. */
  private complete(value: unknown): void {
    const stack = this.stack
    const top = stack[stack.length - 1]
    if (top === undefined) {
      this.result = value
      this.finished = true
      this.state = END
    } else {
      if (top.isArray) (top.work as unknown[]).push(value)
      else setOwn(top.work as Record<string, unknown>, top.key, value)
      this.state = AFTER
    }
  }

  private fail(problem: string, at: number, token?: string): never {
    this.failure = new ParseError(
      'json',
      problem,
      { line: this.line, offset: this.offsetOf(at), excerpt: this.excerpt(at, token) },
      {},
      this.unit,
    )
    throw this.failure
  }

  /** The offset errors report for character `at`: a byte offset when the caller maps it to one. */
  private offsetOf(at: number): number {
    try {
      return this.toByteOffset ? this.toByteOffset(at) : at
    } catch (error) {
      // Thrown while an error was being placed: the parser stays failed as that error would have left it.
      this.failure = error as Error
      throw error
    }
  }

  /**
   * A little context around character `at`, from the text still at hand (the chunk and a short tail), never half
   * of a surrogate pair: one cut at either end is left out there.
   */
  private excerpt(at: number, token: string | undefined): string {
    if (token !== undefined) return excerptOf(token, 40)
    const text = this.tail + this.chunk
    const textStart = this.base - this.tail.length
    const from = Math.max(0, at - textStart - 16)
    return text.slice(from, at - textStart + 24).replace(HALF_AT_EDGE, '')
  }
}

/**
 * The parser of `json()` and `collect.json()`, which check their options themselves; `sluice/partial-json`
 * exports it with a check of its own (see `src/partial-json.ts`).
 */
export function createPartialJsonParser<T = unknown>(options: PartialJsonOptions = {}): PartialJsonParser<T> {
  return new Parser<T>(options)
}
