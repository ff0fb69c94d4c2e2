import { playwright } from '@vitest/browser-playwright'
import { msw } from 'msw/vite'
import { defineConfig } from 'vitest/config'
import { emulatorCommands } from './test/support/emulator-commands.ts'

// One behaviour suite, three runtimes. Files directly under test/ are isomorphic and run everywhere;
// test/node/ holds what needs Node (node:http servers, the emulator, the CLI).
const shared = ['test/*.test.ts']
const chromium = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium'

export default defineConfig({
  test: {
    // Tests start processes, servers and a browser side by side on two cores, so a few CPU-heavy tests take
    // seconds under load (the edge runtime's 10 000-comment SSE test exceeded 5 s in a loaded full run).
    testTimeout: 30_000,
    // A hook that starts the playground and a browser took over vitest's 10 s in a run beside other work.
    hookTimeout: 60_000,
    // Two files at a time in each pool (node and edge share one; the browser has its own). Vitest's default leaves
    // a core free, which on two cores ran the Node files one by one: most of them wait on servers and processes.
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
    // Properties start from FC_SEED when it is set (`.ci/run` derives it from the commit).
    setupFiles: ['test/support/fast-check-seed.ts'],
    // sluice/lambda writes a line for each refusal it answers (onRefusal's default): expected where a test
    // provokes one, and checked in test/node/lambda-refusal-log.test.ts.
    onConsoleLog: (log) => (/^sluice\/lambda: \w+ refused a request with /.test(log) ? false : undefined),
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-results/results.json' }]]
      : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: [...shared, 'test/node/**/*.test.ts', 'test/node/**/*.test.tsx'],
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: 'test/tsconfig.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'edge',
          environment: 'edge-runtime',
          include: shared,
          // One edge-runtime context per worker instead of one per file, whose set-up was about half of each file's
          // time (the project ran in 60 s instead of 103). Each file still runs isolated in the node project: a file
          // that fails here alone depends on what another left behind.
          isolate: false,
        },
      },
      {
        extends: true,
        // Serves /mockServiceWorker.js for msw's browser worker (test/browser); nothing else of msw is wired in.
        plugins: [msw({ mode: 'worker-only' })],
        test: {
          name: 'chromium',
          include: [...shared, 'test/browser/**/*.test.ts', 'test/browser/**/*.test.tsx'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            // The emulator on a port of its own, for the page to reach across origins (test/browser/dev-cors.test.ts).
            commands: emulatorCommands,
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: [
                  '--no-sandbox',
                  '--headless',
                  '--disable-gpu',
                  '--disable-quic',
                  '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update',
                  '--disable-sync',
                ],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
})
