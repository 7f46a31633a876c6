import type { UserConfig } from 'vitest/config';

/** Base vitest config every package extends. */
export declare const baseConfig: UserConfig;
/** Merge package-specific settings over the shared base. */
export declare function plexusVitestConfig(overrides?: UserConfig): UserConfig;
