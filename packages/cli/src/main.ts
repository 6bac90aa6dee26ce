import { Command } from 'commander';
import { isQtdogError } from '@qtdog/core';
import { listCommand } from './commands/list.js';
import { runCommand } from './commands/run.js';
import { registerSweepCommand } from './commands/sweep.js';
import { registerReportCommand } from './commands/report.js';
import { exportCommand, type ExportCommandOptions } from './commands/export.js';
import { ensembleCommand, type EnsembleCommandOptions } from './commands/ensemble.js';
import { predictCommand } from './commands/predict.js';
import { evaluateCommand } from './commands/evaluate.js';
import { serveCommand } from './commands/serve.js';
import { registerNewCommand } from './commands/new-plugin.js';

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
  program
    .command('export')
    .description("write a run's checkpoint: bit-packed qtdog format, a TensorFlow.js layers model, an ONNX model or a web page (docs/export.md)")
    .argument('<run-dir>', 'run folder (with config.json and checkpoints/)')
    .option('--checkpoint <which>', 'best (training-domain validation) or last', 'best')
    .option('-o, --out <path>', 'output folder, or .onnx file (default: <run-dir>/export-<checkpoint>[-tfjs|-float32][.onnx])')
    .option('--format <format>', 'qtdog (k-bit packed), tfjs (layers model, float32), onnx (weight-only integer codes; see --int8), web (a static page with the onnx model)', 'qtdog')
    .option('--float32', 'every weight as float32 (qtdog, onnx; for size comparisons)')
    .option('--int8', 'onnx, web: full integer QDQ model (int8 weights, uint8 activations), run by ONNX Runtime as QLinearConv')
    .option('--calibrate <batches>', '--int8: training-domain batches (64 examples) that set activation scales the run did not train (default 8)')
    .option('--calibration <method>', '--int8: percentile (default) or minmax')
    .option('--percentile <p>', '--calibration percentile: the range covers this percentile of each side (default 99.99)')
    .option('--allow-unfinished', "export a run that has not finished (no 'done' file): its current checkpoint")
    .option('--base-dir <dir>', "folder of the run's config file, for its relative plugins: paths (default: the folder recorded in the run's source.json, else the current folder)")
    .action(async (runDir: string, opts: ExportCommandOptions) => exportCommand(runDir, opts));
  program
    .command('ensemble')
    .description("EoQ: average the runs' logits; accuracy of each member and of the ensemble on the whole test environments")
    .argument('<run-dirs...>', 'run folders (same dataset and test environments)')
    .option('--checkpoint <which>', 'best (training-domain validation) or last', 'best')
    .option('--all-envs', 'also evaluate the training environments (whole)')
    .option('--json', 'print as JSON')
    .option('--base-dir <dir>', "folder of the runs' config file, for relative plugins: paths (default: the folder each run recorded in its source.json, else the current folder)")
    .option('--export <format>', "also write the ensemble as one model: onnx (one graph, the mean of the members' logits)")
    .option('-o, --out <file>', '--export onnx: the .onnx file (default: ensemble.onnx)')
    .option('--float32', '--export onnx: float32 weights instead of the integer codes')
    .action(async (runDirs: string[], opts: EnsembleCommandOptions) => ensembleCommand(runDirs, opts));
  program
    .command('predict')
    .description('classify image files with an exported ONNX model (its own preprocessing and class names)')
    .argument('<model>', 'a .onnx file written by qtdog export --format onnx')
    .argument('<images...>', 'image files (PNG, JPEG, WebP, ...)')
    .option('--json', 'print as JSON (with every class probability)')
    .option('--threads <n>', "ONNX Runtime's threads")
    .action(async (model: string, images: string[], opts: { json?: boolean; threads?: string }) => predictCommand(model, images, opts));
  program
    .command('evaluate')
    .description("an exported ONNX model's accuracy on a config's dataset (every environment, in and out splits as in training)")
    .argument('<model>', 'a .onnx file written by qtdog export --format onnx')
    .argument('<config>', "a run config (its dataset: section; the run's own config.json works)")
    .option('--json', 'print as JSON')
    .action(async (model: string, config: string, opts: { json?: boolean }) => evaluateCommand(model, config, opts));
  program
    .command('serve')
    .description('serve a folder written by qtdog export --format web, with the COOP/COEP headers wasm threads need')
    .argument('<dir>', 'the web export folder')
    .option('--port <n>', 'port (default 8080; 0 picks a free one)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .action(async (dir: string, opts: { port?: string; host?: string }) => serveCommand(dir, opts));
  registerSweepCommand(program);
  registerReportCommand(program);
  registerNewCommand(program);
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
      // An error may carry its own exit code (a sweep stopped by a signal: 128 + its number).
      const code = (e as { exitCode?: unknown }).exitCode;
      return typeof code === 'number' ? code : 1;
    } else {
      process.stderr.write(`qtdog: unexpected error: ${(e as Error)?.message ?? String(e)}\n`);
      process.stderr.write(verbose ? `${(e as Error)?.stack}\n` : '(run with --verbose for the stack trace)\n');
    }
    return 1;
  }
}
