// The playground page: four panels, each streaming one example function with the sluice client and rendering
// it as it arrives. Plain DOM; every render is coalesced to one per animation frame.

import type { JsonPathSegment } from '../../src/index.ts'
import { isSluiceError, type Progress, type StreamResponse, sluice } from '../../src/index.ts'
import type { ReportDocument, ReportRow } from '../functions/data.ts'

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

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}

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
  /** Clears the output before a run. */
  reset(): void
  /** Reads the response to the end, rendering as it goes. */
  consume(res: StreamResponse): Promise<void>
  /** Once a run ends without its whole response (stopped or failed): the output must not claim it still comes. */
  abandon?(): void
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
  const state = el('span', { className: 'state', textContent: 'idle' })
  const bar = el('progress', { max: 100, value: 0 })
  const stats = el('div', { className: 'stats' })
  const error = el('div', { className: 'failure', role: 'alert' })
  $(section, '.controls').append(
    el('div', { className: 'buttons' }, start, stop, cut, state),
    bar,
    stats,
    error,
  )

  const setState = (value: string) => {
    state.textContent = value
    state.className = `state ${value}`
    section.dataset.state = value
  }
  const showProgress = (p: Progress) => {
    if (p.percent !== undefined) bar.value = p.percent
    else if (p.state === 'done') bar.value = 100
    else bar.removeAttribute('value') // indeterminate: no total known
    const parts = [`${formatBytes(p.loaded)}${p.total !== undefined ? ` of ${formatBytes(p.total)}` : ''}`]
    if (p.percent !== undefined) parts.push(`${p.percent.toFixed(1)} %`)
    if (p.items > 0) parts.push(`${p.items.toLocaleString()} ${p.items === 1 ? 'item' : 'items'}`)
    parts.push(`${formatBytes(Math.round(p.bytesPerSecond))}/s`)
    if (p.etaMs !== undefined && p.state === 'streaming') parts.push(`ETA ${(p.etaMs / 1000).toFixed(1)} s`)
    parts.push(`attempt ${p.attempt}`)
    stats.textContent = parts.join(' · ')
    // The resume, told as it happens: the drop, the reconnect, and where the stream continued.
    if (p.state === 'reconnecting' && section.dataset.state !== 'reconnecting') {
      log(`Connection lost after ${formatBytes(p.loaded)} — reconnecting (attempt ${p.attempt})…`)
    } else if (p.state === 'streaming' && section.dataset.state === 'reconnecting') {
      log(`Resumed at ${formatBytes(p.loaded)}, nothing lost, nothing repeated.`)
    }
    setState(p.state)
  }
  const log = (line: string) => {
    error.append(el('div', { className: 'resume-log', textContent: line }))
  }

  let controller: AbortController | undefined
  start.onclick = async () => {
    controller = new AbortController()
    const { signal } = controller
    panel.reset()
    error.textContent = ''
    // Until the new run's first progress, the last run's "100 %" would stand beside "connecting" and no output.
    bar.value = 0
    stats.textContent = ''
    // A focused button that is disabled drops the focus to the page: a keyboard user would be left nowhere. The
    // focus moves to Stop while the run lasts, and back to Start once it ends.
    const pressed = document.activeElement === start
    stop.disabled = false
    if (pressed) stop.focus()
    start.disabled = true
    cut.disabled = remote(name) !== undefined
    setState('connecting')
    let failed = false
    try {
      const res = await sluice(urlOf(name), {
        signal,
        onProgress: showProgress,
        retry: 0,
        resume: { backoff: { initial: 300 } },
      })
      await panel.consume(res)
      showProgress(res.progress)
    } catch (caught) {
      if (signal.aborted) {
        setState('cancelled')
      } else {
        failed = true
        setState('error')
        const e = caught instanceof Error ? caught : new Error(String(caught))
        const code = isSluiceError(e) ? ` [${e.code}]` : ''
        log(`${e.name}${code}: ${e.message}`)
        // A browser hides why a cross-origin request failed: a CORS refusal is the same "Failed to fetch" as a
        // network down. Deployed function URLs are cross-origin; their CORS must allow this very origin.
        if (isSluiceError(e) && e.code === 'ERR_NETWORK' && new URL(urlOf(name)).origin !== location.origin) {
          log(
            `The ${name} function is on another origin, where a CORS refusal fails the same way (the browser console says which it was): its function URL must allow ${location.origin}, e.g. sam deploy --parameter-overrides AllowOrigin=${location.origin}.`,
          )
        }
      }
      panel.abandon?.()
    } finally {
      const focused = document.activeElement === stop || document.activeElement === cut
      start.disabled = false
      if (focused) start.focus()
      stop.disabled = true
      cut.disabled = true
      start.textContent = failed ? 'Retry' : 'Start'
    }
  }
  stop.onclick = () => controller?.abort()
  cut.onclick = async () => {
    try {
      const answer = await fetch(`/control/cut?name=${name}`, { method: 'POST' })
      if (!answer.ok) log(`The cut failed: ${answer.status} ${await answer.text()}`)
      else if (((await answer.json()) as { cut: number }).cut === 0) {
        // The button is enabled for the whole run, but a response is cut only while the page server sends it.
        log(
          'Nothing to cut: no response was streaming just then (not yet started, between attempts, or all sent).',
        )
      }
    } catch (caught) {
      log(`The cut failed: ${caught instanceof Error ? caught.message : String(caught)}`)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// tokens: streaming text.

{
  const output = $<HTMLElement>(document, '.output.tokens')
  let text = ''
  const render = coalesce(() => {
    output.textContent = text
    output.scrollTop = output.scrollHeight
  })
  mount('tokens', {
    reset() {
      text = ''
      output.textContent = ''
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
    reset() {
      rows = 0
      last = []
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
// document: the partial snapshot as a tree; values on the parser's open path are still growing (highlighted),
// everything else is final. Finished subtrees keep their identity between snapshots, so their DOM is built once.

{
  const tree = $<HTMLElement>(document, '.tree')
  const built = new WeakMap<object, Node>()

  const onPath = (path: JsonPathSegment[], open: readonly JsonPathSegment[] | undefined) =>
    open !== undefined && path.length <= open.length && path.every((segment, i) => open[i] === segment)

  const node = (
    value: unknown,
    path: JsonPathSegment[],
    open: readonly JsonPathSegment[] | undefined,
    indent: string,
  ): Node => {
    const growing = onPath(path, open)
    if (value === null || typeof value !== 'object') {
      const kind = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'literal'
      const text = JSON.stringify(value)
      // A growing string has no closing quote yet.
      return el('span', {
        className: growing ? `${kind} growing` : kind,
        textContent: growing && kind === 'string' ? `${text.slice(0, -1)}…` : text,
      })
    }
    const cached = growing ? undefined : built.get(value)
    if (cached !== undefined) return cached
    const isArray = Array.isArray(value)
    const entries: [JsonPathSegment, unknown][] = isArray
      ? value.map((item, i) => [i, item])
      : Object.entries(value as Record<string, unknown>)
    const inner = `${indent}  `
    const out = el('span', { className: growing ? 'growing' : '' }, isArray ? '[' : '{')
    entries.forEach(([key, child], i) => {
      out.append(`\n${inner}`)
      if (!isArray) out.append(el('span', { className: 'key', textContent: JSON.stringify(key) }), ': ')
      out.append(node(child, [...path, key], open, inner))
      if (i < entries.length - 1 || growing) out.append(',')
    })
    out.append(
      growing ? `\n${inner}…` : '',
      entries.length > 0 ? `\n${indent}` : '',
      growing ? '' : isArray ? ']' : '}',
    )
    if (!growing) built.set(value, out)
    return out
  }

  mount('document', {
    reset() {
      tree.replaceChildren()
    },
    async consume(res) {
      const doc = res.json<ReportDocument>()
      let latest: unknown
      const render = coalesce(() => tree.replaceChildren(node(latest, [], doc.openPath, '')))
      for await (const snapshot of doc) {
        latest = snapshot
        render()
      }
      tree.replaceChildren(node(await doc.final, [], undefined, ''))
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
  mount('binary', {
    reset() {
      if (download !== undefined) URL.revokeObjectURL(download)
      download = undefined
      output.replaceChildren(el('p', { textContent: 'Receiving…' }))
    },
    abandon() {
      output.replaceChildren(el('p', { textContent: 'No file: the run ended before its last byte.' }))
    },
    async consume(res) {
      const parts: Uint8Array<ArrayBuffer>[] = []
      let length = 0
      for await (const chunk of res.bytes()) {
        parts.push(chunk as Uint8Array<ArrayBuffer>)
        length += chunk.length
      }
      const blob = new Blob(parts, { type: 'application/octet-stream' })
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
