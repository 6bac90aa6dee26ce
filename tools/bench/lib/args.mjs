// The value after `--name` on the command line, or `dflt` when the option is absent (the small
// tools beside the bench; bench.mjs itself parses its options strictly).
export function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
