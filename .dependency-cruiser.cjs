// Import boundaries of the TypeScript code, checked by `npm run check:boundaries` (scripts/test.sh runs it
// before the tests). Paths are relative to the repository root.
//
// The layering it keeps: api/_lib is the platform library and knows nothing of its users; the route files
// under api/ wire it up (and the cron routes call the teacher-fill worker in functions/); clients/ and
// functions/ use the library only through its one facade, api/_lib/index.ts, so its inside can move; the SDK
// (clients/sdk, its own package @ril/sdk) stands alone. And no import cycles anywhere, type-only imports
// included (a type cycle still couples the modules and breaks as soon as one becomes a value import).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only imports count): break them by moving the shared part into a module both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'clients-use-the-facade',
      severity: 'error',
      comment: 'clients/ may import from api/ only the facades api/_lib/index.ts, api/_lib/server.ts (the embedded server) '
        + 'and api/_lib/browser.ts (the Node-free inference code the dashboard runs on the user\'s device).',
      from: { path: '^clients/' },
      to: { path: '^api/', pathNot: '^api/_lib/(index|server|browser)\\.ts$' },
    },
    {
      name: 'functions-use-the-facade',
      severity: 'error',
      comment: 'functions/ may import from api/ only the facade api/_lib/index.ts (export what is missing there).',
      from: { path: '^functions/', pathNot: '^functions/evaluate/' },
      to: { path: '^api/', pathNot: '^api/_lib/index\\.ts$' },
    },
    {
      name: 'bundle-scoring-uses-the-server-facade',
      severity: 'error',
      comment: 'functions/evaluate/ runs a bundle the way the endpoint does: the facades api/_lib/index.ts and api/_lib/server.ts only.',
      from: { path: '^functions/evaluate/' },
      to: { path: '^api/', pathNot: '^api/_lib/(index|server)\\.ts$' },
    },
    {
      name: 'browser-facade-is-node-free',
      severity: 'error',
      comment: 'api/_lib/browser.ts is bundled into the dashboard: it and what it imports may not use Node core modules.',
      from: { path: '^api/_lib/(browser\\.ts|inference/(tokenizer|sampler|loop|normalise|generation|spec|hfGenerate)\\.ts)$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'lib-knows-no-users',
      severity: 'error',
      comment: 'api/_lib is the library: it must not import clients/, functions/, test/ or bench/.',
      from: { path: '^api/_lib/' },
      to: { path: '^(clients|functions|test|bench)/' },
    },
    {
      name: 'routes-wire-the-lib',
      severity: 'error',
      comment: 'Route files under api/ (outside _lib) import only api/_lib/**, functions/** (cron routes run the '
        + 'teacher-fill worker) and node/npm modules: not each other, not clients/, test/ or bench/.',
      from: { path: '^api/', pathNot: '^api/_lib/' },
      to: { pathNot: ['^(api/_lib|functions)/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'sdk-stands-alone',
      severity: 'error',
      comment: 'clients/sdk is its own package (@ril/sdk): it imports only its own files and npm modules.',
      from: { path: '^clients/sdk/' },
      to: { pathNot: ['^clients/sdk/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'sdk-declares-what-it-imports',
      severity: 'error',
      comment: 'An npm module the SDK imports must be a dependency in clients/sdk/package.json (it is published alone).',
      from: { path: '^clients/sdk/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown', 'npm-dev'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing would let every other rule pass vacuously.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // type-only imports are dependencies too (for no-circular and every boundary)
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // the Prisma clients (generated/) and packages are leaves: their insides are not ours to check
    doNotFollow: { path: ['(^|/)node_modules/', '^generated/'] },
    // keep node_modules/ and generated/ paths as written, also where they are symlinks to a shared install
    preserveSymlinks: true,
    // each file's nearest package.json decides what counts as declared (clients/sdk has its own)
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
