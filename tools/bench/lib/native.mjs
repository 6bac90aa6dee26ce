// Whether the native oneDNN kernels load here (@qtdog/engine-onednn is optional).
export async function oneDnnAvailable() {
  try {
    const m = await import('@qtdog/engine-onednn');
    return m.oneDnnAvailable();
  } catch (e) {
    return { enabled: false, reason: `@qtdog/engine-onednn does not load: ${e.message.split('\n')[0]}` };
  }
}
