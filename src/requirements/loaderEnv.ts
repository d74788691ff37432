/**
 * Environment variables that change what a stdio server loads or runs without changing its
 * command line: the dynamic loader's preloads and search paths, interpreter options and module
 * paths, the home and config directories interpreters read startup files from (a `.pth` file in
 * `$HOME/.local/lib/python3.X/site-packages` runs at every Python start, `~/.npmrc` can point
 * `npx` at another registry), shell startup files, package-manager settings and the TLS trust
 * that guards what launchers download. An allow-list entry admits one of these only by naming it
 * exactly: a glob such as `LOG_*` or `*` never does.
 *
 * Gathered from the manuals of ld.so(8), dyld, bash(1), python(1) and site, node(1), npm-config,
 * perlrun, ruby(1), the JDK launcher, git(1), go env, cargo, OpenSSL, PHP and Lua. Each group
 * says what it changes, for the refusal message. Matched case-insensitively (Windows, and npm's
 * `npm_config_*` spelling).
 */

/** A family of variables and what setting one changes. */
interface LoaderGroup {
  readonly pattern: RegExp;
  readonly effect: string;
}

const GROUPS: readonly LoaderGroup[] = [
  { pattern: /^(LD_.+|DYLD_.+|GCONV_PATH|GLIBC_TUNABLES|LIBPATH|SHLIB_PATH|NLSPATH)$/i, effect: 'which shared libraries the dynamic loader loads' },
  { pattern: /^(PATH|PATHEXT|COMSPEC|SYSTEMROOT)$/i, effect: 'which programs are found by name (the command itself, or any program the server starts)' },
  {
    pattern: /^(HOME|USERPROFILE|APPDATA|LOCALAPPDATA|XDG_.+|ZDOTDIR)$/i,
    effect: 'the home and config directories interpreters load startup files from (Python user site-packages and .pth files, ~/.npmrc, dotfiles)',
  },
  { pattern: /^(BASH_ENV|ENV|SHELLOPTS|BASHOPTS|PS4|IFS|CDPATH|PROMPT_COMMAND|GLOBIGNORE|BASH_FUNC_.+)$/i, effect: 'what a shell runs at startup or how it reads commands' },
  { pattern: /^(PYTHON.+|VIRTUAL_ENV|CONDA_.+|PIP_.+|PIPX_.+|UV_.+)$/i, effect: "Python's module path, startup code or package source" },
  {
    pattern: /^(NODE_(?!ENV$).+|NPM_CONFIG_.+|YARN_.+|PNPM_.+|COREPACK_.+|BUN_.+|DENO_.+|ELECTRON_RUN_AS_NODE)$/i,
    effect: "Node's preloads, module path, TLS trust or package registry",
  },
  { pattern: /^(PERL.+|RUBY.+|GEM_.+|BUNDLE_.+|LUA_(PATH|CPATH|INIT).*|PHPRC|PHP_INI_SCAN_DIR|TCLLIBPATH|R_LIBS.*|R_PROFILE.*)$/i, effect: "the interpreter's module path or startup code" },
  { pattern: /^(JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|JAVA_HOME|CLASSPATH|MAVEN_OPTS|GRADLE_OPTS|DOTNET_.+|CORECLR_.+|COMPLUS_.+)$/i, effect: 'the runtime the server runs on, its agents or its class path' },
  { pattern: /^(GOFLAGS|GOPATH|GOROOT|GOPROXY|GOTOOLCHAIN|GOENV|GOINSECURE|GONOSUMDB|GONOSUMCHECK|GOPRIVATE|GOMODCACHE|GOEXPERIMENT|CARGO_.+|RUSTUP_.+|RUSTFLAGS|RUSTC_WRAPPER)$/i, effect: 'which toolchain and modules a Go or Rust launcher builds and runs' },
  { pattern: /^(GIT_.+|SSH_ASKPASS|EDITOR|VISUAL|PAGER|BROWSER)$/i, effect: 'programs git and other tools run on their own' },
  {
    pattern: /^(SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|OPENSSL_CONF|OPENSSL_ENGINES|OPENSSL_MODULES)$/i,
    effect: 'the TLS trust that guards what launchers download, or the crypto modules OpenSSL loads',
  },
  { pattern: /^(GIO_EXTRA_MODULES|GTK_PATH|QT_PLUGIN_PATH)$/i, effect: 'which plugins a library loads' },
];

/**
 * What setting `name` changes, when it is a loader variable; undefined for ordinary ones.
 * @example loaderEffect('NODE_OPTIONS') // "Node's preloads, module path, TLS trust or package registry"
 * @example loaderEffect('GITHUB_TOKEN') // undefined
 */
export function loaderEffect(name: string): string | undefined {
  return GROUPS.find((group) => group.pattern.test(name))?.effect;
}
