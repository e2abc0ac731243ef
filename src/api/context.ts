import type { ApiKey } from "../keys/store";

/** What every route can read from the Hono context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    apiKey: ApiKey;
  };
};
