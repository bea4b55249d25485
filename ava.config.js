// The tests run as JavaScript compiled by tsc (into build/, with source maps), not through a
// TypeScript loader in every test process: ava compiles the project first (type errors stop
// the run), then runs build/test/…/x.test.js for each test/…/x.test.ts it is given.
export default {
  typescript: {
    rewritePaths: { 'test/': 'build/test/' },
    compile: 'tsc',
  },
  // Every test file in a process of its own: the servers, stores and environment variables
  // of one file never meet another's.
  workerThreads: false,
  files: ['test/**/*.test.ts'],
  timeout: '2m',
  // The compiled set-up (ava rewrites test files, not the modules it requires), run in each
  // test process before its file: makes the embedded database template once per machine.
  require: ['./build/test/helpers/setup.js'],
};
