// What browser.mjs bundles for Chromium: the same races as in Node, run in the page.
import { runRaces, targetsTable } from './races.mjs'

globalThis.runBench = async ({ sizeMiB, rounds }) => {
  const { sections, results } = await runRaces({ sizeMiB, rounds, log: (text) => console.log(text) })
  return {
    sections,
    targets: targetsTable('Targets of issue #2 in Chromium, from this run (worst input)', results),
  }
}
