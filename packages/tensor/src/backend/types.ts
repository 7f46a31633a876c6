/** Backends `initBackend` knows, in its default order of preference. */
export const BACKEND_ORDER = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;

/** A backend `initBackend` can select. */
export type PlexusBackendName = (typeof BACKEND_ORDER)[number];

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * Which backend to use; `'auto'` (default) tries them in {@link BACKEND_ORDER}.
   * The `PLEXUS_BACKEND` environment variable is read when this is not given.
   */
  readonly backend?: PlexusBackendName | 'auto';
  /**
   * Accept a software WebGPU adapter (lavapipe, SwiftShader). Never taken
   * automatically otherwise: it is slower than WASM for real work. Naming
   * `backend: 'webgpu'` explicitly also accepts one.
   */
  readonly allowSoftwareAdapter?: boolean;
}

/** One backend that was tried and whether it could run. */
export interface BackendAttempt {
  readonly backend: PlexusBackendName;
  readonly ok: boolean;
  /** Why it was chosen or rejected, in words. */
  readonly reason: string;
}

/** What {@link initBackend} chose. */
export interface BackendChoice {
  /** The Plexus backend name. */
  readonly backend: PlexusBackendName;
  /** The tfjs backend name now active (`tensorflow` for both tfjs-node flavours). */
  readonly tfjsBackend: string;
  /** Adapter or device name, e.g. `NVIDIA H100 (vulkan)` or `wasm (simd, 1 thread)`. */
  readonly device: string;
  /** Whether computation runs on a GPU. */
  readonly isGpu: boolean;
  /** Device limits that matter to kernels (WebGPU limits, wasm features). */
  readonly limits: Readonly<Record<string, number | boolean>>;
  /** Every backend tried, in order, with the reason for each outcome. */
  readonly attempts: readonly BackendAttempt[];
}

/** What a backend loader reports when it succeeds. */
export interface LoadedBackend {
  readonly tfjsBackend: string;
  readonly device: string;
  readonly isGpu: boolean;
  readonly limits: Readonly<Record<string, number | boolean>>;
}
