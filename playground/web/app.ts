// The playground page: four panels, each streaming one example function with the sluice client and rendering
// it as it arrives. Plain DOM; every render is coalesced to one per animation frame.

import {
  type Checkpoint,
  isResumeError,
  isSluiceError,
  type JsonPathSegment,
  type Progress,
  type StreamResponse,
  sluice,
} from '../../src/index.ts'
import type { ReportDocument, ReportRow } from '../functions/data.ts'
import { el } from './dom.ts'
import { jsonTree } from './json-tree.ts'

type Name = 'tokens' | 'report' | 'document' | 'binary'

// Where the functions are: /fn/<name> on this server, unless the page is opened with ?<name>=<function URL>
// (deployed function URLs; see playground/README.md). An empty value names no function (fetched, it is this very
// page): that function stays local.
const params = new URLSearchParams(location.search)
const remote = (name: Name) => params.get(name) || undefined
/** The function's URL; a remote one must be absolute, else it would name a path of this server. */
function urlOf(name: Name): string {
  const given = remote(name)
  if (given === undefined) return new URL(`/fn/${name}`, location.href).href
  if (!/^https?:\/\//i.test(given) || !URL.canParse(given)) {
    throw new Error(
      `?${name}=${given} is not a function URL: pass an absolute http(s) URL, such as https://abc.lambda-url.eu-west-1.on.aws/.`,
    )
  }
  return given
}
const anyRemote = (['tokens', 'report', 'document', 'binary'] as const).some((name) => remote(name))
document.querySelector('#target')!.textContent = anyRemote
  ? 'Some functions are remote (from the query string).'
  : 'The functions run in local emulators behind /fn/<name>.'

const $ = <E extends Element>(root: ParentNode, selector: string) => root.querySelector<E>(selector)!

