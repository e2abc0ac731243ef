// Command-line options of the small scripts: `--name value` options and `--flag` flags are taken
// out of the arguments, what remains is positional.
export function parseArgs(argv = process.argv.slice(2)) {
  const args = [...argv];
  const option = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const flag = (name) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return false;
    args.splice(i, 1);
    return true;
  };
  return { option, flag, positional: () => args };
}

/**
 * The Rapport the scripts talk to: `--url`, else `RAPPORT_URL`, else the local one on `PORT`
 * (8787 by default, as `npm start` serves it).
 */
export function defaultUrl() {
  return process.env.RAPPORT_URL || `http://127.0.0.1:${process.env.PORT || 8787}`;
}

/** Where the admin scripts send their requests, and with which key. */
export function target(option) {
  return { url: option("url") ?? defaultUrl(), key: option("key") ?? process.env.RAPPORT_ADMIN_KEY ?? "ak_local_demo" };
}

/** `--help` or `-h` anywhere: prints the usage and exits 0, before anything else runs. */
export function answerHelp(usage, argv = process.argv.slice(2)) {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage.trim());
    process.exit(0);
  }
}

/** What the URL and key options say, for every usage text. */
export const TARGET_HELP = `
  --url <url>        the Rapport to call (default: RAPPORT_URL, else http://127.0.0.1:$PORT, PORT 8787)
  --key <key>        an admin key (default: RAPPORT_ADMIN_KEY, else the local demo's ak_local_demo)`;
