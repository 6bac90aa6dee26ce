import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

let root: protobuf.Root | undefined;

/** proto/onnx.proto of this package: found upward from this file (src/onnx/ in tests, dist/ when built). */
function protoFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const f = join(dir, 'proto', 'onnx.proto');
    if (existsSync(f)) return f;
    dir = dirname(dir);
  }
  throw new Error('@qtdog/deploy: proto/onnx.proto is missing from the package');
}

/** The official ONNX schema (onnx/onnx.proto, ONNX 1.23), parsed once by protobufjs. */
export function onnxRoot(): protobuf.Root {
  root ??= protobuf.loadSync(protoFile());
  return root;
}

/** The message type `onnx.<name>` (ModelProto, TensorProto, ...). */
export function onnxType(name: string): protobuf.Type {
  return onnxRoot().lookupType(`onnx.${name}`);
}
