/** Arrow IPC I/O: zero-copy writer and reader of Ristretto columns. */
export { ArrowFileWriter, ArrowWriteError, arrowSchemaOf, writeArrowIPC } from './write.ts';
export {
  ARROW_TREE_NAME,
  ArrowColumnNotFoundError,
  ArrowError,
  ArrowFormatError,
  ArrowRangeError,
  ArrowUnsupportedError,
  openArrow,
} from './read.ts';
