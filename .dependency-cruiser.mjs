// The import-cycle check of `npm run lint` (ESLint's import-x/no-cycle skips type-only imports; this counts them,
// since a cycle through types still ties two modules' designs together).
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules in src/ import one way only; break a cycle by passing the dependency in or moving the shared part down.',
      from: {},
      to: { circular: true }
    }
  ],
  options: {
    includeOnly: '^src/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.vue', '.js', '.mjs', '.json'] }
  }
}