/** Calls `render` once on the next animation frame, however many times it is scheduled before that. */
function coalesce(render: () => void): () => void {
  let pending = false
  return () => {
    if (pending) return
    pending = true
    requestAnimationFrame(() => {
      pending = false
      render()
    })
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

// ---------------------------------------------------------------------------------------------------------
// A panel: Start / Stop / Cut the connection, a progress bar, the stats line and the error, around a consumer.

interface Panel {
  /** What an item of the stream is, in the singular (`'row'`), to say how many a finished run had. */
  item?: string
  /** Clears the output before a run that starts from the beginning (not before one that continues). */
  reset(): void
  /** Reads the response to the end, rendering as it goes; after a Retry, the rest of it after what is shown. */
  consume(res: StreamResponse): Promise<void>
  /** Once a run ends without its whole response (stopped or failed): the output must not claim it still comes. */
  abandon?(): void
  /**
   * What the output holds, as JSON, to show again after a reload beside the checkpoint it agrees with (see
   * `restore`). A panel without it starts over after a reload.
   */
  save?(): unknown
  /**
   * What the output of a run that finished holds, as JSON, to show again after a reload (see `restore`); `save`
   * when absent. A panel with neither says after a reload that its run finished, without showing what it showed.
   */
  saveFinished?(): unknown
  /** Shows again what `save` (or `saveFinished`) returned before the reload. */
  restore?(saved: unknown): void
}

/** What a panel keeps in sessionStorage across a reload: where its stream stood and what it showed. */
interface Saved {
  checkpoint: Checkpoint
  output: unknown
  /** Whether a run was going on: it continues on its own after the reload. */
  running: boolean
  failed: boolean
  /** The requests of continuations that failed, which no checkpoint counts (absent from an older page's). */
  connections?: number
  log: [className: string, text: string][]
}

/** What a panel whose run finished keeps across a reload: that it finished, where, and what it showed. */
interface Finished {
  /** The run's last progress, at `done`. */
  finished: Progress
  /** What the output showed (`saveFinished` or `save`), for a panel that can show it again. */
  output?: unknown
  connections: number
  log: [className: string, text: string][]
}

/** The class of the log line that says a run finished before the reload: said anew after each reload, not kept. */
const FINISHED_NOTE = 'resume-log finished-note'

const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined
const backForward = 'the back/forward navigation'
/** How the page came back to a saved place, as its log says: not every way back is a reload. */
const cameBack = navigation?.type === 'back_forward' ? backForward : 'the reload'

/** Where the stream stands, or nothing for a stream that offers no way to resume (Retry starts over). */
function checkpointOf(res: StreamResponse): Checkpoint | undefined {
  try {
    return res.checkpoint()
  } catch {
    return undefined
  }
}

function mount(name: Name, panel: Panel): void {
  const section = $<HTMLElement>(document, `section[data-fn="${name}"]`)
  const start = el('button', { className: 'start', textContent: 'Start' })
  const stop = el('button', { className: 'stop', textContent: 'Stop', disabled: true })
  const cut = el('button', {
    className: 'cut',
    textContent: 'Cut the connection',
    disabled: true,
    title: remote(name)
      ? 'Only the local playground server can cut a connection.'
      : 'Drops the connection mid-stream on the server side, like a network failure.',
  })
  // Offered once a run failed or was stopped with a checkpoint, when Retry (Continue) continues from it: the way
  // back to a fresh run.
  const restart = el('button', { className: 'restart', textContent: 'Start over', hidden: true })
  const state = el('span', { className: 'state', textContent: 'idle' })
  const bar = el('progress', { max: 100, value: 0 })
  const stats = el('div', { className: 'stats' })
  const error = el('div', { className: 'failure', role: 'alert' })
  $(section, '.controls').append(
    el('div', { className: 'buttons' }, start, restart, stop, cut, state),
    bar,
    stats,
    error,
  )

  const setState = (value: string) => {
    state.textContent = value
    state.className = `state ${value}`
    section.dataset.state = value
  }
  // The requests that progress does not count: progress goes on from a checkpoint's attempt (the requests sent
  // before it), and counts the request that continues from it (a Retry, Continue, or the continuation after a
  // reload), but one that failed leaves the checkpoint as it was, its requests counted nowhere else.
  let connections = 0
  let last: Progress | undefined
  const showStats = (p: Progress) => {
    last = p
    const parts = [`${formatBytes(p.loaded)}${p.total !== undefined ? ` of ${formatBytes(p.total)}` : ''}`]
    if (p.percent !== undefined) parts.push(`${p.percent.toFixed(1)} %`)
    if (p.items > 0) parts.push(`${p.items.toLocaleString()} ${p.items === 1 ? 'item' : 'items'}`)
    parts.push(`${formatBytes(Math.round(p.bytesPerSecond))}/s`)
    if (p.etaMs !== undefined && p.state === 'streaming') parts.push(`ETA ${(p.etaMs / 1000).toFixed(1)} s`)
    parts.push(`attempt ${p.attempt + connections}`)
    stats.textContent = parts.join(' · ')
  }
  const showProgress = (p: Progress) => {
    if (p.percent !== undefined) bar.value = p.percent
    else if (p.state === 'done') bar.value = 100
    // Indeterminate while it runs with no total known. A run that ends stands still where it was: an indeterminate
    // bar would go on moving as if it ran.
    else if (p.state !== 'error' && p.state !== 'cancelled') bar.removeAttribute('value')
    else if (!bar.hasAttribute('value')) bar.value = 0
    showStats(p)
    // The resume, told as it happens: the drop, the reconnect, and where the stream continued.
    if (p.state === 'reconnecting' && section.dataset.state !== 'reconnecting') {
      log(
        `Connection lost after ${formatBytes(p.loaded)} — reconnecting (attempt ${p.attempt + connections})…`,
      )
    } else if (p.state === 'streaming' && (section.dataset.state === 'reconnecting' || retrying)) {
      log(`Resumed at ${formatBytes(p.loaded)}, nothing lost, nothing repeated.`)
    }
    if (p.state !== 'connecting') retrying = false
    setState(p.state)
  }
  // What happened (blue), and what failed (red: the run's error, a cut that could not be made).
  const log = (line: string, className = 'resume-log') => {
    error.append(el('div', { className, textContent: line }))
  }
  const fail = (line: string) => log(line, '')

  let controller: AbortController | undefined
  // Set while a Retry that continues from a checkpoint waits for its answer.
  let retrying = false
  // While a run lasts, its response once it answered.
  let running: { res?: StreamResponse } | undefined
  // Where the stream stands: during a run that continues, where it started; after a run that failed or was stopped,
  // where it broke off. Retry (Continue) continues from it (resumeFrom), keeping what the panel shows.
  let checkpoint: Checkpoint | undefined
  /** The buttons once a run ended (or was restored ended after a reload). */
  const settle = (failed: boolean) => {
    const focused = document.activeElement === stop || document.activeElement === cut
    start.disabled = false
    if (focused) start.focus()
    stop.disabled = true
    cut.disabled = true
    const continues = checkpoint !== undefined && checkpoint.offset > 0
    start.textContent = failed ? 'Retry' : continues ? 'Continue' : 'Start'
    start.title = continues
      ? `Continues from ${formatBytes(checkpoint!.loaded)}, where the stream ${failed ? 'broke off' : 'was stopped'}.`
      : failed
        ? 'Starts over from the first byte: there is nothing to continue from.'
        : ''
    restart.hidden = !continues
  }
  const run = async (from: Checkpoint | undefined, how = 'Continuing') => {
    controller = new AbortController()
    const { signal } = controller
    // A checkpoint before the first unit (and every checkpoint of a JSON document, which starts over) asks for
    // the whole body again: the output starts over with it.
    const continuing = from !== undefined && from.offset > 0
    retrying = continuing
    running = {}
    error.textContent = ''
    if (continuing) {
      // The request that continues is one more: its number shows while it waits for an answer (progress says it
      // once the answer streams).
      if (last !== undefined) showStats({ ...last, attempt: from.attempt + 1 })
      log(`${how} from the checkpoint at ${formatBytes(from.loaded)}: what arrived stays, the rest follows.`)
    } else {
      panel.reset()
      connections = 0
      last = undefined
      // Until the new run's first progress, the last run's "100 %" would stand beside "connecting" and no output.
      bar.value = 0
      stats.textContent = ''
    }
    checkpoint = continuing ? from : undefined
    // Disabled while the run lasts, it says Start, not the Retry or Continue that began the run: once the run
    // ends, settle names the next step.
    start.textContent = 'Start'
    start.title = ''
    // A focused button that is disabled (or hidden) drops the focus to the page: a keyboard user would be left
    // nowhere. The focus moves to Stop while the run lasts, and back to Start once it ends.
    const pressed = document.activeElement === start || document.activeElement === restart
    stop.disabled = false
    if (pressed) stop.focus()
    start.disabled = true
    restart.hidden = true
    cut.disabled = remote(name) !== undefined
    setState('connecting')
    let failed = false
    let res: StreamResponse | undefined
    // This run's last report: a continuation that fails reports the requests it made in its `attempt`.
    let reported: Progress | undefined
    try {
      res = await sluice(urlOf(name), {
        // Never from the HTTP cache: a page loaded by a back/forward navigation has Chromium answer its requests
        // from the cache while it loads, even a stale (`no-cache`) answer. The continuation that the saved
        // checkpoint starts then would get the whole token stream again, whatever its Last-Event-ID.
        cache: 'no-store',
        signal,
        onProgress: (p) => {
          reported = p
          showProgress(p)
        },
        retry: 0,
        resume: { backoff: { initial: 300 } },
        resumeFrom: from,
      })
      running.res = res
      await panel.consume(res)
      showProgress(res.progress)
      checkpoint = undefined
      // Detached as the page went (pagehide), it ends quietly: the page that comes back continues it (below).
      if (res.progress.state !== 'done') {
        checkpoint = checkpointOf(res)
        panel.abandon?.()
      }
    } catch (caught) {
      checkpoint = undefined
      const e = caught instanceof Error ? caught : new Error(String(caught))
      if (signal.aborted) {
        setState('cancelled')
      } else {
        failed = true
        setState('error')
        const code = isSluiceError(e) ? ` [${e.code}]` : ''
        fail(`${e.name}${code}: ${e.message}`)
        // A browser hides why a cross-origin request failed: a CORS refusal is the same "Failed to fetch" as a
        // network down. Deployed function URLs are cross-origin; their CORS must allow this very origin.
        if (isSluiceError(e) && e.code === 'ERR_NETWORK' && new URL(urlOf(name)).origin !== location.origin) {
          fail(
            `The ${name} function is on another origin, where a CORS refusal fails the same way (the browser console says which it was): its function URL must allow ${location.origin}, e.g. sam deploy --parameter-overrides AllowOrigin=${location.origin}.`,
          )
        }
      }
      // Retry (after a stop: Continue) continues where the stream stands — unless the server refused to continue
      // it (another version, a range it cannot serve), which it would refuse again: then Retry starts over.
      if (!isResumeError(e) || e.reason === 'attempts-exhausted') {
        // The request of a checkpoint that failed leaves that checkpoint good for a later try, which counts on from
        // it: the requests made, which its last report counted on from the checkpoint's, are counted here — given
        // up on, stopped while it waited to ask again, or failed for any other reason.
        if (res === undefined && continuing) connections += (reported?.attempt ?? from.attempt) - from.attempt
        checkpoint = res === undefined ? from : checkpointOf(res)
      }
      panel.abandon?.()
    } finally {
      running = undefined
      settle(failed)
    }
  }
  start.onclick = () => run(checkpoint, start.textContent === 'Retry' ? 'Retrying' : 'Continuing')
  restart.onclick = () => run(undefined)
  stop.onclick = () => controller?.abort()
  cut.onclick = async () => {
    try {
      const answer = await fetch(`/control/cut?name=${name}`, { method: 'POST' })
      if (!answer.ok) fail(`The cut failed: ${answer.status} ${await answer.text()}`)
      else if (((await answer.json()) as { cut: number }).cut === 0) {
        // The button is enabled for the whole run, but a response is cut only while the page server sends it.
        log(
          'Nothing to cut: no response was streaming just then (not yet started, between attempts, or all sent).',
        )
      }
    } catch (caught) {
      fail(`The cut failed: ${caught instanceof Error ? caught.message : String(caught)}`)
    }
  }

  // A reload keeps the panel's place (README, "Resume across reloads"): the checkpoint where the stream stands
  // and the output that agrees with it go to sessionStorage as the page goes, and a run that was going on
  // continues from it when the page is back.
  const key = `sluice-playground:${name}`
  // Whether the page went with a run of this panel going on, which it detached.
  let detached = false
  const logged = () =>
    Array.from(error.children, (line): [string, string] => [line.className, line.textContent ?? '']).filter(
      ([className]) => className !== FINISHED_NOTE,
    )
  addEventListener('pagehide', () => {
    // A run that finished leaves nothing to continue, but the page that comes back says that it finished (and shows
    // what it showed, when the panel can), rather than a blank panel that looks as if it never ran.
    if (running === undefined && section.dataset.state === 'done' && last !== undefined) {
      const finished: Finished = { finished: last, connections, log: logged() }
      const output = panel.saveFinished !== undefined ? panel.saveFinished() : panel.save?.()
      if (output !== undefined) finished.output = output
      sessionStorage.setItem(key, JSON.stringify(finished))
      return
    }
    if (panel.save === undefined) return
    let at = checkpoint
    // A checkpoint counts the requests sent: a reconnect still in its backoff (the browser may have cut the
    // connection as the page began to go) is not, and the request that continues after the reload stands for it.
    if (running?.res !== undefined) {
      running.res.detach() // drop the connection, keep the place
      detached = true
      at = checkpointOf(running.res)
    }
    if (at === undefined || at.offset === 0) return sessionStorage.removeItem(key)
    const saved: Saved = {
      checkpoint: at,
      output: panel.save(),
      running: running !== undefined,
      failed: start.textContent === 'Retry',
      // A continuation still waiting for its answer sent its request, which its checkpoint does not count.
      connections: running !== undefined && running.res === undefined ? connections + 1 : connections,
      log: logged(),
    }
    sessionStorage.setItem(key, JSON.stringify(saved))
  })
  // A page kept in the back/forward cache comes back as it was left, without a load: the run it detached ended
  // stopped, and continues from its checkpoint as after a reload. (The page is sent `no-store`, which keeps it out
  // of most browsers' back/forward cache, but not out of Chromium's.)
  addEventListener('pageshow', (event) => {
    if (!event.persisted || !detached) return
    detached = false
    if (running === undefined && checkpoint !== undefined)
      void run(checkpoint, `Continuing after ${backForward}`)
  })
  // Kept for a reload (or a way back or forward in the history) of this tab; a page opened anew starts clean.
  const kept = navigation?.type === 'navigate' ? null : sessionStorage.getItem(key)
  sessionStorage.removeItem(key)
  let saved: Saved | Finished | undefined
  try {
    saved = kept === null ? undefined : (JSON.parse(kept) as Saved | Finished)
  } catch {
    // Not what this page saved: the panel starts clean.
  }
  if (saved !== undefined && 'finished' in saved) {
    const shown = saved.output !== undefined && panel.restore !== undefined
    if (shown) panel.restore!(saved.output)
    connections = saved.connections
    for (const [className, text] of saved.log) log(text, className)
    const { loaded, items } = saved.finished
    const counted =
      panel.item === undefined
        ? ''
        : `${items.toLocaleString()} ${items === 1 ? panel.item : `${panel.item}s`}, `
    log(
      `Finished before ${cameBack}: ${counted}${formatBytes(loaded)}.${shown ? '' : ' What it showed is not kept across a reload: Start runs it again.'}`,
      FINISHED_NOTE,
    )
    showProgress(saved.finished)
    settle(false)
  } else if (saved !== undefined && panel.restore !== undefined) {
    panel.restore(saved.output)
    connections = saved.connections ?? 0
    const { loaded, total, items, attempt } = saved.checkpoint
    const progress: Progress = { loaded, items, attempt, bytesPerSecond: 0, state: 'cancelled' }
    if (total) Object.assign(progress, { total, percent: (loaded / total) * 100 })
    showProgress(progress)
    if (saved.running) void run(saved.checkpoint, `Continuing after ${cameBack}`)
    else {
      for (const [className, text] of saved.log) log(text, className)
      checkpoint = saved.checkpoint
      panel.abandon?.()
      setState(saved.failed ? 'error' : 'cancelled')
      settle(saved.failed)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// tokens: streaming text.

{
  const output = $<HTMLElement>(document, '.output.tokens')
  let text = ''
  const show = () => {
    output.textContent = text
    output.scrollTop = output.scrollHeight
  }
  const render = coalesce(show)
  mount('tokens', {
    item: 'event',
    reset() {
      text = ''
      output.textContent = ''
    },
    save: () => text,
    restore(saved) {
      text = saved as string
      // Scrolled to its end, where the text stopped, as the run left it.
      show()
    },
    async consume(res) {
      for await (const event of res.events({ json: true, until: '[DONE]' })) {
        text += (event.data as { text: string }).text
        render()
      }
      output.textContent = text
    },
  })
}

// ---------------------------------------------------------------------------------------------------------
// report: a live table of the last 20 rows (100 000 DOM rows would be the slow part), and the count.

{
  const output = $<HTMLElement>(document, '.output.report')
  const count = $<HTMLElement>(output, '.count')
  const body = $<HTMLTableSectionElement>(output, 'tbody')
  let rows = 0
  let last: ReportRow[] = []
  const render = () => {
    count.textContent = `${rows.toLocaleString()} rows`
    body.replaceChildren(
      ...last.map((row) =>
        el(
          'tr',
          {},
          ...[row.id, row.date, row.region, row.product, row.units, row.revenue.toFixed(2)].map((cell) =>
            el('td', { textContent: String(cell) }),
          ),
        ),
      ),
    )
    output.scrollTop = output.scrollHeight
  }
  const schedule = coalesce(render)
  mount('report', {
    item: 'row',
    reset() {
      rows = 0
      last = []
      render()
    },
    save: () => ({ rows, last }),
    restore(saved) {
      ;({ rows, last } = saved as { rows: number; last: ReportRow[] })
      render()
    },
    async consume(res) {
      for await (const row of res.ndjson<ReportRow>()) {
        rows++
        last.push(row)
        if (last.length > 20) last.shift()
        schedule()
      }
      render()
    },
  })
}

// ---------------------------------------------------------------------------------------------------------
// document: the partial snapshot laid out as the final document's text being typed (see json-tree.ts); values on
// the parser's open path are still growing (highlighted), everything else is final. Finished subtrees keep their
// identity between snapshots, so their DOM is built once.

{
  const tree = $<HTMLElement>(document, '.tree')
  const built = new WeakMap<object, Node>()
  // The last snapshot and its open path; `more` is false once the run ended without the rest of the document.
  let shown: { value: unknown; open: readonly JsonPathSegment[] | undefined } | undefined
  let more = true
  const show = () => {
    if (shown !== undefined) tree.replaceChildren(jsonTree(shown.value, shown.open, built, more))
  }
  const render = coalesce(show)

  mount('document', {
    reset() {
      shown = undefined
      more = true
      tree.replaceChildren()
    },
    abandon() {
      // Nothing more comes: no "…", nothing highlighted as growing.
      more = false
      show()
    },
    // Only a finished document is kept across a reload: its checkpoint stands at its start, and a run that goes on
    // after the reload starts over.
    saveFinished: () => shown?.value,
    restore(saved) {
      shown = { value: saved, open: undefined }
      show()
    },
    async consume(res) {
      const doc = res.json<ReportDocument>()
      for await (const snapshot of doc) {
        shown = { value: snapshot, open: doc.openPath }
        render()
      }
      shown = { value: await doc.final, open: undefined }
      show()
    },
  })
}

// ---------------------------------------------------------------------------------------------------------
// binary: the bytes into a Blob, a download link and the SHA-256 of the file.

{
  const output = $<HTMLElement>(document, '.output.binary')
  // The download link's object URL keeps the whole file in memory until it is revoked (or the page closes):
  // let the last run's go when a new run replaces its link, or every Start holds one more file.
  let download: string | undefined
  // The file's bytes so far, kept across a Retry that continues them.
  let parts: Uint8Array<ArrayBuffer>[] = []
  let length = 0
  mount('binary', {
    reset() {
      if (download !== undefined) URL.revokeObjectURL(download)
      download = undefined
      parts = []
      length = 0
      output.replaceChildren(el('p', { textContent: 'Receiving…' }))
    },
    abandon() {
      output.replaceChildren(el('p', { textContent: 'No file: the run ended before its last byte.' }))
    },
    async consume(res) {
      output.replaceChildren(el('p', { textContent: 'Receiving…' }))
      for await (const chunk of res.bytes()) {
        parts.push(chunk as Uint8Array<ArrayBuffer>)
        length += chunk.length
      }
      const blob = new Blob(parts, { type: 'application/octet-stream' })
      parts = [] // the Blob holds its own copy
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))
      const hex = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
      download = URL.createObjectURL(blob)
      output.replaceChildren(
        el(
          'p',
          {},
          el('a', {
            href: download,
            download: 'sluice-demo.bin',
            textContent: 'Download sluice-demo.bin',
          }),
          ` (${length.toLocaleString()} bytes)`,
        ),
        el('p', {}, 'SHA-256: ', el('code', { className: 'sha256', textContent: hex })),
      )
    },
  })
}
