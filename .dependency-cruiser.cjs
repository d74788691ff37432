/**
 * Import rules of src/ (docs/development.md "Layers"), checked by `npm run lint:deps` (part of
 * `npm test`). The call path runs downstream → pipeline → approval → catalog → upstream →
 * audit/telemetry; a module imports only modules of its own layer or of a later one. Below them
 * all: policy (pure), caller (the call path's view of a client), config types, errors.
 */
const STAGES = ['downstream', 'pipeline', 'approval', 'catalog', 'upstream', '(audit|telemetry)'];

/** One rule per stage: it may not import a stage before it. */
const upward = STAGES.slice(1).map((stage, i) => ({
  name: `no-upward-from-${stage.replace(/[()|]/g, (c) => (c === '|' ? '-' : ''))}`,
  comment: `${stage} sits below ${STAGES.slice(0, i + 1).join(', ')} on the call path and may not import them`,
  severity: 'error',
  from: { path: `^src/${stage}/` },
  to: { path: `^src/(${STAGES.slice(0, i + 1).join('|')})/` },
}));

/** A folder only the composition root (gateway.ts, cli/, main.ts) and the folder itself import. */
function onlyFromTheTop(folder, comment) {
  return {
    name: `${folder}-only-from-the-top`,
    comment,
    severity: 'error',
    from: { path: '^src/', pathNot: `^src/(${folder}/|gateway\\.ts$|cli/|main\\.ts$)` },
    to: { path: `^src/${folder}/` },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle (type-only imports count: they couple the modules just the same)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'no-composition-root',
      comment: 'only the CLI reaches the composition root (gateway.ts) and the commands (cli/)',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli/|main\\.ts$)' },
      to: { path: '^src/(gateway\\.ts$|cli/|main\\.ts$)' },
    },
    onlyFromTheTop('downstream', 'the call path sees a client only as a Caller (src/caller): nothing below the composition root imports downstream/'),
    onlyFromTheTop('pipeline', 'the pipeline is run by the gateway; nothing else imports it'),
    {
      name: 'policy-is-pure',
      comment: 'policy/ decides without I/O: outside policy/ and caller/ it reads only the configuration types and schemas',
      severity: 'error',
      from: { path: '^src/policy/' },
      to: { path: '^src/', pathNot: '^src/((policy|caller)/|config/(types|policyTypes|ruleSchema|schema)\\.ts$|requirements/types\\.ts$|canonicalJson\\.ts$)' },
    },
    {
      name: 'policy-no-io-builtins',
      comment: 'policy/ decides without I/O',
      severity: 'error',
      from: { path: '^src/policy/' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?(crypto|path|module|util)$' },
    },
    {
      name: 'bottom-stays-at-the-bottom',
      comment: 'errors.ts, caller/ and the config schemas/types are the bottom layer: they import nothing of the gateway above them',
      severity: 'error',
      from: { path: '^src/(errors\\.ts$|caller/|config/(types|policyTypes|ruleSchema)\\.ts$)' },
      to: { path: '^src/', pathNot: '^src/(errors\\.ts$|caller/|config/|requirements/types\\.ts$|network/types\\.ts$|secrets/secretValue\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The repository's TypeScript (7, native) has no JS API dependency-cruiser can use: swc parses
    // instead. It reports type-only imports as imports, so a type-only cycle is a cycle too.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
