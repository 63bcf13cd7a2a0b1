/** Errors of the live view and `ristretto view`: each names what failed and what to do. */
import { RistrettoError } from '../errors/index.ts';

/** A bad `--serve` address, a port in use, or a folder `ristretto view` cannot show. */
export class ViewError extends RistrettoError {}
