/** The cron that evaluates alert rules: every minute (wrangler.toml `[triggers] crons`). */
export const ALERTS_CRON = "* * * * *";
