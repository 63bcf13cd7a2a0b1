/**
 * Typed errors of the RNTuple reader. They extend the ROOT reader's classes, so code that handles ROOT
 * errors (skip a bad file, print a hint) handles RNTuple files the same way.
 */
import { RootFileError, UnsupportedBranchError } from '../root/errors.ts';

/** The RNTuple's metadata or pages cannot be parsed: a frame, locator or page is inconsistent. */
export class RNTupleFormatError extends RootFileError {}

/** An XXH3 checksum stored in the file (anchor, envelope or page) does not match the bytes. */
export class RNTupleChecksumError extends RNTupleFormatError {}

/**
 * The file uses something this reader does not decode: a feature flag, a column type (Real32Trunc,
 * Real32Quant, Switch...), a field layout (variants, nested collections, streamer fields) or an
 * anchor from another format epoch.
 */
export class RNTupleUnsupportedError extends UnsupportedBranchError {}
