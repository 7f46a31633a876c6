export type { SafetensorsDtype, TensorArray } from './dtypes.js';
export {
  bfloat16ToFloat,
  DTYPE_BYTES,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  SAFETENSORS_DTYPES,
} from './dtypes.js';
export type { SafetensorsHeader, TensorInfo } from './header.js';
export { MAX_HEADER_BYTES, parseHeader, parseHeaderLength } from './header.js';
export type { HostTensor } from './reader.js';
export { hostToTensor, SafetensorsReader } from './reader.js';
export {
  SAFETENSORS_INDEX_FILE,
  SafetensorsCheckpoint,
  writeSafetensorsCheckpoint,
} from './sharded.js';
export type { TensorToWrite } from './writer.js';
export { serializeSafetensors, writeFileAtomic, writeSafetensors } from './writer.js';
