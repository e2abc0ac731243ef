import type { ConsoleSession } from "../keys/console-sessions";

/** What console handlers read from the Hono context: the signed-in session and its cookie token. */
export type ConsoleEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    session: ConsoleSession;
    token: string;
  };
};
