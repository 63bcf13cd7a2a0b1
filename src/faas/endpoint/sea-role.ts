/** Environment variable that makes the single-executable endpoint run as a worker (set by the pool). */
export const SEA_ROLE_ENV = 'RISTRETTO_SEA_ROLE';
