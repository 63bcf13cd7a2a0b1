/** The FaaS executor: run one analysis across several endpoints of a Ristretto FaaS service. */
export { FaasExecutor, type EndpointProgress, type FaasExecutorOptions, type FaasStats } from './executor.ts';
export {
  EndpointNotFoundError,
  EndpointSetupError,
  FaasExecutorError,
  FaasOptionError,
  NoEndpointOnlineError,
  ServiceUnavailableError,
} from './errors.ts';
export { mapPath, type PathMap } from './paths.ts';
export { StageOutError } from './stageout.ts';
