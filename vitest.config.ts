import { defineConfig } from 'vitest/config';

// Worker threads always run the compiled files in dist/ (built by `npm test`'s pretest step),
// so the tests exercise exactly what the CLI ships. CI asks for a JSON report through
// BLINDLINK_TEST_REPORT to print its pass/fail count.
const report = process.env.BLINDLINK_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Removes each test file's temporary folders when the file ends.
    setupFiles: ['test/helpers/scratch-cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
