/** Unit tests: synthesized-JSON checks, template and function tests. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  // got 14 and its helpers are ESM-only: let swc turn them into CommonJS for jest.
  transformIgnorePatterns: [
    '/node_modules/(?!(got|@sindresorhus|@szmarczak|@sec-ant|@keyv|cacheable-lookup|cacheable-request|decompress-response|form-data-encoder|get-stream|http2-wrapper|is-stream|lowercase-keys|mimic-response|normalize-url|p-cancelable|responselike|keyv|quick-lru|resolve-alpn|byte-counter|chunk-data|type-fest)/)',
  ],
  // Builds the reconciler Lambda zip that the stacks reference as an asset.
  globalSetup: '<rootDir>/__tests__/functions/global-setup.ts',
  maxWorkers: '50%',
  testTimeout: 60000,
};
