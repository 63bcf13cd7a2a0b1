/** Errors of the FaaS executor. Each names the endpoint, task or option involved and says what to do. */
import { RistrettoError } from '../../src/errors/index.ts';

/** Base of the FaaS executor's errors. */
export class FaasExecutorError extends RistrettoError {}

/** An option is missing or malformed; the message names the option. */
export class FaasOptionError extends FaasExecutorError {}

/** A requested endpoint does not exist (or is not visible to this user); lists the closest names. */
export class EndpointNotFoundError extends FaasExecutorError {}

/** None of the requested endpoints came online in time. */
export class NoEndpointOnlineError extends FaasExecutorError {}

/** The service could not be reached for longer than the configured patience. */
export class ServiceUnavailableError extends FaasExecutorError {}

/** An endpoint cannot run the chunk function (missing Ristretto installation, allowlist, other revision). */
export class EndpointSetupError extends FaasExecutorError {}

/** A `tag:` selector in --endpoints matches no endpoint visible to the user; lists the endpoints and their tags. */
export class EndpointSelectorError extends FaasExecutorError {}
