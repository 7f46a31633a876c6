import { plexusVitestConfig } from '@plexus/vitest-config';

export default plexusVitestConfig({});
