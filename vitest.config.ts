import { defineConfig } from 'vitest/config';

// Worker threads always run the compiled files in dist/ (built by `npm test`'s pretest step),
// so the tests exercise exactly what the CLI ships.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
