// The page's logic: ONNX Runtime Web (wasm, copied next to this file: no CDN), the model's own
// metadata (classes, preprocessing), classification of dropped, chosen or drawn images.
import * as ort from './ort/ort.wasm.min.mjs';

ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
// Threads need a cross-origin-isolated page (qtdog serve sends COOP/COEP); otherwise one thread.
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

const $ = (id) => document.getElementById(id);
const meta = await (await fetch('./metadata.json')).json();
const session = await ort.InferenceSession.create('./model.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
const [C, H, W] = meta.input.shape;
const pre = meta.preprocessing;

/** RGBA pixels of an H x W image to the network's input: grey or RGB, / 255, (x - mean) / std, CHW. */
function toInput(rgba) {
  const x = new Float32Array(C * H * W);
  for (let i = 0; i < H * W; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    for (let k = 0; k < C; k++) {
      // Grey as libvips computes it (Rec. 709 weights); a grey image gives its own value back.
      const v = C === 1 ? Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b) : [r, g, b][k];
      x[k * H * W + i] = (v / 255 - pre.mean[k]) / pre.std[k];
    }
  }
  return x;
}

/** Logits of n preprocessed inputs ([n, C, H, W]), and the time ONNX Runtime took. */
async function logits(x, n) {
  const t0 = performance.now();
  const out = await session.run({ [meta.input.name]: new ort.Tensor('float32', x, [n, C, H, W]) });
  return { logits: Array.from(out.logits.data), ms: performance.now() - t0 };
}

function softmax(row) {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function show(probs, ms, label) {
  const k = probs.indexOf(Math.max(...probs));
  $('top').textContent = `${meta.classNames[k]} (${(100 * probs[k]).toFixed(1)}%)`;
  $('top').dataset.state = 'done';
  $('latency').textContent = `${ms.toFixed(1)} ms in ONNX Runtime Web (${ort.env.wasm.numThreads} thread${ort.env.wasm.numThreads > 1 ? 's' : ''})`;
  $('probs').innerHTML = probs
    .map((p, i) => `<tr><td>${meta.classNames[i]}</td><td><span class="bar" style="width:${(120 * p).toFixed(0)}px"></span> ${(100 * p).toFixed(1)}%</td></tr>`)
    .join('');
  if (label) {
    const li = document.createElement('li');
    li.textContent = `${label}: ${meta.classNames[k]} ${(100 * probs[k]).toFixed(1)}%`;
    li.dataset.classIndex = String(k);
    $('results').append(li);
  }
  return k;
}

/** An image file drawn at the model's size (refused at another size when the dataset never resized). */
async function fileInput(file) {
  const bmp = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  if (!pre.resize && (bmp.width !== W || bmp.height !== H)) throw new Error(`${file.name} is ${bmp.width}x${bmp.height}; this model takes ${W}x${H} images`);
  const c = new OffscreenCanvas(W, H);
  const g = c.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(bmp, 0, 0, W, H);
  return toInput(g.getImageData(0, 0, W, H).data);
}

async function classifyFiles(files) {
  $('error').textContent = '';
  for (const f of files) {
    try {
      const r = await logits(await fileInput(f), 1);
      show(softmax(r.logits), r.ms, f.name);
    } catch (e) {
      $('error').textContent = String(e.message ?? e);
    }
  }
  $('results').dataset.count = String($('results').children.length);
}

$('files').addEventListener('change', (e) => classifyFiles([...e.target.files]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => (e.preventDefault(), drop.classList.remove('over'), classifyFiles([...e.dataTransfer.files])));

// The drawing pad: white strokes on black, as MNIST digits are.
const pad = $('pad');
const pen = pad.getContext('2d');
const clear = () => ((pen.fillStyle = '#000'), pen.fillRect(0, 0, pad.width, pad.height));
clear();
let last = null;
pad.addEventListener('pointerdown', (e) => (last = [e.offsetX, e.offsetY]));
pad.addEventListener('pointerup', () => (last = null));
pad.addEventListener('pointermove', (e) => {
  if (!last) return;
  pen.strokeStyle = '#fff';
  pen.lineWidth = 18;
  pen.lineCap = 'round';
  pen.beginPath();
  pen.moveTo(...last);
  pen.lineTo(e.offsetX, e.offsetY);
  pen.stroke();
  last = [e.offsetX, e.offsetY];
});
$('clear').addEventListener('click', clear);
$('classify-drawing').addEventListener('click', async () => {
  const c = new OffscreenCanvas(W, H);
  const g = c.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(pad, 0, 0, W, H);
  const r = await logits(toInput(g.getImageData(0, 0, W, H).data), 1);
  show(softmax(r.logits), r.ms, 'drawing');
});

$('about').textContent =
  `${meta.domains.dataset}: trained on ${meta.domains.train.join(', ')}; test domains ${meta.domains.test.join(', ')}. ` +
  `Input ${W}x${H}, ${C} channel${C > 1 ? 's' : ''}; weights ${meta.quantization.weights}. Classes: ${meta.classNames.join(', ')}.`;
// For scripts and tests: the same model on inputs already preprocessed.
window.qtdog = { meta, logits, toInput, ready: true };
