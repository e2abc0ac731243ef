import { z } from "zod";

/** Block ids appear in URLs and in `{% render "id" %}`: lower-case, digits, `-` and `_`. Experiments name blocks too. */
export const BlockId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1-64 characters: a-z, 0-9, - and _, starting with a letter or digit");
