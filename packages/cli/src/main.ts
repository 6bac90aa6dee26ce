import { Command } from 'commander';
import { isQtdogError } from '@qtdog/core';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';

/** Builds the `qtdog` command. */
export function buildProgram(): Command {
  const program = new Command('qtdog')
    .description('Domain generalization experiments from config files, with quantization-aware training (QT-DoG)')
    .option('--verbose', 'print stack traces on errors')
    .showHelpAfterError();
  program
    .command('run')
    .description('train one run from a YAML or JSON config')
    .argument('<config>', 'config file')
    .option('-o, --out <dir>', 'output folder (default: the config\'s output:, else runs/<config name>)')
    .option('--overwrite', 'replace a finished run in the output folder')
    .action(async (config: string, opts: { out?: string; overwrite?: boolean }) => runCommand(config, opts));
  program
    .command('list')
    .description('list every registered plugin by kind, with its options and defaults')
    .option('--json', 'print as JSON')
    .option('--plugins <specs...>', 'extra plugin packages or files to load')
    .action(async (opts: { json?: boolean; plugins?: string[] }) => listCommand(opts));
  return program;
}

/** Runs the CLI; returns the exit code. Known errors print one clear line, no stack trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const verbose = argv.includes('--verbose');
    if (isQtdogError(e)) {
      process.stderr.write(`qtdog: ${e.kind} error: ${e.message}\n`);
      if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    } else {
      process.stderr.write(`qtdog: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
      process.stderr.write(verbose ? `${(e as Error)?.stack}\n` : '(run with --verbose for the stack trace)\n');
    }
    return 1;
  }
}
