/** The CustomerSession Durable Object of a customer: one per master customer id. */
export const sessionStub = (env: Env, customerId: string) => env.SESSIONS.getByName(customerId);
