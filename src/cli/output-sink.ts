import { once } from 'node:events'
import { closeSync, constants, createWriteStream, fstatSync, ftruncateSync, open } from 'node:fs'
import type { Writable } from 'node:stream'

/**
 * Where `sluice get` writes: standard output, or a file opened at the first write (so that a request that
 * fails writes no file). Writes respect backpressure: `write()` resolves once the stream can take more.
 *
 * @example
 * const sink = OutputSink.file('report.bin', { append: false })
 * await sink.write(chunk)
 * await sink.close()
 */
export class OutputSink {
  /** Bytes handed to the stream by this sink. */
  written = 0
  readonly #open: () => Writable | Promise<Writable>
  readonly #owned: boolean
  #stream: Writable | undefined
  #error: unknown
  #failed = false

  private constructor(open: () => Writable | Promise<Writable>, owned: boolean) {
    this.#open = open
    this.#owned = owned
  }

  /**
   * A sink over standard output, which it never closes.
   *
   * @example
   * const sink = OutputSink.stdout()
   */
  static stdout(): OutputSink {
    return new OutputSink(() => process.stdout, false)
  }

  /**
   * A sink over a file, created or truncated (or appended to) at the first write; `onOpen` runs once it is open.
   *
   * @example
   * const sink = OutputSink.file('report.bin', { append: true })
   */
  static file(path: string, options: { append: boolean; onOpen?: () => void }): OutputSink {
    return new OutputSink(async () => {
      // Opened before `onOpen`, and not cut yet: a file that cannot be opened fails that write with its own
      // error, leaving nothing beside it that speaks of a download into it, and the file is cut only once
      // `onOpen` has said beside it what it now holds.
      const flags = options.append ? 'a' : constants.O_WRONLY | constants.O_CREAT
      const fd = await new Promise<number>((resolve, reject) =>
        open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))),
      )
      try {
        options.onOpen?.()
        // A device or a pipe (-o /dev/null) has nothing to cut, and refuses to be.
        if (!options.append && fstatSync(fd).isFile()) ftruncateSync(fd, 0)
      } catch (error) {
        closeSync(fd)
        throw error
      }
      return createWriteStream(path, { fd, highWaterMark: 256 * 1024 })
    }, true)
  }

  /** Whether anything opened the output yet. */
  get opened(): boolean {
    return this.#stream !== undefined
  }

  /**
   * Whether a write failed (a full disk, a file size limit): `written` then counts bytes that may never have
   * reached the file.
   */
  get failed(): boolean {
    return this.#failed
  }

  /**
   * Writes `data` and resolves when the stream can take more (after `drain` when its buffer is full).
   *
   * @example
   * for await (const chunk of res.bytes()) await sink.write(chunk)
   */
  async write(data: Uint8Array | string): Promise<void> {
    const stream = await this.#ensure()
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    this.written += bytes.length
    if (!stream.write(bytes)) await once(stream, 'drain')
    this.#check()
  }

  /**
   * Writes `data` and resolves once it, and everything before it, has been handed to the operating system:
   * what a checkpoint saved then accounts for is in the file even if the process dies.
   *
   * @example
   * await sink.writeFlushed(chunk)
   */
  async writeFlushed(data: Uint8Array | string): Promise<void> {
    const stream = await this.#ensure()
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    this.written += bytes.length
    await new Promise<void>((resolve, reject) => {
      stream.write(bytes, (error) => (error ? reject(error) : resolve()))
    })
    this.#check()
  }

  /**
   * Finishes writing: a file is flushed and closed (created empty if nothing was written and `create` is set);
   * standard output is left open.
   *
   * @example
   * await sink.close(true)
   */
  async close(create: boolean): Promise<void> {
    if (this.#stream === undefined) {
      if (!create || !this.#owned) return
      await this.#ensure()
    }
    const stream = this.#stream!
    this.#check()
    if (!this.#owned) {
      if (stream.writableNeedDrain) await once(stream, 'drain')
      return
    }
    if (stream.closed) return
    stream.end()
    await once(stream, 'close')
    this.#check()
  }

  async #ensure(): Promise<Writable> {
    this.#check()
    if (this.#stream === undefined) {
      let stream: Writable
      try {
        stream = await this.#open()
      } catch (error) {
        this.#failed = true
        this.#error = error
        throw error
      }
      stream.on('error', (error) => {
        this.#failed = true
        this.#error = error
      })
      this.#stream = stream
    }
    return this.#stream
  }

  #check(): void {
    if (this.#failed) throw this.#error
  }
}
