import { PlexusTensorError } from '../errors.js';
import { registerPlexusKernels } from '../kernels/register.js';
import { loadCpu, loadTfjsNode, loadWasm } from './load-backends.js';
import { loadWebGpu } from './load-webgpu.js';
import {
  BACKEND_ORDER,
  type BackendAttempt,
  type BackendChoice,
  type InitBackendOptions,
  type LoadedBackend,
  type PlexusBackendName,
} from './types.js';

function loaderFor(name: PlexusBackendName, allowSoftware: boolean): () => Promise<LoadedBackend> {
  switch (name) {
    case 'tfjs-node-gpu':
      return () => loadTfjsNode('@tensorflow/tfjs-node-gpu');
    case 'tfjs-node':
      return () => loadTfjsNode('@tensorflow/tfjs-node');
    case 'webgpu':
      return () => loadWebGpu(allowSoftware);
    case 'wasm':
      return loadWasm;
    case 'cpu':
      return loadCpu;
  }
}

function requestedBackend(options: InitBackendOptions): PlexusBackendName | 'auto' {
  const fromEnv = typeof process !== 'undefined' ? process.env['PLEXUS_BACKEND'] : undefined;
  const requested = options.backend ?? (fromEnv === undefined || fromEnv === '' ? 'auto' : fromEnv);
  if (requested !== 'auto' && !(BACKEND_ORDER as readonly string[]).includes(requested)) {
    const source = options.backend === undefined ? 'PLEXUS_BACKEND' : 'options.backend';
    throw new PlexusTensorError(
      'backend',
      `${source} is '${requested}'; accepted: auto, ${BACKEND_ORDER.join(', ')}`,
    );
  }
  return requested as PlexusBackendName | 'auto';
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/Cannot find (module|package)|Could not resolve|ERR_MODULE_NOT_FOUND/.test(text))
    return 'package is not installed';
  return text.split('\n')[0]!;
}

/**
 * Choose, initialise and activate a tfjs backend, and register Plexus's
 * kernels for it. With no backend named (by `options.backend` or the
 * `PLEXUS_BACKEND` variable) it tries, in order: tfjs-node-gpu (CUDA),
 * webgpu (a hardware adapter through Dawn), tfjs-node, wasm, cpu.
 * Returns what it chose and why; naming a backend that cannot run throws a
 * {@link PlexusTensorError} listing what was tried and why each failed.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  const requested = requestedBackend(options);
  const candidates = requested === 'auto' ? BACKEND_ORDER : [requested];
  const allowSoftware = options.allowSoftwareAdapter === true || requested === 'webgpu';
  const attempts: BackendAttempt[] = [];
  registerPlexusKernels();
  for (const name of candidates) {
    try {
      const loaded = await loaderFor(name, allowSoftware)();
      // Loading tfjs-backend-wasm registers its kernels; swap in ours now.
      registerPlexusKernels();
      attempts.push({ backend: name, ok: true, reason: `chosen: ${loaded.device}` });
      return { backend: name, ...loaded, attempts };
    } catch (error) {
      attempts.push({ backend: name, ok: false, reason: errorText(error) });
    }
  }
  const tried = attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ');
  throw new PlexusTensorError('backend', `no requested backend could run (tried ${tried})`);
}
