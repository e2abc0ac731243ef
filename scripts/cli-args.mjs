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
    return i >= 0 ? (args.splice(i, 1), true) : false;
  };
  return { option, flag, positional: () => args };
}

/** Where the admin scripts send their requests, and with which key. */
export function target(option) {
  return { url: option("url") ?? "http://127.0.0.1:8787", key: option("key") ?? process.env.RAPPORT_ADMIN_KEY ?? "ak_local_demo" };
}
