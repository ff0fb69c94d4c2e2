import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    mock: 'src/mock/index.ts',
    'mock-stream': 'src/mock/stream.ts',
    lambda: 'src/lambda/index.ts',
    dev: 'src/dev/index.ts',
    'partial-json': 'src/partial-json.ts',
    react: 'src/react/index.ts',
    cli: 'src/cli/index.ts',
  },
  format: 'esm',
  platform: 'neutral',
  target: 'es2023',
  dts: true,
  sourcemap: true,
  clean: true,
  external: [/^node:/, 'msw', /^msw\//, 'react', 'ky', 'eventsource-parser'],
})
