/** Typed errors of the Parquet reader and writer; each names the file and, where known, the column. */
import { EntryRangeError, joinErrorFamily, MissingColumnError, RistrettoError } from '../../errors/index.ts';

/** Base of every Parquet-specific error. */
export class ParquetError extends RistrettoError {}

/** The bytes do not decode as Parquet (truncated footer, corrupt page, impossible levels). */
export class ParquetFormatError extends ParquetError {}

/** A page fails the CRC-32 its header carries: its bytes changed since they were written. */
export class ParquetChecksumError extends ParquetFormatError {}

/** A requested branch does not exist; the message lists the closest names. Also a {@link MissingColumnError}. */
export class ParquetColumnNotFoundError extends ParquetError {}

/** A valid Parquet feature Ristretto does not map to columns (strings, nested lists, exotic encodings). */
export class ParquetUnsupportedError extends ParquetError {}

/** An entry range outside [0, numEntries] or not integral. Also an {@link EntryRangeError}. */
export class ParquetRangeError extends ParquetError {}

joinErrorFamily(MissingColumnError, ParquetColumnNotFoundError);
joinErrorFamily(EntryRangeError, ParquetRangeError);
