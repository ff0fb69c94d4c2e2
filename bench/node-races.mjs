// The races of races.mjs alone, for run.mjs to run under another Node (the newest LTS): prints the markdown of
// each section as it is done, then one JSON line with the sections and the targets table.
import { runRaces, targetsTable } from './races.mjs'

const [sizeMiB, rounds] = process.argv.slice(2).map(Number)
const { sections, results } = await runRaces({ sizeMiB, rounds, log: (text) => console.error(text) })
const targets = targetsTable(
  `Targets of issue #2 in Node ${process.versions.node.split('.')[0]}, from this run (worst input)`,
  results,
)
console.log(JSON.stringify({ version: process.version, sections, targets }))
