/**
 * The codecs' common error: a compressed block that does not decode, whichever decoder (native or
 * JS/wasm) ran. Readers wrap it with the file, column/branch and page/basket it came from.
 */
import { RistrettoError } from '../../errors/index.ts';

/** A compressed block that does not decode to exactly the bytes expected; `context.codec` names the codec. */
export class CodecError extends RistrettoError {}
