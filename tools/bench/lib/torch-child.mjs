// The PyTorch reference as a long-lived child process (tools/bench/torch_reference.py): one JSON
// command per line on its stdin, one JSON answer per line on its stdout. Torch's start-up is paid once.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../torch_reference.py', import.meta.url));

/** Debian's python3-torch lives in the system Python, not in a pyenv/venv python3 earlier on PATH. */
export const DEFAULT_PYTHON = process.env.QTDOG_BENCH_PYTHON ?? '/usr/bin/python3';

export class TorchChild {
  constructor(python = DEFAULT_PYTHON) {
    this.python = python;
    this.proc = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    this.pending = [];
    this.stderr = '';
    this.exited = null;
    this.proc.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const p = this.pending.shift();
      if (!p) return;
      clearTimeout(p.timer);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        p.reject(new Error(`PyTorch reference printed a non-JSON line: ${line.slice(0, 200)}`));
        return;
      }
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(`PyTorch reference: ${msg.error}`));
    });
    const fail = (why) => {
      this.exited ??= why;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new Error(`PyTorch reference ${this.exited}${this.stderr ? `: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      }
    };
    this.proc.on('error', (e) => fail(`could not start (${python}: ${e.message})`));
    this.proc.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
    this.proc.stdin.on('error', () => {}); // a dead child is reported through 'exit'
  }

  /** Sends one command; resolves with its answer (rejects on an error answer, a dead child or a timeout). */
  request(msg, timeoutMs = 600_000) {
    if (this.exited) return Promise.reject(new Error(`PyTorch reference ${this.exited}`));
    return new Promise((resolve, reject) => {
      // Answers are matched to commands by order, so after a timeout the child cannot be trusted.
      const timer = setTimeout(() => {
        this.exited ??= `gave no answer to '${msg.cmd}' within ${timeoutMs / 1000} s`;
        this.proc.kill();
      }, timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.proc.stdin.write(JSON.stringify(msg) + '\n');
    });
  }

  async close() {
    if (this.exited) return;
    try {
      await this.request({ cmd: 'quit' }, 10_000);
    } catch {
      /* it is going away anyway */
    }
    this.proc.kill();
  }
}

/** Starts the reference and asks for its versions; null (with the reason) when PyTorch cannot be used. */
export async function startTorch(python = DEFAULT_PYTHON) {
  const child = new TorchChild(python);
  try {
    const hello = await child.request({ cmd: 'hello' }, 180_000);
    return { child, hello };
  } catch (e) {
    child.proc.kill();
    return { child: null, reason: e.message };
  }
}
