import fc from 'fast-check'
import { inject } from 'vitest'

// Every property in this worker starts from the seed global setup provides (FC_SEED), when there is one; a
// failure still prints the seed and path that reproduce it.
const seed = inject('fcSeed')
if (seed !== null) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed })
